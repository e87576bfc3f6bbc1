// Public API of the reviewer for other workspaces (the worker) and for tests.

export { costOf, DEFAULT_MODEL, PRICES, priceOf } from '@kritik/core';
export { main } from './cli/cli.js';
export { type CodeHost, CodeHostError } from './code-host/code-host.js';
export { createCodeHost, type HostSettings } from './code-host/create.js';
export { createOctokit, GitHubError, OctokitGitHub } from './code-host/github.js';
export { createGitLab, GitLabHost } from './code-host/gitlab.js';
export {
  DEFAULT_IGNORE,
  type KritikConfig,
  kritikConfigSchema,
  type LoadedConfig,
  loadConfig,
} from './config/config.js';
export { type DiffFile, fileFromPatch, type Hunk, parseUnifiedDiff } from './diff/diff.js';
export { DiffIndex, type Placement } from './diff/line-map.js';
export {
  AnthropicLlm,
  createAnthropic,
  DEFAULT_RETRY,
  LlmError,
  type LlmPort,
  type RetryPolicy,
} from './llm/anthropic.js';
export { buildRequest, SYSTEM_PROMPT, TOOL_NAME } from './prompt/prompt.js';
export { type ReviewRun, type ReviewSource, type RunReviewOptions, runReview } from './review/engine.js';
export { compactResult, coreResult, type ReviewReport, reviewReportSchema } from './review/result.js';
