// In-memory GitLab REST API v4 for tests: projects (by id or URL-encoded path), merge requests and
// their diffs, files, archives, compare, discussions, notes and commit statuses, in GitLab's wire format.
import { createHash, randomBytes } from 'node:crypto';
import type { GitLabRequester } from '@kritik/core';
import { type Hunk, parseHunks } from './github-patch.js';
import { type FakeReply, HttpFake, type RecordedRequest, type RouteScope } from './http-fake.js';
import { buildTarball, type TarEntry } from './tarball.js';

/** One file of a merge request's diff as a test gives it; `diff` is the hunks, as GitLab sends them. */
export interface GitLabDiffInput {
  new_path: string;
  old_path?: string;
  diff?: string;
  new_file?: boolean;
  deleted_file?: boolean;
  renamed_file?: boolean;
  /** GitLab leaves `diff` empty for files over its limits and says so here. */
  too_large?: boolean;
  generated_file?: boolean;
}

export interface GitLabDiff {
  old_path: string;
  new_path: string;
  a_mode: string;
  b_mode: string;
  diff: string;
  new_file: boolean;
  renamed_file: boolean;
  deleted_file: boolean;
  generated_file: boolean;
  too_large: boolean;
  collapsed: boolean;
}

export interface GitLabUser {
  id: number;
  username: string;
  name: string;
  state: 'active';
  bot: boolean;
  web_url: string;
}

export interface GitLabPosition {
  base_sha: string;
  start_sha: string;
  head_sha: string;
  position_type: 'text';
  old_path: string;
  new_path: string;
  old_line: number | null;
  new_line: number | null;
  /** A comment on several lines: its first and last line (null for a single line). */
  line_range?: { start: GitLabLineRangeEnd; end: GitLabLineRangeEnd } | null;
}

export interface GitLabLineRangeEnd {
  /** `sha1(path)_<old>_<new>`: the old side's counter for an added line. */
  line_code: string;
  type: 'new' | 'old';
  old_line: number | null;
  new_line: number | null;
}

export interface GitLabNote {
  id: number;
  type: 'DiffNote' | 'DiscussionNote' | null;
  body: string;
  author: GitLabUser;
  created_at: string;
  updated_at: string;
  system: boolean;
  noteable_id: number;
  noteable_type: 'MergeRequest';
  noteable_iid: number;
  resolvable: boolean;
  resolved?: boolean;
  resolved_by?: GitLabUser | null;
  position?: GitLabPosition;
}

export interface GitLabDiscussion {
  id: string;
  individual_note: boolean;
  notes: GitLabNote[];
}

export type GitLabStatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped';

export interface GitLabCommitStatus {
  id: number;
  sha: string;
  ref: string | null;
  status: GitLabStatusState;
  name: string;
  target_url: string | null;
  description: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  allow_failure: boolean;
  coverage: number | null;
  pipeline_id: number;
  author: GitLabUser;
}

export interface GitLabProjectInput {
  defaultBranch?: string;
  /** Files by ref (branch name or SHA): `{ main: { 'README.md': '…' } }`. */
  files?: Record<string, Record<string, string>>;
  visibility?: 'private' | 'internal' | 'public';
}

export interface MergeRequestInput {
  /** The project's full path, `group/sub/proj`. */
  project: string;
  iid: number;
  title?: string;
  description?: string | null;
  draft?: boolean;
  state?: 'opened' | 'closed' | 'merged' | 'locked';
  /** Label names: GitLab lists names (objects only for `with_labels_details`, which Kritik does not ask). */
  labels?: string[];
  author?: string;
  sourceBranch?: string;
  targetBranch?: string;
  /** The merge base the MR diff starts from (`diff_refs.base_sha`). */
  baseSha: string;
  /** The target branch's head when the diff was computed; `baseSha` unless given. */
  startSha?: string;
  headSha: string;
  diffs?: GitLabDiffInput[];
}

interface ProjectState {
  id: number;
  path: string;
  defaultBranch: string;
  visibility: string;
  refs: Map<string, Map<string, string>>;
  mrs: Map<number, MrState>;
  archives: Map<string, Buffer>;
  /** `from...to` → what compare answers; `from...to` → merge base. */
  comparisons: Map<string, GitLabDiff[]>;
  mergeBases: Map<string, string>;
  statuses: GitLabCommitStatus[];
}

interface MrState {
  id: number;
  input: MergeRequestInput;
  diffRefs: { base_sha: string; start_sha: string; head_sha: string };
  diffs: GitLabDiff[];
  /** The MR's diffs as of each head it has had: a position names the head it was made against. */
  diffsAt: Map<string, GitLabDiff[]>;
  discussions: GitLabDiscussion[];
  /** Award emoji by note id: name and who gave it. */
  awards: Map<number, { name: string; user: string }[]>;
  createdAt: string;
  updatedAt: string;
}

interface Grant {
  username: string;
  /** Project paths (lower case) the token reaches; every project when undefined. */
  projects?: Set<string>;
  /** An OAuth access token: GitLab answers 401 `invalid_token` once it has expired. */
  oauth?: { clientId: string; expiresAt: number };
}

interface Ctx {
  req: RecordedRequest;
  params: Record<string, string>;
  grant: Grant;
  project: ProjectState;
}

const API = '/api/v4';
const STATUS_STATES: GitLabStatusState[] = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'];
const FINISHED: GitLabStatusState[] = ['success', 'failed', 'canceled', 'skipped'];
/** GitLab's state machine events, named in its 400 when a transition is refused. */
const EVENTS: Record<GitLabStatusState, string> = {
  pending: 'enqueue',
  running: 'run',
  success: 'success',
  failed: 'drop',
  canceled: 'cancel',
  skipped: 'skip',
};
const DEFAULT_AUTHOR = 'contributor';
/** GitLab's OAuth access tokens last two hours. */
const OAUTH_TOKEN_SECONDS = 7200;
/** Scopes an OAuth application may ask for (the ones tests meet). */
const OAUTH_SCOPES = ['api', 'read_api', 'read_user', 'read_repository', 'openid', 'profile', 'email'];
const INVALID_POSITION =
  '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"], :position=>["is incomplete"]}';

function message(status: number, text: string): FakeReply {
  return { status, body: { message: text } };
}

function now(): string {
  return new Date().toISOString();
}

