// Vertex AI fake for tests: Anthropic models' `:rawPredict` and `:streamRawPredict` under
// /v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}, answering with the Anthropic
// fake's messages behind an OAuth bearer check; and Google's token issuers: the OAuth endpoint a
// service-account key's signed JWT is exchanged at, and the metadata server GKE Workload Identity
// answers on (reached through GCE_METADATA_HOST).
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { FakeAnthropic, type MessagesRequest, sse } from './anthropic.js';
import { ANTHROPIC_VERSION_IN_BODY } from './bedrock.js';
import { type FakeReply, HttpFake, type RecordedRequest } from './http-fake.js';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
/** Where Google's client libraries exchange a service-account JWT for an access token. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface VertexPrediction {
  project: string;
  region: string;
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
}

/** A service-account key file as the Cloud console hands it out. */
export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export class FakeVertex extends FakeAnthropic {
  private readonly seen: VertexPrediction[] = [];

  constructor(
    private readonly oauth: FakeGoogleOAuth,
    private readonly vertex: { project: string; region: string },
  ) {
    super();
    this.route('POST', '/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{call}', (req, p) =>
      this.predict(req, p.project!, p.region!, p.call!),
    );
  }

  predictions(): VertexPrediction[] {
    return [...this.seen];
  }

  protected override errorReply(status: number): FakeReply {
    return googleError(status, status === 429 ? 'RESOURCE_EXHAUSTED' : 'INTERNAL', 'Fake failure');
  }

  private async predict(req: RecordedRequest, project: string, region: string, call: string): Promise<FakeReply> {
    const [model, method] = call.split(':');
    if (!model || (method !== 'rawPredict' && method !== 'streamRawPredict')) {
      return googleError(404, 'NOT_FOUND', `Unknown method ${call}`);
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!bearer || !this.oauth.isValid(bearer)) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    if (project !== this.vertex.project || region !== this.vertex.region) {
      return googleError(403, 'PERMISSION_DENIED', `Permission denied on projects/${project}/locations/${region}`);
    }
    const fields = req.body as Record<string, unknown> | undefined;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    if ('model' in fields) return googleError(400, 'INVALID_ARGUMENT', 'model: the model is named in the URL');
    if (typeof fields.anthropic_version !== 'string' || !ANTHROPIC_VERSION_IN_BODY.test(fields.anthropic_version)) {
      return googleError(400, 'INVALID_ARGUMENT', 'anthropic_version: a version is required in the body');
    }
    const stream = method === 'streamRawPredict';
    this.seen.push({ project, region, model, stream, body: fields });
    const request = { ...(fields as unknown as MessagesRequest), model, stream };
    const answer = await this.answer(request, req);
    // Model errors (overloaded, rate limits) come back in Anthropic's own shape, as Vertex relays them.
    if ('error' in answer) return answer.error;
    if (!stream) return { status: 200, body: answer.message };
    return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' }, body: sse(answer.message) };
  }
}

function googleError(code: number, status: string, message: string): FakeReply {
  return { status: code, body: { error: { code, message, status } } };
}

/**
 * Google's token issuers: `POST /token` for a service-account key's signed JWT, and the metadata
 * server's `default` service-account token, as GKE Workload Identity serves it to a pod.
 */
export class FakeGoogleOAuth extends HttpFake {
  private readonly keys = new Map<string, ReturnType<typeof createPublicKey>>();
  private readonly tokens = new Set<string>();

  constructor(private readonly metadata: { project: string } = { project: 'kritik-test' }) {
    super();
    this.route('POST', '/token', (req) => this.token(req));
    this.route('GET', '/computeMetadata/v1/instance', (req) => this.fromMetadata(req, () => ''));
    this.route('GET', '/computeMetadata/v1/project/project-id', (req) =>
      this.fromMetadata(req, () => this.metadata.project),
    );
    this.route('GET', '/computeMetadata/v1/instance/service-accounts/default/token', (req) =>
      this.fromMetadata(req, () => ({ access_token: this.mint(), expires_in: 3599, token_type: 'Bearer' })),
    );
  }

  /** The metadata server answers only requests that carry `Metadata-Flavor: Google`, and says it is Google's. */
  private fromMetadata(req: RecordedRequest, body: () => unknown): FakeReply {
    const headers = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') return { status: 403, headers, body: 'Missing Metadata-Flavor' };
    return { status: 200, headers, body: body() };
  }

  private mint(): string {
    const token = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.tokens.add(token);
    return token;
  }

  /** A new service-account key whose JWTs this endpoint accepts. */
  serviceAccountKey(project: string, name = 'kritik-reviewer'): ServiceAccountKey {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const email = `${name}@${project}.iam.gserviceaccount.com`;
    this.keys.set(email, createPublicKey(publicKey));
    return {
      type: 'service_account',
      project_id: project,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey,
      client_email: email,
      client_id: String(100_000_000_000 + this.keys.size),
      token_uri: `${this.url}/token`,
    };
  }

  /** Whether this endpoint issued the access token. */
  isValid(token: string): boolean {
    return this.tokens.has(token);
  }

  get issued(): number {
    return this.tokens.size;
  }

  protected override errorReply(status: number): FakeReply {
    return { status, body: { error: 'internal_failure', error_description: 'Fake failure' } };
  }

  private token(req: RecordedRequest): FakeReply {
    const form = new URLSearchParams(req.rawBody);
    const refuse = (description: string) => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: description },
    });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return refuse('unsupported grant');
    const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
    if (!header || !payload || !signature) return refuse('Invalid JWT');
    let claims: { iss?: string; aud?: string; scope?: string; exp?: number };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return refuse('Invalid JWT payload');
    }
    const key = claims.iss ? this.keys.get(claims.iss) : undefined;
    if (!key) return refuse('Invalid JWT: unknown service account');
    const valid = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
    if (!valid) return refuse('Invalid JWT Signature.');
    // google-auth-library addresses every key's JWT to Google's endpoint, whatever its token_uri says.
    if (claims.aud !== GOOGLE_TOKEN_URL && claims.aud !== `${this.url}/token`) return refuse('Invalid JWT: audience');
    if (!(claims.scope ?? '').split(' ').includes(CLOUD_PLATFORM)) return refuse('Invalid JWT: scope');
    if (!claims.exp || claims.exp * 1000 < Date.now()) return refuse('Invalid JWT: Token must be a short-lived token');
    return { status: 200, body: { access_token: this.mint(), expires_in: 3599, token_type: 'Bearer' } };
  }
}
