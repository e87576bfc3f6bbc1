// Amazon Bedrock fake for tests: `POST /model/{id}/invoke` and `/invoke-with-response-stream` (AWS
// event-stream framing) answering with the Anthropic fake's messages, behind a SigV4 check of the
// credential, service and region; and STS's AssumeRoleWithWebIdentity, as IRSA's token file reaches it.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { type AnthropicMessage, FakeAnthropic, type MessagesRequest, streamEvents } from './anthropic.js';
import { type FakeReply, HttpFake, type RecordedRequest } from './http-fake.js';

/**
 * The `anthropic_version` Bedrock requires in the body: its own `bedrock-2023-05-31`, or the
 * Messages API version the SDK moves there from the `anthropic-version` header.
 */
export const ANTHROPIC_VERSION_IN_BODY = /^(bedrock-|vertex-)?\d{4}-\d{2}-\d{2}$/;

export interface AwsCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FakeBedrockOptions {
  /** The region this endpoint serves; a signature scoped to another is refused. */
  region: string;
}

/** One model invocation as Bedrock saw it. */
export interface BedrockInvocation {
  modelId: string;
  stream: boolean;
  region: string;
  accessKeyId: string;
  body: Record<string, unknown>;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export class FakeBedrock extends FakeAnthropic {
  private readonly credentials = new Map<string, AwsCredential>();
  private readonly seen: BedrockInvocation[] = [];

  constructor(private readonly bedrock: FakeBedrockOptions) {
    super();
    this.route('POST', '/model/{model}/invoke', (req, p) => this.invoke(req, p.model!, false));
    this.route('POST', '/model/{model}/invoke-with-response-stream', (req, p) => this.invoke(req, p.model!, true));
  }

  /** Accepts signatures made with this credential (an IAM user's, or one STS issued). */
  allow(credential: AwsCredential): this {
    this.credentials.set(credential.accessKeyId, credential);
    return this;
  }

  /** Every invocation that passed the signature check, in order. */
  invocations(): BedrockInvocation[] {
    return [...this.seen];
  }

  protected override errorReply(status: number, _req: RecordedRequest): FakeReply {
    return awsError(status, status === 429 ? 'ThrottlingException' : 'InternalServerException', 'Fake failure');
  }

  private async invoke(req: RecordedRequest, modelId: string, stream: boolean): Promise<FakeReply> {
    const auth = this.signature(req);
    if (typeof auth === 'string') return awsError(403, 'UnrecognizedClientException', auth);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return awsError(400, 'ValidationException', 'Malformed input request: body is not a JSON object');
    }
    const fields = body as Record<string, unknown>;
    // The model is in the path; Bedrock refuses the Messages API's own fields for it.
    for (const field of ['model', 'stream']) {
      if (field in fields) return awsError(400, 'ValidationException', `extraneous key [${field}] is not permitted`);
    }
    if (typeof fields.anthropic_version !== 'string' || !ANTHROPIC_VERSION_IN_BODY.test(fields.anthropic_version)) {
      return awsError(400, 'ValidationException', 'anthropic_version: a version is required in the body');
    }
    this.seen.push({ modelId, stream, region: auth.region, accessKeyId: auth.accessKeyId, body: fields });
    const answer = await this.answer({ ...(fields as unknown as MessagesRequest), model: modelId }, req);
    if ('error' in answer) {
      // Bedrock carries the model's own error text with its exception type.
      const error = answer.error.body as { error?: { message?: string } };
      return awsError(
        answer.error.status,
        bedrockException(answer.error.status),
        error.error?.message ?? 'Fake failure',
        answer.error.headers,
      );
    }
    if (!stream) return { status: 200, body: answer.message };
    return {
      status: 200,
      headers: {
        'content-type': 'application/vnd.amazon.eventstream',
        'x-amzn-bedrock-content-type': 'application/json',
      },
      body: eventStream(answer.message),
    };
  }

