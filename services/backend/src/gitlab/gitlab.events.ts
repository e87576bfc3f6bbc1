// Maps GitLab webhook deliveries (X-Gitlab-Event + JSON payload) to platform-neutral intake events,
// as github.events.ts does for GitHub. Only the fields Kritik reads are validated.
import { discussionIdSchema, repoRefOf } from '@kritik/core';
import { z } from 'zod';
import { type Actor, type IntakeEvent, type PullRequestChange, parsePayload } from '../intake/intake.event.js';

/** The X-Gitlab-Event names Kritik acts on. */
export const GITLAB_EVENTS = { mergeRequest: 'Merge Request Hook', note: 'Note Hook' } as const;

const user = z.object({ id: z.number().int(), username: z.string().min(1) });
const project = z.object({
  // `group/sub/project`: the namespace (nested groups kept) is the owner, the last segment the name.
  // GitLab's path rule: letters, digits, `_`, `-`, `.`, not starting with `-` or `.`.
  path_with_namespace: z.string().regex(/^\w[\w.-]*(\/\w[\w.-]*)+$/, 'must be namespace/project'),
});
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a commit SHA');
const flip = z.object({ previous: z.unknown(), current: z.unknown() }).nullish();

const mergeRequestPayload = z.object({
  object_kind: z.literal('merge_request'),
  user,
  project,
  object_attributes: z.object({
    iid: z.number().int().positive(),
    state: z.string(),
    action: z.string().nullish(),
    author_id: z.number().int(),
    title: z.string().nullish(),
    draft: z.boolean().nullish(),
    work_in_progress: z.boolean().nullish(),
    last_commit: z.object({ id: sha }),
    /** The head before this update: present only when the update pushed commits. */
    oldrev: sha.nullish(),
  }),
  changes: z
    .object({
      draft: flip,
      work_in_progress: flip,
      labels: z
        .object({
          previous: z.array(z.object({ title: z.string() })),
          current: z.array(z.object({ title: z.string() })),
        })
        .nullish(),
    })
    .passthrough()
    .nullish(),
});

const notePayload = z.object({
  object_kind: z.literal('note'),
  user,
  project,
  object_attributes: z.object({
    id: z.number().int().positive(),
    note: z.string().nullish(),
    noteable_type: z.string(),
    /** `create` or `update`; older GitLab versions send none (and only for new notes). */
    action: z.string().nullish(),
    system: z.boolean().nullish(),
    /** `DiffNote` for every note of a discussion on the diff (its first and the replies). */
    type: z.string().nullish(),
    /** Every note has one: the discussion a reply joins, or its own when it stands alone. */
    discussion_id: z.string().nullish(),
  }),
  merge_request: z
    .object({
      iid: z.number().int().positive(),
      state: z.string(),
      last_commit: z.object({ id: sha }).nullish(),
    })
    .nullish(),
});

/**
 * The users GitLab creates for project and group access tokens (`project_42_bot_<hash>`), and its
 * service accounts: Kritik posts as one of these, and its own notes must never command it.
 */
const BOT_USERNAME = /^(project|group)_\d+_bot(_[0-9a-f]+)?$|^service_account_/;

const actor = (u: z.infer<typeof user>): Actor => ({ login: u.username, bot: BOT_USERNAME.test(u.username) });

const repoOf = (p: z.infer<typeof project>) => repoRefOf(p.path_with_namespace);

const DRAFT_TITLE = /^\s*(\[draft\]|\(draft\)|draft:|draft\s+-|\[wip\]|wip:)/i;

/** GitLab's draft flag, its older name, or the title prefix that sets them. */
function isDraft(mr: z.infer<typeof mergeRequestPayload>['object_attributes']): boolean {
  return mr.draft ?? mr.work_in_progress ?? DRAFT_TITLE.test(mr.title ?? '');
}

/** The labels an update added: GitLab sends the list before and after. */
function addedLabels(p: z.infer<typeof mergeRequestPayload>): string[] {
  const labels = p.changes?.labels;
  if (!labels) return [];
  const before = new Set(labels.previous.map((l) => l.title));
  return labels.current.map((l) => l.title).filter((title) => !before.has(title));
}

/** Which GitLab merge request actions can start a review; an `update` only with new commits, out of draft or with labels added. */
function changeOf(p: z.infer<typeof mergeRequestPayload>): PullRequestChange | { other: string } {
  const action = p.object_attributes.action ?? 'unknown';
  switch (action) {
    case 'open':
      return 'opened';
    case 'reopen':
      return 'reopened';
    case 'update': {
      if (p.object_attributes.oldrev) return 'synchronize';
      const draft = p.changes?.draft ?? p.changes?.work_in_progress;
      if (draft?.previous === true && draft.current === false) return 'ready_for_review';
      if (addedLabels(p).length > 0) return 'labeled';
      return { other: 'update' };
    }
    default:
      return { other: action };
  }
}

/** The intake event of one GitLab delivery; throws MalformedEventError for a payload of the wrong shape. */
export function fromGitLab(event: string, payload: unknown): IntakeEvent {
  switch (event) {
    case GITLAB_EVENTS.mergeRequest: {
      const p = parsePayload(mergeRequestPayload, event, payload);
      const mr = p.object_attributes;
      const sender = actor(p.user);
      const change = changeOf(p);
      return {
        type: 'pull-request',
        change,
        ...(change === 'labeled' ? { labels: addedLabels(p) } : {}),
        pullRequest: {
          platform: 'gitlab',
          repo: repoOf(p.project),
          number: mr.iid,
          // The hook carries no base commit; the reviewer reads the merge request's diff_refs.
          headSha: mr.last_commit.id,
          draft: isDraft(mr),
          open: mr.state === 'opened',
          // The hook names the author by id only: the sender is the author when the ids match,
          // otherwise nothing is known of the author but that id.
          author: p.user.id === mr.author_id ? sender : { login: `user-${mr.author_id}`, bot: false },
        },
        sender,
      };
    }
    case GITLAB_EVENTS.note: {
      const p = parsePayload(notePayload, event, payload);
      const note = p.object_attributes;
      if (note.noteable_type !== 'MergeRequest' || !p.merge_request) return { type: 'issue-comment' };
      const author = actor(p.user);
      const comment = {
        created: (note.action ?? 'create') === 'create',
        commentId: note.id,
        body: note.note ?? '',
        // GitLab's own notes (a push, a label change) are written as the user who acted.
        author: note.system ? { ...author, bot: true } : author,
        // The hook does not carry the author's role in the project: the worker asks GitLab
        // (docs/adr/0047).
        maintainer: 'unknown' as const,
        authorId: p.user.id,
      };
      const pullRequest = {
        platform: 'gitlab' as const,
        repo: repoOf(p.project),
        number: p.merge_request.iid,
        open: p.merge_request.state === 'opened',
      };
      const headSha = p.merge_request.last_commit?.id;
      // A note of a discussion on the diff is GitHub's review comment: its id is the thread
      // reference, the reviewer finds the discussion that holds it.
      if (note.type === 'DiffNote' && headSha)
        return { type: 'review-comment', pullRequest: { ...pullRequest, headSha }, ...comment };
      return {
        type: 'comment',
        pullRequest,
        ...comment,
        // A malformed id loses only the threading: the answer then comes as a note of its own.
        ...(discussionIdSchema.safeParse(note.discussion_id).success ? { discussionId: note.discussion_id! } : {}),
      };
    }
    default:
      return { type: 'unsupported', name: event };
  }
}
