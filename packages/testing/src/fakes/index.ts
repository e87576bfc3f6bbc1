// Wire-level fakes of the services tests cannot reach: GitHub REST and the Anthropic Messages API.
export * from './anthropic.js';
export * from './github.js';
export { type AppKeyPair, generateAppKeyPair } from './github-auth.js';
export type * from './github-types.js';
export type { FakeReply, RecordedRequest, RouteScope } from './http-fake.js';
export { buildTarball, type TarEntry } from './tarball.js';
