// The GitLab side of an end-to-end run: one project on the GitLab fake with merge requests that
// change CHANGED_FILE (the model's finding is on its line 2), and hook deliveries as GitLab sends
// them (X-Gitlab-Token, X-Gitlab-Event-UUID, Idempotency-Key on retries).
import { randomUUID } from 'node:crypto';
import { CHANGED_FILE, FakeGitLab, shaOf, type WebhookAnswer } from '@kritik/testing';

export const GITLAB_PROJECT = 'acme/platform/web';
/** The user of the project access token Kritik posts with. */
export const GITLAB_BOT = 'project_9_bot_kritik';
export const GITLAB_WEBHOOK_SECRET = 'e2e-gitlab-webhook-token-9c2e';
/** The Secret the chart reads (`gitlab.existingSecret`) with the keys it names by default. */
export const GITLAB_SECRET_NAME = 'kritik-gitlab';

export interface MergeRequestRef {
  readonly iid: number;
  readonly headSha: string;
  readonly baseSha: string;
}

/** Three added lines; the model's finding is on the second. */
const diffFor = (label: string) => `@@ -0,0 +1,3 @@\n+const a = '${label}';\n+run(input);\n+export {};\n`;

export class GitLabWorld {
  private nextIid = 1;

  private constructor(readonly gitlab: FakeGitLab) {}

  static async start(): Promise<GitLabWorld> {
    const gitlab = await new FakeGitLab({ user: GITLAB_BOT }).start();
    gitlab.addProject(GITLAB_PROJECT, { files: { main: { 'README.md': '# web\n' } } });
    return new GitLabWorld(gitlab);
  }

  get url(): string {
    return this.gitlab.url;
  }

  get token(): string {
    return this.gitlab.token;
  }

  openMergeRequest(): MergeRequestRef {
    const iid = this.nextIid++;
    const headSha = shaOf(`gitlab-head-${iid}`);
    const baseSha = shaOf(`gitlab-base-${iid}`);
    this.gitlab.setFiles(GITLAB_PROJECT, headSha, { 'README.md': '# web\n', [CHANGED_FILE]: `const a = '${iid}';\n` });
    this.gitlab.addMergeRequest({
      project: GITLAB_PROJECT,
      iid,
      title: `Change ${iid}`,
      author: 'alice',
      sourceBranch: `feature-${iid}`,
      baseSha,
      headSha,
      diffs: [{ new_path: CHANGED_FILE, new_file: true, diff: diffFor(String(iid)) }],
    });
    return { iid, headSha, baseSha };
  }

  /** Pushes commit `n` to the merge request; the returned ref has the new head. */
  push(mr: MergeRequestRef, n: number): MergeRequestRef {
    const headSha = shaOf(`gitlab-head-${mr.iid}-${n}`);
    const change = { new_path: CHANGED_FILE, new_file: true, diff: diffFor(`${mr.iid}-${n}`) };
    this.gitlab.setFiles(GITLAB_PROJECT, headSha, { [CHANGED_FILE]: `const a = '${mr.iid}-${n}';\n` });
    this.gitlab.pushHead(GITLAB_PROJECT, mr.iid, headSha, [change], { mrDiffs: [change] });
    return { ...mr, headSha };
  }

  /** The `kritik` statuses of a head, oldest first. */
  statuses(mr: MergeRequestRef, sha = mr.headSha) {
    return this.gitlab.statuses(GITLAB_PROJECT, sha).filter((s) => s.name === 'kritik');
  }

  discussions(mr: MergeRequestRef) {
    return this.gitlab.discussions(GITLAB_PROJECT, mr.iid);
  }

  notes(mr: MergeRequestRef) {
    return this.gitlab.notes(GITLAB_PROJECT, mr.iid);
  }

  stop(): Promise<void> {
    return this.gitlab.stop();
  }
}

/** A `Merge Request Hook` payload with the fields GitLab always sends that Kritik reads, and a few it does not. */
export function mergeRequestHook(
  action: 'open' | 'reopen' | 'update' | 'close',
  mr: MergeRequestRef,
  options: { oldrev?: string } = {},
): Record<string, unknown> {
  const user = { id: 51, name: 'Alice', username: 'alice', avatar_url: null, email: '[REDACTED]' };
  const project = {
    id: 14,
    name: 'web',
    path_with_namespace: GITLAB_PROJECT,
    default_branch: 'main',
    web_url: `https://gitlab.example.com/${GITLAB_PROJECT}`,
  };
  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    user,
    project,
    object_attributes: {
      id: 9000 + mr.iid,
      iid: mr.iid,
      author_id: 51,
      title: `Change ${mr.iid}`,
      state: action === 'close' ? 'closed' : 'opened',
      draft: false,
      work_in_progress: false,
      source_branch: `feature-${mr.iid}`,
      target_branch: 'main',
      last_commit: { id: mr.headSha, message: 'Change\n', title: 'Change' },
      action,
      ...(options.oldrev ? { oldrev: options.oldrev } : {}),
      url: `https://gitlab.example.com/${GITLAB_PROJECT}/-/merge_requests/${mr.iid}`,
    },
    labels: [],
    changes: {},
    repository: { name: 'web', homepage: project.web_url },
  };
}

/** A `Note Hook` payload: a comment on the merge request by `username` (user `userId`). */
export function noteHook(
  mr: MergeRequestRef,
  note: string,
  id: number,
  username = 'bob',
  userId = 52,
): Record<string, unknown> {
  const hook = mergeRequestHook('update', mr);
  return {
    object_kind: 'note',
    event_type: 'note',
    user: { id: userId, name: username, username, avatar_url: null, email: '[REDACTED]' },
    project_id: 14,
    project: hook.project,
    object_attributes: {
      id,
      note,
      noteable_type: 'MergeRequest',
      noteable_id: 9000 + mr.iid,
      author_id: userId,
      system: false,
      action: 'create',
      url: `https://gitlab.example.com/${GITLAB_PROJECT}/-/merge_requests/${mr.iid}#note_${id}`,
    },
    repository: hook.repository,
    merge_request: { ...(hook.object_attributes as Record<string, unknown>), action: undefined },
  };
}

export interface GitLabDelivery {
  readonly event: string;
  readonly body: string;
  readonly eventUuid: string;
  readonly idempotencyKey: string;
}

export function gitlabDelivery(event: string, payload: unknown, idempotencyKey: string = randomUUID()): GitLabDelivery {
  return { event, body: JSON.stringify(payload), eventUuid: randomUUID(), idempotencyKey };
}

/** POSTs a delivery to /webhooks/gitlab with GitLab's headers. */
export async function sendGitLabWebhook(backendUrl: string, token: string, d: GitLabDelivery): Promise<WebhookAnswer> {
  const response = await fetch(`${backendUrl}/webhooks/gitlab`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitLab/17.6.0',
      'x-gitlab-event': d.event,
      'x-gitlab-event-uuid': d.eventUuid,
      'idempotency-key': d.idempotencyKey,
      'x-gitlab-instance': 'https://gitlab.example.com',
      'x-gitlab-token': token,
    },
    body: d.body,
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}
