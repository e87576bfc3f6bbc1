// Maps GitHub webhook deliveries (event name + JSON payload) to platform-neutral intake events.
// Only the fields Kritik reads are validated; everything else in the payload is ignored.
import { CHECK_RUN_NAME } from '@kritik/core';
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

/** A comment as both conversation and review-thread events carry it. */
const comment = z.object({
  id: z.number().int().positive(),
  body: z.string().nullish(),
  user,
  author_association: z.string().nullish(),
});

const issueCommentPayload = z.object({
  action: z.string(),
  issue: z.object({
    number: z.number().int().positive(),
    state: z.string(),
    pull_request: z.object({}).passthrough().nullish(),
  }),
  comment,
  repository,
  installation,
});

const reviewCommentPayload = z.object({
  action: z.string(),
  pull_request: z.object({ number: z.number().int().positive(), state: z.string(), head: z.object({ sha }) }),
  comment,
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

/** The pull requests GitHub lists on a check run or suite (none for a fork's head). */
const checkPullRequests = z
  .array(z.object({ number: z.number().int().positive(), head: z.object({ sha }), base: z.object({ sha }).nullish() }))
  .nullish();

const checkRunPayload = z.object({
  action: z.string(),
  check_run: z.object({ name: z.string(), head_sha: sha, pull_requests: checkPullRequests }),
  repository,
  installation,
  sender: user,
});

const checkSuitePayload = z.object({
  action: z.string(),
  check_suite: z.object({ head_sha: sha, pull_requests: checkPullRequests }),
  repository,
  installation,
  sender: user,
});

const isBot = (u: z.infer<typeof user>) => u.type === 'Bot' || u.login.endsWith('[bot]');
const actor = (u: z.infer<typeof user>) => ({ login: u.login, bot: isBot(u) });

/** The pull request a delivery is about: repository, number and the installation that sent it. */
const pullRequestRef = (
  p: { repository: z.infer<typeof repository>; installation?: z.infer<typeof installation> },
  number: number,
) => ({
  platform: 'github' as const,
  repo: { owner: p.repository.owner.login, name: p.repository.name },
  number,
  ...(p.installation ? { installationId: p.installation.id } : {}),
});

/** What Kritik reads of a comment, in conversation and review-thread events alike. */
const commentFields = (c: z.infer<typeof comment>) => ({
  commentId: c.id,
  body: c.body ?? '',
  author: actor(c.user),
  maintainer: MAINTAINERS.has(c.author_association ?? ''),
});

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
        pullRequest: { ...pullRequestRef(p, p.issue.number), open: p.issue.state === 'open' },
        ...commentFields(p.comment),
      };
    }
    case 'pull_request_review_comment': {
      const p = parsePayload(reviewCommentPayload, event, payload);
      return {
        type: 'review-comment',
        created: p.action === 'created',
        pullRequest: {
          ...pullRequestRef(p, p.pull_request.number),
          open: p.pull_request.state === 'open',
          headSha: p.pull_request.head.sha,
        },
        ...commentFields(p.comment),
      };
    }
    case 'check_run':
    case 'check_suite': {
      const p =
        event === 'check_run'
          ? (() => {
              const run = parsePayload(checkRunPayload, event, payload);
              return { ...run, check: run.check_run };
            })()
          : (() => {
              const suite = parsePayload(checkSuitePayload, event, payload);
              return { ...suite, check: suite.check_suite };
            })();
      if (p.action !== 'rerequested') return { type: 'unsupported', name: `${event}.${p.action}` };
      if ('name' in p.check && p.check.name !== CHECK_RUN_NAME)
        return { type: 'rerun-elsewhere', reason: `check run ${p.check.name} is not Kritik's` };
      // The pull request whose head is the re-run commit; an older commit of it is not reviewed again.
      const pr = (p.check.pull_requests ?? []).find((x) => x.head.sha === p.check.head_sha);
      if (!pr) return { type: 'rerun-elsewhere', reason: `${p.check.head_sha.slice(0, 12)} is no pull request's head` };
      return {
        type: 'rerun',
        pullRequest: {
          ...pullRequestRef(p, pr.number),
          headSha: pr.head.sha,
          ...(pr.base?.sha ? { baseSha: pr.base.sha } : {}),
        },
        sender: actor(p.sender),
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
