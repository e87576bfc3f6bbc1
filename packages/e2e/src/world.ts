// The outside world of an end-to-end run (the GitHub App, its repository and pull requests, the
// model's answer) is the harness's (@kritik/testing world.ts); what only the platform's end-to-end
// runs add are the secrets the chart is given.
import { type AnthropicReply, findingsReply } from '@kritik/testing';

export {
  APP_ID,
  CHANGED_FILE,
  findingsReply,
  INSTALLATION_ID,
  OWNER,
  type PullRequestRef,
  REPO,
  World,
} from '@kritik/testing';

export const WEBHOOK_SECRET = 'e2e-webhook-secret-5f1d';
export const API_TOKEN = 'e2e-api-token-0123456789abcdef';
export const ANTHROPIC_API_KEY = 'sk-ant-e2e-0123456789';

/** The model's answers during a 429 storm of `ms` from the first call (Retry-After 1 s), then the finding. */
export function stormThenFindings(ms = 1_500): () => AnthropicReply {
  let stormStart: number | undefined;
  return () => {
    stormStart ??= Date.now();
    return Date.now() - stormStart < ms ? { error: { status: 429, headers: { 'retry-after': '1' } } } : findingsReply();
  };
}
