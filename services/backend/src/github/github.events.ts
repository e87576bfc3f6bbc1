// Maps GitHub webhook deliveries (event name + JSON payload) to platform-neutral intake events.
// Only the fields Kritik reads are validated; everything else in the payload is ignored.
import { z } from 'zod';
import {
  type IntakeEvent,
  PULL_REQUEST_CHANGES,
  type PullRequestChange,
  parsePayload,
} from '../intake/intake.event.js';

const user = z.object({ login: z.string().min(1), type: z.string().optional() });
const repository = z.object({ name: z.string().min(1), owner: z.object({ login: z.string().min(1) }) });
const installation = z.object({ id: z.number().int().positive() }).nullish();
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a commit SHA');

const pullRequestPayload = z.object({
  action: z.string(),
  pull_request: z.object({
    number: z.number().int().positive(),
    state: z.string(),
    draft: z.boolean().nullish(),
    user,
    head: z.object({ sha }),
    base: z.object({ sha: sha.nullish() }),
  }),
  label: z.object({ name: z.string() }).nullish(),
  repository,
  installation,
  sender: user,
});

/** Author associations of people who may change the repository. */
const MAINTAINERS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

const issueCommentPayload = z.object({
  action: z.string(),
  issue: z.object({
    number: z.number().int().positive(),
    state: z.string(),
    pull_request: z.object({}).passthrough().nullish(),
  }),
  comment: z.object({
    id: z.number().int().positive(),
    body: z.string().nullish(),
    user,
    author_association: z.string().nullish(),
  }),
  repository,
  installation,
});

const installationPayload = z.object({
  action: z.string(),
  installation: z.object({
    id: z.number().int().positive().optional(),
    account: z.object({ login: z.string() }).nullish(),
  }),
});

const isBot = (u: z.infer<typeof user>) => u.type === 'Bot' || u.login.endsWith('[bot]');
const actor = (u: z.infer<typeof user>) => ({ login: u.login, bot: isBot(u) });

/** The intake event of one GitHub delivery; throws MalformedEventError for a payload of the wrong shape. */
export function fromGitHub(event: string, payload: unknown): IntakeEvent {
  switch (event) {
    case 'pull_request': {
      const p = parsePayload(pullRequestPayload, event, payload);
      const pr = p.pull_request;
      const change = (PULL_REQUEST_CHANGES as readonly string[]).includes(p.action)
        ? (p.action as PullRequestChange)
        : { other: p.action };
      return {
        type: 'pull-request',
        change,
        pullRequest: {
          platform: 'github',
          repo: { owner: p.repository.owner.login, name: p.repository.name },
          number: pr.number,
          headSha: pr.head.sha,
          ...(pr.base.sha ? { baseSha: pr.base.sha } : {}),
          draft: pr.draft === true,
          open: pr.state === 'open',
          author: actor(pr.user),
          ...(p.installation ? { installationId: p.installation.id } : {}),
        },
        ...(p.label ? { label: p.label.name } : {}),
        sender: actor(p.sender),
      };
    }
    case 'issue_comment': {
      const p = parsePayload(issueCommentPayload, event, payload);
      if (!p.issue.pull_request) return { type: 'issue-comment' };
      return {
        type: 'comment',
        created: p.action === 'created',
        pullRequest: {
          platform: 'github',
          repo: { owner: p.repository.owner.login, name: p.repository.name },
          number: p.issue.number,
          open: p.issue.state === 'open',
          ...(p.installation ? { installationId: p.installation.id } : {}),
        },
        commentId: p.comment.id,
        body: p.comment.body ?? '',
        author: actor(p.comment.user),
        maintainer: MAINTAINERS.has(p.comment.author_association ?? ''),
      };
    }
    case 'installation':
    case 'installation_repositories': {
      const p = parsePayload(installationPayload, event, payload);
      return {
        type: 'installation',
        action: `${event}.${p.action}`,
        account: p.installation.account?.login ?? '',
        ...(p.installation.id ? { installationId: p.installation.id } : {}),
      };
    }
    case 'ping':
      return { type: 'ping' };
    default:
      return { type: 'unsupported', name: event };
  }
}
