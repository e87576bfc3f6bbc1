// Wire-level fakes of the services tests cannot reach: GitHub REST, GitLab REST v4, the Anthropic
// Messages API, Amazon Bedrock (with STS) and Vertex AI (with Google's token endpoint).
export * from './anthropic.js';
export * from './bedrock.js';
export * from './github.js';
export { type AppKeyPair, generateAppKeyPair } from './github-auth.js';
export type * from './github-types.js';
export * from './gitlab.js';
export type { FakeReply, RecordedRequest, RouteScope } from './http-fake.js';
export { buildTarball, type TarEntry } from './tarball.js';
export * from './vertex.js';