function numericId(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0) % 10_000_000;
}

function asObject(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

/**
 * The request's parameters as GitLab reads them: a JSON body, a form (url-encoded or multipart,
 * which gitbeaker sends for positions) with `position[new_line]` nested, or the query string.
 */
function params(req: RecordedRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  const json = asObject(req.body);
  // GitLab reads the query string and the body alike.
  if (json && type.includes('json')) return { ...req.query, ...json };
  const pairs: [string, string][] = [];
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (type.startsWith('multipart/form-data') && boundary) {
    for (const part of req.rawBody.split(`--${boundary[1] ?? boundary[2]}`)) {
      const m = /name="([^"]+)"[^\r]*\r\n(?:[^\r]+\r\n)*\r\n([\s\S]*)\r\n$/.exec(part);
      if (m) pairs.push([m[1]!, m[2]!]);
    }
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    pairs.push(...new URLSearchParams(req.rawBody));
  }
  const out: Record<string, unknown> = { ...req.query };
  for (const [key, value] of pairs) {
    // `position[line_range][start][line_code]`: Rails nests brackets to any depth.
    const path = /^([^[]+)((?:\[[^\]]+\])*)$/.exec(key);
    const names = path ? [path[1]!, ...[...path[2]!.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!)] : [key];
    let into = out;
    for (const name of names.slice(0, -1)) {
      const inner = asObject(into[name]) ?? {};
      into[name] = inner;
      into = inner;
    }
    into[names.at(-1)!] = value;
  }
  return out;
}

/** One parameter of the request, wherever it was given. */
function field(c: Ctx, name: string): unknown {
  return params(c.req)[name];
}

export class FakeGitLab extends HttpFake {
  /** A personal access token of `user` reaching every project. */
  readonly token = `glpat-${randomBytes(10).toString('hex')}`;
  readonly user: string;
  private readonly projects = new Map<string, ProjectState>();
  private readonly grants = new Map<string, Grant>();
  private nextId = 1;

  constructor(options: { user?: string } = {}) {
    super();
    this.user = options.user ?? 'kritik-bot';
    this.grants.set(this.token, { username: this.user });
    this.registerRoutes();
    this.registerOAuthRoutes();
    this.registerMemberRoutes();
  }

  /** Base URL of the instance, as configured in GITLAB_URL; the API is under `/api/v4`. */
  get apiUrl(): string {
    return `${this.url}${API}`;
  }

  // ---- state API for tests ----

  addProject(path: string, input: GitLabProjectInput = {}): this {
    const defaultBranch = input.defaultBranch ?? 'main';
    const refs = new Map(
      Object.entries(input.files ?? {}).map(([ref, files]) => [ref, new Map(Object.entries(files))]),
    );
    if (!refs.has(defaultBranch)) refs.set(defaultBranch, new Map());
    this.projects.set(path.toLowerCase(), {
      id: this.nextId++,
      path,
      defaultBranch,
      visibility: input.visibility ?? 'private',
      refs,
      mrs: new Map(),
      archives: new Map(),
      comparisons: new Map(),
      mergeBases: new Map(),
      statuses: [],
    });
    return this;
  }

  /** Sets (merges) the files of a ref. */
  setFiles(project: string, ref: string, files: Record<string, string>): this {
    const refs = this.projectOrThrow(project).refs;
    const current = refs.get(ref) ?? new Map<string, string>();
    for (const [path, content] of Object.entries(files)) current.set(path, content);
    refs.set(ref, current);
    return this;
  }

  /** Serves `bytes` as the archive of `sha` instead of one built from its files (hostile archives). */
  setArchive(project: string, sha: string, bytes: Buffer): this {
    this.projectOrThrow(project).archives.set(sha, bytes);
    return this;
  }

  addMergeRequest(input: MergeRequestInput): this {
    const project = this.projectOrThrow(input.project);
    const diffs = (input.diffs ?? []).map(diffJson);
    const created = now();
    project.mrs.set(input.iid, {
      id: this.nextId++,
      input,
      diffRefs: { base_sha: input.baseSha, start_sha: input.startSha ?? input.baseSha, head_sha: input.headSha },
      diffs,
      diffsAt: new Map([[input.headSha, diffs]]),
      discussions: [],
      awards: new Map(),
      createdAt: created,
      updatedAt: created,
    });
    project.comparisons.set(`${input.baseSha}...${input.headSha}`, diffs);
    project.mergeBases.set(`${input.baseSha}...${input.headSha}`, input.baseSha);
    return this;
  }

  /** Someone set the merge request's labels. */
  setLabels(project: string, iid: number, labels: string[]): this {
    this.mrOrThrow(project, iid).input.labels = labels;
    return this;
  }

  /**
   * A new push: `changed` is what compare answers between the previous head and `newSha`; the MR's
   * diffs become `mrDiffs`, or the old ones with `changed` merged in by path. A `rewritten` push
   * (force-push) has the MR's base as merge base with the previous head, not the previous head.
   */
  pushHead(
    project: string,
    iid: number,
    newSha: string,
    changed: GitLabDiffInput[],
    options: { mrDiffs?: GitLabDiffInput[]; rewritten?: boolean } = {},
  ): this {
    const state = this.projectOrThrow(project);
    const mr = this.mrOrThrow(project, iid);
    const previous = mr.diffRefs.head_sha;
    const changedJson = changed.map(diffJson);
    state.comparisons.set(`${previous}...${newSha}`, changedJson);
    state.mergeBases.set(`${previous}...${newSha}`, options.rewritten ? mr.diffRefs.base_sha : previous);
    if (options.mrDiffs) {
      mr.diffs = options.mrDiffs.map(diffJson);
    } else {
      const byPath = new Map(mr.diffs.map((d) => [d.new_path, d]));
      for (const d of changedJson) byPath.set(d.new_path, d);
      mr.diffs = [...byPath.values()];
    }
    mr.diffRefs = { ...mr.diffRefs, head_sha: newSha };
    mr.diffsAt.set(newSha, mr.diffs);
    mr.updatedAt = now();
    state.comparisons.set(`${mr.diffRefs.base_sha}...${newSha}`, mr.diffs);
    state.mergeBases.set(`${mr.diffRefs.base_sha}...${newSha}`, mr.diffRefs.base_sha);
    return this;
  }

