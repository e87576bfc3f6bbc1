// The refusals of the Bedrock, STS and Google fakes, as raw HTTP: what the official SDKs would get
// for a missing signature, a foreign credential or token, or a bad frame. (The SDK round trips
// are in services/reviewer/test/providers.spec.ts.)
import { FakeBedrock, FakeGoogleOAuth, FakeSts, FakeVertex } from '../src/fakes/index.js';

const REGION = 'eu-central-1';
const KEY = { accessKeyId: 'AKIAFAKEFAKEFAKE0001', secretAccessKey: 'secret' };
const SIGNED = (region: string, key = KEY.accessKeyId) =>
  `AWS4-HMAC-SHA256 Credential=${key}/20261204/${region}/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'a'.repeat(64)}`;
const body = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 10,
  messages: [{ role: 'user', content: 'x' }],
});

describe(FakeBedrock.name, () => {
  let sut: FakeBedrock;
  beforeAll(async () => {
    sut = await new FakeBedrock({ region: REGION }).allow(KEY).start();
  });
  afterAll(() => sut.stop());

  const invoke = (headers: Record<string, string>, payload = body) =>
    fetch(`${sut.url}/model/${encodeURIComponent('anthropic.claude-haiku-4-5-20251001-v1:0')}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-date': '20261204T080000Z', ...headers },
      body: payload,
    });

  it('answers a signed invocation with a message named after the model in the path', async () => {
    const res = await invoke({ authorization: SIGNED(REGION) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'message', model: 'anthropic.claude-haiku-4-5-20251001-v1:0' });
  });

  it.each([
    ['no signature', {}, /Missing or malformed SigV4/],
    ['a signature for another region', { authorization: SIGNED('us-east-1') }, /not 'us-east-1'/],
    ['an unknown access key', { authorization: SIGNED(REGION, 'AKIAUNKNOWN000000001') }, /security token/],
  ])('refuses %s with 403 and records nothing', async (_name, headers, message) => {
    const res = await invoke(headers);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toMatch(/^UnrecognizedClientException/);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
    expect(sut.invocations().filter((i) => i.accessKeyId !== KEY.accessKeyId)).toEqual([]);
  });

  it('refuses the model in the body, as Bedrock does', async () => {
    const res = await invoke({ authorization: SIGNED(REGION) }, JSON.stringify({ ...JSON.parse(body), model: 'x' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'extraneous key [model] is not permitted' });
  });
});

describe(FakeSts.name, () => {
  const roleArn = 'arn:aws:iam::123456789012:role/kritik';
  let bedrock: FakeBedrock;
  let sut: FakeSts;
  beforeAll(async () => {
    bedrock = new FakeBedrock({ region: REGION });
    sut = await new FakeSts({ roleArn, webIdentityToken: 'projected.token.sig', bedrock }).start();
  });
  afterAll(() => sut.stop());

  const assume = (fields: Record<string, string>) =>
    fetch(sut.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', ...fields }),
    });

  it('refuses a token other than the one mounted, and issues nothing', async () => {
    const res = await assume({ RoleArn: roleArn, WebIdentityToken: 'forged', RoleSessionName: 's' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidIdentityToken</Code>');
    expect(sut.issued).toEqual([]);
  });

  it('refuses another role', async () => {
    const res = await assume({ RoleArn: `${roleArn}-admin`, WebIdentityToken: 'projected.token.sig' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });
});

describe(FakeVertex.name, () => {
  let oauth: FakeGoogleOAuth;
  let sut: FakeVertex;
  beforeAll(async () => {
    oauth = await new FakeGoogleOAuth().start();
    sut = await new FakeVertex(oauth, { project: 'p', region: 'us-east5' }).start();
  });
  afterAll(async () => {
    await Promise.all([sut.stop(), oauth.stop()]);
  });

  const predict = async (path: string) => {
    const token = (await (
      await fetch(`${oauth.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
        headers: { 'metadata-flavor': 'Google' },
      })
    ).json()) as { access_token: string };
    return fetch(`${sut.url}/v1/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        anthropic_version: 'vertex-2023-10-16',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
  };

  it('answers rawPredict with a token from the metadata server', async () => {
    const res = await predict(
      'projects/p/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model: 'claude-haiku-4-5@20251001' });
  });

  it('refuses another project or location with 403', async () => {
    const res = await predict('projects/q/locations/us-east5/publishers/anthropic/models/m:rawPredict');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { status: 'PERMISSION_DENIED' } });
  });

  it('gives no token to a request without Metadata-Flavor', async () => {
    const res = await fetch(`${oauth.url}/computeMetadata/v1/instance/service-accounts/default/token`);
    expect(res.status).toBe(403);
  });
});