  /** The credential and region of a SigV4 Authorization header, or why it is refused. */
  private signature(req: RecordedRequest): { accessKeyId: string; region: string } | string {
    const header = String(req.headers.authorization ?? '');
    const match = SIGV4.exec(header);
    if (!match) return 'Missing or malformed SigV4 Authorization header';
    const [, accessKeyId, , region, service, signedHeaders] = match as unknown as string[];
    if (service !== 'bedrock') return `Credential should be scoped to correct service: 'bedrock', not '${service}'`;
    if (region !== this.bedrock.region) {
      return `Credential should be scoped to a valid region, not '${region}' (this endpoint is ${this.bedrock.region})`;
    }
    if (!req.headers['x-amz-date']) return 'Missing x-amz-date';
    if (!signedHeaders!.split(';').includes('host')) return 'host must be a signed header';
    const credential = this.credentials.get(accessKeyId!);
    if (!credential) return 'The security token included in the request is invalid';
    if (credential.sessionToken !== undefined && req.headers['x-amz-security-token'] !== credential.sessionToken) {
      return 'The security token included in the request is invalid';
    }
    return { accessKeyId: accessKeyId!, region: region! };
  }
}

function bedrockException(status: number): string {
  if (status === 429) return 'ThrottlingException';
  if (status === 400) return 'ValidationException';
  if (status === 403) return 'AccessDeniedException';
  if (status === 404) return 'ResourceNotFoundException';
  if (status === 529 || status === 503) return 'ServiceUnavailableException';
  return 'InternalServerException';
}

function awsError(status: number, type: string, message: string, headers: Record<string, string> = {}): FakeReply {
  return {
    status,
    headers: { ...headers, 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/` },
    body: { message },
  };
}

/** The message as Bedrock streams it: one `chunk` event per Anthropic stream event, its JSON base64 in `bytes`. */
export function eventStream(message: AnthropicMessage): Buffer {
  return Buffer.concat(
    streamEvents(message).map(([, data]) =>
      eventStreamMessage(
        { ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' },
        Buffer.from(JSON.stringify({ bytes: Buffer.from(JSON.stringify(data)).toString('base64') })),
      ),
    ),
  );
}

/**
 * One frame of the AWS event-stream encoding: total length, headers length, prelude CRC32,
 * string headers, payload, message CRC32 (all big-endian).
 */
export function eventStreamMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const encoded = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const n = Buffer.from(name);
      const v = Buffer.from(value);
      const head = Buffer.alloc(1 + n.length + 1 + 2);
      head.writeUInt8(n.length, 0);
      n.copy(head, 1);
      head.writeUInt8(7, 1 + n.length); // 7: string
      head.writeUInt16BE(v.length, 2 + n.length);
      return Buffer.concat([head, v]);
    }),
  );
  const total = 12 + encoded.length + payload.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(encoded.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const body = Buffer.concat([prelude, encoded, payload]);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, trailer]);
}

export interface FakeStsOptions {
  /** The role a token may assume. */
  roleArn: string;
  /** The projected service-account token IRSA mounts; any other is refused. */
  webIdentityToken: string;
  /** Where issued credentials become valid. */
  bedrock: FakeBedrock;
}

/** STS's AssumeRoleWithWebIdentity (AWS query protocol, XML answers), as the SDK's web identity provider calls it. */
export class FakeSts extends HttpFake {
  /** Credentials issued so far. */
  readonly issued: AwsCredential[] = [];

  constructor(private readonly options: FakeStsOptions) {
    super();
    this.route('POST', '/', (req) => this.assumeRole(req));
  }

  protected override errorReply(status: number): FakeReply {
    return stsError(status, 'InternalFailure', 'Fake failure');
  }

  private assumeRole(req: RecordedRequest): FakeReply {
    const form = new URLSearchParams(req.rawBody);
    if (form.get('Action') !== 'AssumeRoleWithWebIdentity') {
      return stsError(400, 'InvalidAction', `Could not find operation ${form.get('Action')}`);
    }
    if (form.get('RoleArn') !== this.options.roleArn) {
      return stsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    if (form.get('WebIdentityToken') !== this.options.webIdentityToken) {
      return stsError(400, 'InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider");
    }
    const credential: AwsCredential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
    };
    this.issued.push(credential);
    this.options.bedrock.allow(credential);
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    const session = form.get('RoleSessionName') ?? 'session';
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:kritik-jobs:kritik-reviewer</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>${this.options.roleArn.replace(':role/', ':assumed-role/')}/${session}</Arn>
      <AssumedRoleId>AROAFAKE:${session}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credential.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${credential.secretAccessKey}</SecretAccessKey>
      <SessionToken>${credential.sessionToken}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomBytes(16).toString('hex')}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
    };
  }
}

function stsError(status: number, code: string, message: string): FakeReply {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
  };
}