  /** Registers another accepted token (a project or group access token's bot), optionally limited to projects. */
  addToken(token: string, scope: { username?: string; projects?: string[] } = {}): this {
    this.grants.set(token, {
      username: scope.username ?? this.user,
      projects: scope.projects && new Set(scope.projects.map((p) => p.toLowerCase())),
    });
    return this;
  }

  /** The next `n` matching requests get GitLab's 429 with `Retry-After: seconds`. */
  rateLimitNext(n: number, retryAfterSeconds: number, scope?: RouteScope): this {
    return this.failNext(n, { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } }, scope);
  }

  /** Core's requester over plain fetch with `token`, as a worker holding its own client calls the fake. */
  requester(token = this.token): GitLabRequester {
    return {
      request: async (method, path, body) => {
        const response = await fetch(`${this.apiUrl}${path}`, {
          method,
          headers: { 'private-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
        return response.json();
      },
    };
  }

  // ---- recorders ----

  discussions(project: string, iid: number): GitLabDiscussion[] {
    return this.mrOrThrow(project, iid).discussions.filter((d) => !d.individual_note);
  }

  /** The award emoji on a note, as `name by user`. */
  awards(project: string, iid: number, noteId: number): string[] {
    return (this.mrOrThrow(project, iid).awards.get(noteId) ?? []).map((a) => `${a.name} by ${a.user}`);
  }

  /** Every note of the merge request, in order (diff notes and plain notes). */
  notes(project: string, iid: number): GitLabNote[] {
    return this.mrOrThrow(project, iid).discussions.flatMap((d) => d.notes);
  }

  /** Notes that are not on a line (the summary). */
  summaryNotes(project: string, iid: number): GitLabNote[] {
    return this.mrOrThrow(project, iid)
      .discussions.filter((d) => d.individual_note)
      .flatMap((d) => d.notes);
  }

  statuses(project: string, sha?: string): GitLabCommitStatus[] {
    return this.projectOrThrow(project).statuses.filter((s) => sha === undefined || s.sha === sha);
  }

  mergeRequest(project: string, iid: number): { diffRefs: MrState['diffRefs']; diffs: GitLabDiff[] } {
    const mr = this.mrOrThrow(project, iid);
    return { diffRefs: { ...mr.diffRefs }, diffs: [...mr.diffs] };
  }

  // ---- wire format ----

  protected override errorReply(status: number): FakeReply {
    if (status === 429) return { status, headers: { 'content-type': 'text/plain' }, body: 'Retry later\n' };
    const texts: Record<number, string> = {
      400: '400 Bad request',
      401: '401 Unauthorized',
      403: '403 Forbidden',
      404: '404 Not Found',
      500: '500 Internal Server Error',
      502: '502 Bad Gateway',
      503: '503 Service Unavailable',
    };
    return message(status, texts[status] ?? `${status} Error`);
  }

  protected override commonHeaders(): Record<string, string> {
    return { 'x-request-id': randomBytes(8).toString('hex'), 'x-gitlab-meta': '{"correlation_id":"fake"}' };
  }

  private registerRoutes(): void {
    const project = `${API}/projects/{id}`;
    const mr = `${project}/merge_requests/{iid}`;
    this.route('GET', `${API}/user`, (req) => {
      const grant = this.authenticate(req);
      return 'status' in grant ? grant : { status: 200, body: this.userJson(grant.username) };
    });
    this.endpoint('GET', project, (c) => ({ status: 200, body: this.projectJson(c.project) }));
    this.endpoint('GET', mr, (c) => ({ status: 200, body: this.mrJson(c.project, this.mr(c)) }));
    this.endpoint('GET', `${mr}/diffs`, (c) => this.paged(c.req, this.mr(c).diffs));
    this.endpoint('GET', `${mr}/discussions`, (c) => this.paged(c.req, this.mr(c).discussions));
    this.endpoint('POST', `${mr}/discussions`, (c) => this.createDiscussion(c));
    this.endpoint('GET', `${mr}/notes`, (c) =>
      this.paged(
        c.req,
        this.mr(c).discussions.flatMap((d) => d.notes),
      ),
    );
    this.endpoint('POST', `${mr}/notes`, (c) => this.createNote(c));
    this.endpoint('PUT', `${mr}/notes/{note_id}`, (c) => this.editNote(c));
    this.endpoint('POST', `${mr}/notes/{note_id}/award_emoji`, (c) => this.awardEmoji(c));
    this.endpoint('GET', `${mr}/notes/{note_id}/award_emoji`, (c) => this.listAwards(c));
    this.endpoint('GET', `${mr}/notes/{note_id}`, (c) => this.showNote(c));
    this.endpoint('POST', `${mr}/discussions/{discussion_id}/notes`, (c) => this.replyInDiscussion(c));
    this.endpoint('PUT', `${mr}/discussions/{discussion_id}`, (c) => this.resolveDiscussion(c));
    this.endpoint('GET', `${project}/repository/files/{file_path}/raw`, (c) => this.rawFile(c));
    this.endpoint('GET', `${project}/repository/archive.tar.gz`, (c) => this.archive(c));
    this.endpoint('GET', `${project}/repository/compare`, (c) => this.compare(c));
    this.endpoint('GET', `${project}/repository/merge_base`, (c) => this.mergeBase(c));
    this.endpoint('POST', `${project}/statuses/{sha}`, (c) => this.setStatus(c));
    this.endpoint('GET', `${project}/repository/commits/{sha}/statuses`, (c) => this.listStatuses(c));
  }

  /** The caller behind `PRIVATE-TOKEN` or `Authorization: Bearer`, or GitLab's 401. */
  private authenticate(req: RecordedRequest): Grant | FakeReply {
    const privateToken = req.headers['private-token'];
    const bearer = /^bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = typeof privateToken === 'string' ? privateToken : bearer;
    const grant = token === undefined ? undefined : this.grants.get(token);
    if (grant?.oauth && grant.oauth.expiresAt <= Date.now())
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="Protected by OAuth 2.0", error="invalid_token"' },
        body: {
          error: 'invalid_token',
          error_description: 'Token is expired. You can either do re-authorization or token refresh.',
        },
      };
    return grant ?? message(401, '401 Unauthorized');
  }

  /** A project route: the token must reach the project, named by id or URL-encoded full path. */
  private endpoint(method: string, path: string, handler: (c: Ctx) => FakeReply | Promise<FakeReply>): void {
    this.route(method, path, async (req, params) => {
      const grant = this.authenticate(req);
      if ('status' in grant) return grant;
      const project = this.findProject(params.id!);
      // GitLab answers 404, not 403, for a project the token cannot see.
      if (!project || (grant.projects && !grant.projects.has(project.path.toLowerCase())))
        return message(404, '404 Project Not Found');
      try {
        return await handler({ req, params, grant, project });
      } catch (e) {
        if (e instanceof NotFound) return message(404, e.message);
        throw e;
      }
    });
  }

  private findProject(id: string): ProjectState | undefined {
    if (/^\d+$/.test(id)) return [...this.projects.values()].find((p) => p.id === Number(id));
    return this.projects.get(id.toLowerCase());
  }

  /** GitLab's offset pagination: x-page, x-per-page, x-next-page, x-prev-page, x-total(-pages) and Link. */
  private paged(req: RecordedRequest, items: unknown[]): FakeReply {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query.per_page ?? '', 10) || 20));
    const page = Math.max(1, Number.parseInt(req.query.page ?? '', 10) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number, rel: string) => {
      const query = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(p) });
      return `<${this.url}${req.path}?${query}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < last) links.push(link(page + 1, 'next'));
    links.push(link(1, 'first'), link(last, 'last'));
    return {
      status: 200,
      headers: {
        'x-page': String(page),
        'x-per-page': String(perPage),
        'x-next-page': page < last ? String(page + 1) : '',
        'x-prev-page': page > 1 ? String(page - 1) : '',
        'x-total': String(items.length),
        'x-total-pages': String(last),
        link: links.join(', '),
      },
      body: items.slice((page - 1) * perPage, page * perPage),
    };
  }

  private rawFile(c: Ctx): FakeReply {
    const ref = String(field(c, 'ref') ?? c.project.defaultBranch);
    const files = this.filesAtRef(c.project, ref);
    const content = files?.get(c.params.file_path!);
    if (content === undefined) return message(404, '404 File Not Found');
    return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: content };
  }

  private async archive(c: Ctx): Promise<FakeReply> {
    const sha = String(field(c, 'sha') ?? c.project.defaultBranch);
    const own = c.project.archives.get(sha);
    const name = c.project.path.split('/').pop()!;
    const headers = {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${name}-${sha}.tar.gz"`,
    };
    if (own) return { status: 200, headers, body: own };
    const files = this.filesAtRef(c.project, sha);
    if (!files) return message(404, '404 File Not Found');
    // GitLab names the top directory <project>-<ref>-<sha>.
    const top = `${name}-${sha}-${sha}`;
    const entries: TarEntry[] = [...files].map(([path, content]) => ({ name: `${top}/${path}`, content }));
    return { status: 200, headers, body: await buildTarball(entries) };
  }

  private compare(c: Ctx): FakeReply {
    const from = String(field(c, 'from') ?? '');
    const to = String(field(c, 'to') ?? '');
    const diffs = c.project.comparisons.get(`${from}...${to}`);
    if (!diffs) return message(404, '404 Ref Not Found');
    return {
      status: 200,
      body: {
        commit: { id: to, short_id: to.slice(0, 8), parent_ids: [from] },
        commits: [{ id: to, short_id: to.slice(0, 8), title: '', parent_ids: [from] }],
        diffs,
        compare_timeout: false,
        compare_same_ref: from === to,
        web_url: `https://gitlab.example.com/${c.project.path}/-/compare/${from}...${to}`,
      },
    };
  }

  private mergeBase(c: Ctx): FakeReply {
    const raw = asObject(c.req.body)?.refs;
    const refs = Array.isArray(raw) ? raw.map(String) : new URLSearchParams(c.req.search).getAll('refs[]');
    const [a, b] = refs;
    const base =
      a !== undefined && b !== undefined
        ? (c.project.mergeBases.get(`${a}...${b}`) ?? c.project.mergeBases.get(`${b}...${a}`))
        : undefined;
    if (!base) return message(400, '400 Bad request - Could not find merge base');
    return { status: 200, body: { id: base, short_id: base.slice(0, 8), title: '' } };
  }

  private createNote(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const body = field(c, 'body');
    if (typeof body !== 'string' || body.trim() === '') return message(400, '400 Bad request - body is missing');
    const note = this.noteJson(c, mr, body, null);
    mr.discussions.push({ id: randomBytes(20).toString('hex'), individual_note: true, notes: [note] });
    return { status: 201, body: note };
  }

  /** GitLab lets only a note's author edit its body; the note keeps its id and place. */
  private editNote(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const body = field(c, 'body');
    if (typeof body !== 'string' || body.trim() === '') return message(400, '400 Bad request - body is missing');
    const note = mr.discussions.flatMap((d) => d.notes).find((n) => String(n.id) === c.params.note_id);
    if (!note) return message(404, '404 Not found');
    if (note.author.username !== c.grant.username) return message(403, '403 Forbidden');
    note.body = body;
    note.updated_at = now();
    return { status: 200, body: note };
  }

  private findNote(mr: MrState, id: string | undefined): GitLabNote | undefined {
    return mr.discussions.flatMap((d) => d.notes).find((n) => String(n.id) === id);
  }

  private showNote(c: Ctx): FakeReply {
    const note = this.findNote(this.mr(c), c.params.note_id);
    return note ? { status: 200, body: note } : message(404, '404 Note Not Found');
  }

  private listAwards(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const noteId = Number(c.params.note_id);
    if (!this.findNote(mr, c.params.note_id)) return message(404, '404 Note Not Found');
    const awards = (mr.awards.get(noteId) ?? []).map((a, i) => ({
      id: i + 1,
      name: a.name,
      user: this.userJson(a.user),
      awardable_id: noteId,
      awardable_type: 'Note',
    }));
    return this.paged(c.req, awards);
  }

  /**
   * A reply joins the discussion; a note of a diff discussion is resolvable like its first. A
   * reply to a note on its own makes it a thread, as GitLab does: both become DiscussionNotes.
   */
  private replyInDiscussion(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const discussion = mr.discussions.find((d) => d.id === c.params.discussion_id);
    if (!discussion) return message(404, '404 Discussion Not Found');
    const body = field(c, 'body');
    if (typeof body !== 'string' || body.trim() === '') return message(400, '400 Bad request - body is missing');
    const root = discussion.notes[0]!;
    if (discussion.individual_note) {
      discussion.individual_note = false;
      root.type = 'DiscussionNote';
    }
    const note: GitLabNote = {
      ...this.noteJson(c, mr, body, null),
      type: root.type === 'DiffNote' ? 'DiffNote' : 'DiscussionNote',
      resolvable: root.resolvable,
      ...(root.resolvable ? { resolved: root.resolved ?? false } : {}),
    };
    discussion.notes.push(note);
    return { status: 201, body: note };
  }

  /** `resolved=true|false` on a resolvable discussion; GitLab answers 400 for one that is not. */
  private resolveDiscussion(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const discussion = mr.discussions.find((d) => d.id === c.params.discussion_id);
    if (!discussion) return message(404, '404 Discussion Not Found');
    const raw = field(c, 'resolved');
    if (raw === undefined) return message(400, '400 Bad request - resolved is missing');
    if (!discussion.notes.some((n) => n.resolvable))
      return message(400, '400 Bad request - Discussion is not resolvable');
    const resolved = raw === true || raw === 'true';
    for (const n of discussion.notes) {
      if (!n.resolvable) continue;
      n.resolved = resolved;
      n.resolved_by = resolved ? this.userJson(c.grant.username) : null;
    }
    return { status: 200, body: discussion };
  }

  /** One award per name and user: GitLab refuses a second with 404 and says it is taken. */
  private awardEmoji(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const name = field(c, 'name');
    if (typeof name !== 'string' || !/^[a-z0-9_+-]+$/.test(name))
      return message(400, '400 Bad request - name is invalid');
    const noteId = Number(c.params.note_id);
    if (!mr.discussions.some((d) => d.notes.some((n) => n.id === noteId))) return message(404, '404 Note Not Found');
    const awards = mr.awards.get(noteId) ?? [];
    if (awards.some((a) => a.name === name && a.user === c.grant.username))
      return message(404, '404 Award Emoji Name has already been taken');
    awards.push({ name, user: c.grant.username });
    mr.awards.set(noteId, awards);
    return {
      status: 201,
      body: {
        id: this.nextId++,
        name,
        user: this.userJson(c.grant.username),
        awardable_id: noteId,
        awardable_type: 'Note',
      },
    };
  }

  private createDiscussion(c: Ctx): FakeReply {
    const mr = this.mr(c);
    const body = field(c, 'body');
    if (typeof body !== 'string' || body.trim() === '') return message(400, '400 Bad request - body is missing');
    const rawPosition = asObject(field(c, 'position'));
    let position: GitLabPosition | undefined;
    if (rawPosition) {
      const placed = this.placePosition(mr, rawPosition);
      if (typeof placed === 'string') return message(400, placed);
      position = placed;
    }
    const note = this.noteJson(c, mr, body, position ?? null);
    const discussion: GitLabDiscussion = {
      id: randomBytes(20).toString('hex'),
      individual_note: false,
      notes: [note],
    };
    mr.discussions.push(discussion);
    return { status: 201, body: discussion };
  }

  /**
   * GitLab's rule for a text position: the SHAs name a version of the MR's diff, the path a file of
   * it; an added line takes new_line only, a removed line old_line only, a context line both.
   */
  private placePosition(mr: MrState, raw: Record<string, unknown>): GitLabPosition | string {
    const sha = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
    const line = (k: string) => {
      const v = raw[k];
      if (v === undefined || v === null || v === '') return null;
      const n = Number(v);
      return Number.isInteger(n) && n > 0 ? n : Number.NaN;
    };
    const position: GitLabPosition = {
      base_sha: sha('base_sha'),
      start_sha: sha('start_sha'),
      head_sha: sha('head_sha'),
      position_type: 'text',
      new_path: sha('new_path'),
      old_path: sha('old_path') || sha('new_path'),
      new_line: line('new_line'),
      old_line: line('old_line'),
    };
    if ((raw.position_type ?? 'text') !== 'text') return '400 Bad request - position_type does not have a valid value';
    if (!position.base_sha || !position.head_sha || !position.start_sha || !position.new_path) return INVALID_POSITION;
    const diffs = mr.diffsAt.get(position.head_sha);
    if (!diffs || position.base_sha !== mr.diffRefs.base_sha) return INVALID_POSITION;
    const file = diffs.find((d) => d.new_path === position.new_path);
    if (!file || file.diff === '') return INVALID_POSITION;
    const { new_line: newLine, old_line: oldLine } = position;
    if (Number.isNaN(newLine) || Number.isNaN(oldLine) || (newLine === null && oldLine === null))
      return INVALID_POSITION;
    const hunks = parseHunks(file.diff);
    const ok = hunks.some((h) => lineFits(h, newLine, oldLine));
    if (!ok) return INVALID_POSITION;
    if (raw.line_range === undefined) return position;
    const range = lineRange(asObject(raw.line_range), position, hunks);
    return typeof range === 'string' ? range : { ...position, line_range: range };
  }

  private setStatus(c: Ctx): FakeReply {
    const sha = c.params.sha!;
    if (!this.knownShas(c.project).has(sha)) return message(404, '404 Commit Not Found');
    const state = field(c, 'state');
    if (typeof state !== 'string' || !STATUS_STATES.includes(state as GitLabStatusState))
      return message(400, '400 Bad request - state does not have a valid value');
    const name = String(field(c, 'name') ?? field(c, 'context') ?? 'default');
    const ref = (field(c, 'ref') as string | undefined) ?? this.refOf(c.project, sha);
    const description = field(c, 'description');
    if (typeof description === 'string' && description.length > 255)
      return message(400, '400 Bad request - description is too long (maximum is 255 characters)');
    const targetUrl = field(c, 'target_url');
    if (typeof targetUrl === 'string' && !/^https?:\/\//.test(targetUrl))
      return message(400, '400 Bad request - target_url is blocked: Only allowed schemes are http, https');
    const next = state as GitLabStatusState;
    const open = c.project.statuses.findLast(
      (s) => s.sha === sha && s.name === name && s.ref === ref && !FINISHED.includes(s.status),
    );
    const stamp = now();
    if (open) {
      // GitLab's state machine: a job cannot go back to pending, nor "move" to its own state.
      if (open.status === next || (open.status === 'running' && next === 'pending')) {
        return message(
          400,
          `Cannot transition status via :${EVENTS[next]} from :${open.status} (Reason(s): Status cannot transition via "${EVENTS[next]}")`,
        );
      }
      open.status = next;
      if (typeof description === 'string') open.description = description;
      if (typeof targetUrl === 'string') open.target_url = targetUrl;
      if (next === 'running') open.started_at = stamp;
      if (FINISHED.includes(next)) open.finished_at = stamp;
      return { status: 201, body: open };
    }
    const id = this.nextId++;
    const status: GitLabCommitStatus = {
      id,
      sha,
      ref: ref ?? null,
      status: next,
      name,
      target_url: typeof targetUrl === 'string' ? targetUrl : null,
      description: typeof description === 'string' ? description : null,
      created_at: stamp,
      started_at: next === 'running' ? stamp : null,
      finished_at: FINISHED.includes(next) ? stamp : null,
      allow_failure: false,
      coverage: null,
      pipeline_id: numericId(`${c.project.id}:${sha}`),
      author: this.userJson(c.grant.username),
    };
    c.project.statuses.push(status);
    return { status: 201, body: status };
  }

  private listStatuses(c: Ctx): FakeReply {
    const name = field(c, 'name');
    const statuses = c.project.statuses.filter(
      (s) => s.sha === c.params.sha && (typeof name !== 'string' || s.name === name),
    );
    // Newest first, as GitLab lists them.
    return this.paged(c.req, [...statuses].reverse());
  }

  // ---- JSON shapes ----

  private userJson(username: string): GitLabUser {
    return {
      id: numericId(username),
      username,
      name: username,
      state: 'active',
      bot: /_bot(_|$)|bot$/.test(username),
      web_url: `https://gitlab.example.com/${username}`,
    };
  }

  private projectJson(p: ProjectState) {
    const parts = p.path.split('/');
    const name = parts.pop()!;
    return {
      id: p.id,
      name,
      path: name,
      path_with_namespace: p.path,
      name_with_namespace: p.path.split('/').join(' / '),
      namespace: { full_path: parts.join('/'), path: parts[parts.length - 1] ?? '', kind: 'group' },
      default_branch: p.defaultBranch,
      visibility: p.visibility,
      web_url: `https://gitlab.example.com/${p.path}`,
      http_url_to_repo: `https://gitlab.example.com/${p.path}.git`,
    };
  }

  private mrJson(p: ProjectState, mr: MrState) {
    const { input } = mr;
    const draft = input.draft ?? false;
    const title = input.title ?? `Merge request ${input.iid}`;
    return {
      id: mr.id,
      iid: input.iid,
      project_id: p.id,
      title: draft && !/^(draft:|\[draft\]|\(draft\))/i.test(title) ? `Draft: ${title}` : title,
      description: input.description ?? null,
      state: input.state ?? 'opened',
      draft,
      work_in_progress: draft,
      labels: [...(input.labels ?? [])],
      author: this.userJson(input.author ?? DEFAULT_AUTHOR),
      source_branch: input.sourceBranch ?? `feature-${input.iid}`,
      target_branch: input.targetBranch ?? p.defaultBranch,
      source_project_id: p.id,
      target_project_id: p.id,
      sha: mr.diffRefs.head_sha,
      diff_refs: { ...mr.diffRefs },
      web_url: `https://gitlab.example.com/${p.path}/-/merge_requests/${input.iid}`,
      changes_count: String(mr.diffs.length),
      user_notes_count: mr.discussions.reduce((n, d) => n + d.notes.length, 0),
      created_at: mr.createdAt,
      updated_at: mr.updatedAt,
    };
  }

  private noteJson(c: Ctx, mr: MrState, body: string, position: GitLabPosition | null): GitLabNote {
    const stamp = now();
    return {
      id: this.nextId++,
      type: position ? 'DiffNote' : null,
      body,
      author: this.userJson(c.grant.username),
      created_at: stamp,
      updated_at: stamp,
      system: false,
      noteable_id: mr.id,
      noteable_type: 'MergeRequest',
      noteable_iid: mr.input.iid,
      resolvable: position !== null,
      ...(position ? { resolved: false, position } : {}),
    };
  }

  // ---- lookups ----

  private filesAtRef(project: ProjectState, ref: string): Map<string, string> | undefined {
    const own = project.refs.get(ref);
    if (own) return own;
    for (const mr of project.mrs.values()) {
      const target = mr.input.targetBranch ?? project.defaultBranch;
      const source = mr.input.sourceBranch ?? `feature-${mr.input.iid}`;
      if (mr.diffRefs.base_sha === ref || mr.diffRefs.start_sha === ref) return project.refs.get(target);
      if (mr.diffsAt.has(ref)) return project.refs.get(source);
    }
    return undefined;
  }

  private knownShas(project: ProjectState): Set<string> {
    const shas = new Set(project.refs.keys());
    for (const mr of project.mrs.values()) {
      shas.add(mr.diffRefs.base_sha);
      shas.add(mr.diffRefs.start_sha);
      for (const sha of mr.diffsAt.keys()) shas.add(sha);
    }
    return shas;
  }

  private refOf(project: ProjectState, sha: string): string | undefined {
    for (const mr of project.mrs.values())
      if (mr.diffsAt.has(sha)) return mr.input.sourceBranch ?? `feature-${mr.input.iid}`;
    return undefined;
  }

  private mr(c: Ctx): MrState {
    const mr = c.project.mrs.get(Number(c.params.iid));
    if (!mr) throw new NotFound('404 Not found');
    return mr;
  }

  private projectOrThrow(path: string): ProjectState {
    const project = this.projects.get(path.toLowerCase());
    if (!project) throw new Error(`FakeGitLab: project ${path} not added; call addProject first`);
    return project;
  }

  private mrOrThrow(project: string, iid: number): MrState {
    const mr = this.projectOrThrow(project).mrs.get(iid);
    if (!mr) throw new Error(`FakeGitLab: merge request ${project}!${iid} not added`);
    return mr;
  }
  // ---- OAuth2 sign-in with GitLab (an instance-wide OAuth application), in one block ----
  // /oauth/authorize and /oauth/token (authorization_code with PKCE, refresh_token), and what a
  // signed-in user's token lists: their projects by membership and access level, group members.

  private readonly oauth = {
    /** OAuth applications: client id (GitLab's "Application ID") → secret. */
    apps: new Map<string, string>(),
    signedIn: undefined as string | undefined,
    codes: new Map<
      string,
      { clientId: string; redirectUri: string; username: string; scope: string; challenge?: string; method?: string }
    >(),
    refreshTokens: new Map<string, { clientId: string; username: string; scope: string }>(),
    /** username (lower case) → project path (lower case) → access level. */
    memberships: new Map<string, Map<string, number>>(),
    /** group path (lower case) → member usernames (lower case) → access level. */
    groups: new Map<string, Map<string, number>>(),
  };

  /** Accepts `clientId`/`secret` as an OAuth application's credentials. */
  setOAuthApplication(clientId: string, secret: string): this {
    this.oauth.apps.set(clientId, secret);
    return this;
  }

  /** Makes `username` a member of `project` with `accessLevel` (10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner). */
  addMember(project: string, username: string, accessLevel = 30): this {
    this.projectOrThrow(project);
    const key = username.toLowerCase();
    const projects = this.oauth.memberships.get(key) ?? new Map<string, number>();
    projects.set(project.toLowerCase(), accessLevel);
    this.oauth.memberships.set(key, projects);
    return this;
  }

  /** A group (full path) and its members; `/groups/:id/members/all/:user_id` answers for them. */
  addGroup(path: string, members: string[], accessLevel = 30): this {
    this.oauth.groups.set(path.toLowerCase(), new Map(members.map((m) => [m.toLowerCase(), accessLevel])));
    return this;
  }

  /** The user the authorize page signs in and who authorizes; undefined: they deny it. */
  signInAs(username: string | undefined): this {
    this.oauth.signedIn = username;
    return this;
  }

  /** Revokes the user's OAuth access and refresh tokens, as when they revoke the application. */
  revokeUserTokens(username: string): this {
    const user = username.toLowerCase();
    for (const [token, grant] of this.grants)
      if (grant.oauth && grant.username.toLowerCase() === user) this.grants.delete(token);
    for (const [token, grant] of this.oauth.refreshTokens)
      if (grant.username.toLowerCase() === user) this.oauth.refreshTokens.delete(token);
    return this;
  }

  /** Lets the user's access tokens expire now (refresh tokens stay good), as two hours after issue. */
  expireUserTokens(username: string): this {
    for (const grant of this.grants.values())
      if (grant.oauth && grant.username.toLowerCase() === username.toLowerCase()) grant.oauth.expiresAt = 0;
    return this;
  }

  private registerOAuthRoutes(): void {
    // The browser arrives here; GitLab shows its sign-in and the authorize page, then redirects back.
    this.route('GET', '/oauth/authorize', (req) => {
      const q = req.query;
      const clientId = q.client_id ?? '';
      if (!this.oauth.apps.has(clientId) || !q.redirect_uri)
        return {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: '<h1>An error has occurred</h1><p>Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.</p>',
        };
      const back = new URL(q.redirect_uri);
      const fail = (error: string, description: string) => {
        back.searchParams.set('error', error);
        back.searchParams.set('error_description', description);
        if (q.state) back.searchParams.set('state', q.state);
        return { status: 302, headers: { location: back.toString() }, body: '' };
      };
      if (q.response_type !== 'code')
        return fail('unsupported_response_type', 'The authorization server does not support this response type.');
      const scope = q.scope ?? 'api';
      if (!scope.split(/[ +]/).every((s) => OAUTH_SCOPES.includes(s)))
        return fail('invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
      if (q.code_challenge && q.code_challenge_method && !['S256', 'plain'].includes(q.code_challenge_method))
        return fail('invalid_request', 'Code challenge method must be plain or S256.');
      if (!this.oauth.signedIn)
        return fail('access_denied', 'The resource owner or authorization server denied the request.');
      const code = randomBytes(32).toString('hex');
      this.oauth.codes.set(code, {
        clientId,
        redirectUri: q.redirect_uri,
        username: this.oauth.signedIn,
        scope,
        ...(q.code_challenge ? { challenge: q.code_challenge, method: q.code_challenge_method ?? 'plain' } : {}),
      });
      back.searchParams.set('code', code);
      if (q.state) back.searchParams.set('state', q.state);
      return { status: 302, headers: { location: back.toString() }, body: '' };
    });
    this.route('POST', '/oauth/token', (req) => {
      const p = params(req);
      const basic = /^basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
      const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
      const clientId = String(p.client_id ?? basicId ?? '');
      const secret = String(p.client_secret ?? basicSecret ?? '');
      const fail = (status: number, error: string, description: string): FakeReply => ({
        status,
        body: { error, error_description: description },
      });
      if (!this.oauth.apps.has(clientId) || this.oauth.apps.get(clientId) !== secret)
        return fail(
          401,
          'invalid_client',
          'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
        );
      const invalidGrant = () =>
        fail(
          400,
          'invalid_grant',
          'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
        );
      if (p.grant_type === 'authorization_code') {
        const code = this.oauth.codes.get(String(p.code ?? ''));
        this.oauth.codes.delete(String(p.code ?? ''));
        if (!code || code.clientId !== clientId || code.redirectUri !== p.redirect_uri) return invalidGrant();
        if (code.challenge) {
          const verifier = String(p.code_verifier ?? '');
          const computed =
            code.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
          if (!verifier || computed !== code.challenge) return invalidGrant();
        }
        return this.issueTokens(clientId, code.username, code.scope);
      }
      if (p.grant_type === 'refresh_token') {
        const grant = this.oauth.refreshTokens.get(String(p.refresh_token ?? ''));
        if (!grant || grant.clientId !== clientId) return invalidGrant();
        // GitLab rotates refresh tokens: the old one is spent.
        this.oauth.refreshTokens.delete(String(p.refresh_token));
        return this.issueTokens(clientId, grant.username, grant.scope);
      }
      return fail(
        400,
        'unsupported_grant_type',
        'The authorization grant type is not supported by the authorization server.',
      );
    });
    this.route('GET', `${API}/projects`, (req) => {
      const grant = this.authenticate(req);
      if ('status' in grant) return grant;
      const levels = this.oauth.memberships.get(grant.username.toLowerCase()) ?? new Map<string, number>();
      const minLevel = Number.parseInt(req.query.min_access_level ?? '', 10) || 0;
      const membership = req.query.membership === 'true';
      const listed = [...this.projects.values()]
        .filter((project) => {
          const key = project.path.toLowerCase();
          const level = levels.get(key);
          if (membership || minLevel > 0) return level !== undefined && level >= minLevel;
          return (
            level !== undefined ||
            project.visibility !== 'private' ||
            (!grant.oauth && !grant.projects) ||
            grant.projects?.has(key)
          );
        })
        .sort((a, b) => b.id - a.id);
      return this.paged(
        req,
        listed.map((project) => this.projectJson(project)),
      );
    });
    this.route('GET', `${API}/groups/{id}/members/all/{user_id}`, (req, params) => {
      const grant = this.authenticate(req);
      if ('status' in grant) return grant;
      const group = this.oauth.groups.get(params.id!.toLowerCase());
      if (!group) return message(404, '404 Group Not Found');
      const member = [...group].find(([username]) => String(numericId(username)) === params.user_id);
      if (!member) return message(404, '404 Not found');
      return { status: 200, body: { ...this.userJson(member[0]), access_level: member[1], expires_at: null } };
    });
  }

  private issueTokens(clientId: string, username: string, scope: string): FakeReply {
    const access = randomBytes(32).toString('hex');
    const refresh = randomBytes(32).toString('hex');
    const projects = new Set(this.oauth.memberships.get(username.toLowerCase())?.keys() ?? []);
    this.grants.set(access, {
      username,
      projects,
      oauth: { clientId, expiresAt: Date.now() + OAUTH_TOKEN_SECONDS * 1000 },
    });
    this.oauth.refreshTokens.set(refresh, { clientId, username, scope });
    return {
      status: 200,
      body: {
        access_token: access,
        token_type: 'Bearer',
        expires_in: OAUTH_TOKEN_SECONDS,
        refresh_token: refresh,
        scope,
        created_at: Math.floor(Date.now() / 1000),
      },
    };
  }

  // ---- Project members, in one block of its own ----
  // GET /projects/:id/members/all/:user_id: a user's effective access to a project, through a
  // direct membership (addMember) or one of the groups above it (addGroup), the highest level
  // winning, as GitLab inherits it; 404 for a user who is neither.

  /** The id GitLab gives `username` (a Note Hook's `user.id`), as the members endpoint takes it. */
  userId(username: string): number {
    return numericId(username.toLowerCase());
  }

  private registerMemberRoutes(): void {
    this.endpoint('GET', `${API}/projects/{id}/members/all/{user_id}`, (c) => {
      const path = c.project.path.toLowerCase();
      const levels = new Map<string, number>();
      const raise = (username: string, level: number) =>
        levels.set(username, Math.max(level, levels.get(username) ?? 0));
      for (const [username, projects] of this.oauth.memberships) {
        const level = projects.get(path);
        if (level !== undefined) raise(username, level);
      }
      for (const [group, members] of this.oauth.groups)
        if (path.startsWith(`${group}/`)) for (const [username, level] of members) raise(username, level);
      const member = [...levels].find(([username]) => String(this.userId(username)) === c.params.user_id);
      if (!member) return message(404, '404 Not found');
      return { status: 200, body: { ...this.userJson(member[0]), access_level: member[1], expires_at: null } };
    });
  }
}

class NotFound extends Error {}

function diffJson(d: GitLabDiffInput): GitLabDiff {
  const tooLarge = d.too_large ?? false;
  return {
    old_path: d.old_path ?? d.new_path,
    new_path: d.new_path,
    a_mode: d.new_file ? '0' : '100644',
    b_mode: d.deleted_file ? '0' : '100644',
    diff: tooLarge ? '' : (d.diff ?? ''),
    new_file: d.new_file ?? false,
    renamed_file: d.renamed_file ?? (d.old_path !== undefined && d.old_path !== d.new_path),
    deleted_file: d.deleted_file ?? false,
    generated_file: d.generated_file ?? false,
    too_large: tooLarge,
    collapsed: tooLarge,
  };
}

/** Whether a (new_line, old_line) pair names a line of the hunk the way GitLab wants it. */
const INVALID_LINE_RANGE =
  '400 Bad request - Note {:line_code=>["must be a valid line code"], :line_range=>["is invalid"]}';

/**
 * A `line_range` as the fake holds GitLab to it: both ends name lines of the new side by valid line
 * codes (`sha1(new_path)_<old>_<new>`) in one hunk, the start not after the end, and the end is the
 * position's own line.
 */
function lineRange(
  raw: Record<string, unknown> | undefined,
  position: GitLabPosition,
  hunks: Hunk[],
): { start: GitLabLineRangeEnd; end: GitLabLineRangeEnd } | string {
  const pathSha = createHash('sha1').update(position.new_path).digest('hex');
  const end = (value: unknown) => {
    const o = asObject(value);
    const code = /^([0-9a-f]{40})_(\d+)_(\d+)$/.exec(String(o?.line_code ?? ''));
    if (!o || !code || code[1] !== pathSha) return undefined;
    const [oldPos, newPos] = [Number(code[2]), Number(code[3])];
    const at = hunks.findIndex((h) => h.context.get(newPos) === oldPos || h.added.get(newPos) === oldPos);
    if (at < 0) return undefined;
    const added = hunks[at]!.added.has(newPos);
    if (o.type !== (added ? 'new' : 'old')) return undefined;
    const line: GitLabLineRangeEnd = {
      line_code: code[0]!,
      type: added ? 'new' : 'old',
      old_line: added ? null : oldPos,
      new_line: newPos,
    };
    return { at, line };
  };
  const start = end(raw?.start);
  const stop = end(raw?.end);
  if (!start || !stop || start.at !== stop.at) return INVALID_LINE_RANGE;
  if (start.line.new_line! > stop.line.new_line! || stop.line.new_line !== position.new_line) return INVALID_LINE_RANGE;
  return { start: start.line, end: stop.line };
}

function lineFits(hunk: Hunk, newLine: number | null, oldLine: number | null): boolean {
  if (newLine !== null && oldLine !== null) return hunk.context.get(newLine) === oldLine;
  if (newLine !== null) return hunk.right.has(newLine) && !hunk.context.has(newLine);
  const contextOld = new Set(hunk.context.values());
  return oldLine !== null && hunk.left.has(oldLine) && !contextOld.has(oldLine);
}
