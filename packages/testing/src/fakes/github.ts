// In-memory GitHub REST API for tests: repositories, pull requests, reviews, comments, check runs and
// GitHub App installation tokens, in GitHub's wire format and with the validation GitHub applies.
import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { jwtError, looksLikeJwt, publicKeyOf } from './github-auth.js';
import { countChanges, type Hunk, resolveComment, unifiedDiff } from './github-patch.js';
import type {
  AppInput,
  GitHubCheckRun,
  GitHubIssueComment,
  GitHubPermissionLevel,
  GitHubPermissions,
  GitHubReview,
  GitHubReviewComment,
  GitHubUser,
  InstallationInput,
  InstallationToken,
  PullFile,
  PullFileInput,
  PullRequestInput,
  RepoInput,
} from './github-types.js';
import { type FakeReply, HttpFake, type RecordedRequest } from './http-fake.js';
import { buildTarball, type TarEntry } from './tarball.js';

interface RepoState {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  defaultBranch: string;
  refs: Map<string, Map<string, string>>;
  pulls: Map<number, PullState>;
  comparisons: Map<string, PullFile[]>;
  /** Archives set by tests, by ref; other refs get one built from their files. */
  tarballs: Map<string, Buffer>;
  checkRuns: GitHubCheckRun[];
  issueComments: Map<number, GitHubIssueComment[]>;
}

interface PullState {
  id: number;
  input: PullRequestInput;
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  files: PullFile[];
  /** PR files as of each head SHA the PR has had, so reviews on an older commit validate against it. */
  filesAt: Map<string, PullFile[]>;
  diff?: string;
  diffTooLarge: boolean;
  reviews: GitHubReview[];
  comments: GitHubReviewComment[];
  createdAt: string;
  updatedAt: string;
}

interface Grant {
  kind: 'user' | 'installation' | 'app';
  login: string;
  /** Full names (lower case) the token may reach; every repository when undefined. */
  repos?: Set<string>;
  permissions?: GitHubPermissions;
  installationId?: number;
  expiresAt?: number;
}

interface Installation extends InstallationInput {
  permissions: GitHubPermissions;
}

/** The permissions (any one of them) a token needs for a route; `appOnly` routes refuse user tokens. */
interface Access {
  anyOf: [string, GitHubPermissionLevel][];
  appOnly?: boolean;
}

interface Ctx {
  req: RecordedRequest;
  params: Record<string, string>;
  grant: Grant;
  repo: RepoState;
}

const LEVELS: Record<GitHubPermissionLevel, number> = { read: 1, write: 2, admin: 3 };
const DOCS = 'https://docs.github.com/rest';
const REVIEW_EVENTS: Record<string, GitHubReview['state']> = {
  APPROVE: 'APPROVED',
  REQUEST_CHANGES: 'CHANGES_REQUESTED',
  COMMENT: 'COMMENTED',
};
const CHECK_STATUSES = ['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending'];
const CHECK_CONCLUSIONS = [
  'action_required',
  'cancelled',
  'failure',
  'neutral',
  'success',
  'skipped',
  'stale',
  'timed_out',
];
const DEFAULT_INSTALLATION_PERMISSIONS: GitHubPermissions = {
  metadata: 'read',
  contents: 'read',
  pull_requests: 'write',
  issues: 'write',
  checks: 'write',
};
const DEFAULT_AUTHOR = 'contributor';
const MAX_PULL_FILES = 3000;
const MAX_COMPARE_FILES = 300;
const DIFF_MAX_FILES = 300;

function error(status: number, message: string, extra: Record<string, unknown> = {}): FakeReply {
  return { status, body: { message, ...extra, documentation_url: DOCS, status: String(status) } };
}

function gitBlobSha(content: string): string {
  const bytes = Buffer.from(content);
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function numericId(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function asObject(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

export class FakeGitHub extends HttpFake {
  /** A token with access to everything, like a repo-scoped personal access token of `user`. */
  readonly token = `ghp_${randomBytes(18).toString('hex')}`;
  readonly installationTokens: InstallationToken[] = [];
  private readonly repos = new Map<string, RepoState>();
  private readonly grants = new Map<string, Grant>();
  private readonly installations = new Map<number, Installation>();
  private app?: { id: number; slug: string; name: string; key: KeyObject };
  private nextId = 1;
  private requestCount = 0;
  private readonly codeloadTokens = new Map<string, number>();
  private readonly oauth = {
    clients: new Map<string, string>(),
    /** Who the authorize page signs in (GitHub's own sign-in and consent happen there). */
    signedIn: undefined as { login: string; repositories?: string[] } | undefined,
    codes: new Map<string, { clientId: string; redirectUri: string; login: string; repositories?: string[] }>(),
    /** Members of `org/team-slug` (lower case). */
    teams: new Map<string, Set<string>>(),
  };

  readonly user: string;
  private readonly rateLimitTotal: number;

  /** `user` owns `token`; `rateLimit` only feeds the `x-ratelimit-*` headers and /rate_limit (never enforced). */
  constructor(options: { user?: string; rateLimit?: number } = {}) {
    super();
    this.user = options.user ?? 'octocat';
    this.rateLimitTotal = options.rateLimit ?? 5000;
    this.grants.set(this.token, { kind: 'user', login: this.user });
    this.registerRoutes();
    this.registerConversationRoutes();
  }

  // ---- state API for tests ----

  addRepo(owner: string, name: string, input: RepoInput = {}): this {
    const defaultBranch = input.defaultBranch ?? 'main';
    const refs = new Map(
      Object.entries(input.files ?? {}).map(([ref, files]) => [ref, new Map(Object.entries(files))]),
    );
    if (!refs.has(defaultBranch)) refs.set(defaultBranch, new Map());
    this.repos.set(`${owner}/${name}`.toLowerCase(), {
      id: this.nextId++,
      owner,
      name,
      private: input.private ?? true,
      defaultBranch,
      refs,
      pulls: new Map(),
      comparisons: new Map(),
      tarballs: new Map(),
      checkRuns: [],
      issueComments: new Map(),
    });
    return this;
  }

  /** Sets (merges) the files of a ref of a repository. */
  setFiles(owner: string, repo: string, ref: string, files: Record<string, string>): this {
    const refs = this.repoOrThrow(owner, repo).refs;
    const current = refs.get(ref) ?? new Map<string, string>();
    for (const [path, content] of Object.entries(files)) current.set(path, content);
    refs.set(ref, current);
    return this;
  }

  /**
   * Serves `bytes` (a gzipped tar) as the tarball of `ref` instead of one built from the ref's
   * files: how a test hands the reviewer a hostile archive.
   */
  setTarball(owner: string, repo: string, ref: string, bytes: Buffer): this {
    this.repoOrThrow(owner, repo).tarballs.set(ref, bytes);
    return this;
  }

  addPullRequest(input: PullRequestInput): this {
    const repo = this.repoOrThrow(input.owner, input.repo);
    const files = (input.files ?? []).map((f) => this.pullFile(repo, input.head.sha, f));
    const created = now();
    repo.pulls.set(input.number, {
      id: this.nextId++,
      input,
      base: { ...input.base },
      head: { ...input.head },
      files,
      filesAt: new Map([[input.head.sha, files]]),
      diff: input.diff,
      diffTooLarge: input.diffTooLarge ?? files.length > DIFF_MAX_FILES,
      reviews: [],
      comments: [],
      createdAt: created,
      updatedAt: created,
    });
    repo.comparisons.set(`${input.base.sha}...${input.head.sha}`, files);
    return this;
  }

  /** Someone set the pull request's labels (GitHub's issue labels; the pull request is an issue). */
  setLabels(owner: string, repo: string, number: number, labels: string[]): this {
    this.pullOrThrow(owner, repo, number).input.labels = labels;
    return this;
  }

  /**
   * A new push to the PR: `files` are what changed between the previous head and `newSha` (answered by
   * compare). The PR's own file list becomes `prFiles`, or the old list with `files` merged in by name.
   */
  pushHead(
    owner: string,
    repo: string,
    number: number,
    newSha: string,
    files: PullFileInput[],
    diff?: string,
    prFiles?: PullFileInput[],
  ): this {
    const state = this.repoOrThrow(owner, repo);
    const pull = this.pullOrThrow(owner, repo, number);
    const changed = files.map((f) => this.pullFile(state, newSha, f));
    state.comparisons.set(`${pull.head.sha}...${newSha}`, changed);
    if (prFiles) {
      pull.files = prFiles.map((f) => this.pullFile(state, newSha, f));
    } else {
      const byName = new Map(pull.files.map((f) => [f.filename, f]));
      for (const f of changed) byName.set(f.filename, f);
      pull.files = [...byName.values()];
    }
    pull.head = { ...pull.head, sha: newSha };
    pull.filesAt.set(newSha, pull.files);
    pull.diff = diff;
    pull.diffTooLarge = pull.input.diffTooLarge ?? pull.files.length > DIFF_MAX_FILES;
    pull.updatedAt = now();
    state.comparisons.set(`${pull.base.sha}...${newSha}`, pull.files);
    return this;
  }

  setApp(input: AppInput): this {
    const slug = input.slug ?? 'kritik-test';
    this.app = { id: Number(input.appId), slug, name: input.name ?? slug, key: publicKeyOf(input) };
    return this;
  }

  addInstallation(input: InstallationInput): this {
    this.installations.set(input.id, { ...input, permissions: input.permissions ?? DEFAULT_INSTALLATION_PERMISSIONS });
    return this;
  }

  /** Registers another accepted token, optionally limited to repositories (`owner/name`) and permissions. */
  addToken(
    token: string,
    scope: { login?: string; repositories?: string[]; permissions?: GitHubPermissions } = {},
  ): this {
    this.grants.set(token, {
      kind: 'user',
      login: scope.login ?? this.user,
      repos: scope.repositories && new Set(scope.repositories.map((r) => r.toLowerCase())),
      permissions: scope.permissions,
    });
    return this;
  }

  reviews(owner: string, repo: string, number: number): (GitHubReview & { comments: GitHubReviewComment[] })[] {
    const pull = this.pullOrThrow(owner, repo, number);
    return pull.reviews.map((r) => ({
      ...r,
      comments: pull.comments.filter((c) => c.pull_request_review_id === r.id),
    }));
  }

  reviewComments(owner: string, repo: string, number: number): GitHubReviewComment[] {
    return [...this.pullOrThrow(owner, repo, number).comments];
  }

  checkRuns(owner: string, repo: string, sha?: string): GitHubCheckRun[] {
    return this.repoOrThrow(owner, repo).checkRuns.filter((c) => sha === undefined || c.head_sha === sha);
  }

  issueComments(owner: string, repo: string, number: number): GitHubIssueComment[] {
    return [...(this.repoOrThrow(owner, repo).issueComments.get(number) ?? [])];
  }

  pullRequest(owner: string, repo: string, number: number): { head: { ref: string; sha: string }; files: PullFile[] } {
    const pull = this.pullOrThrow(owner, repo, number);
    return { head: { ...pull.head }, files: [...pull.files] };
  }

  // ---- wire format ----

  protected override errorReply(status: number): FakeReply {
    const messages: Record<number, string> = {
      401: 'Bad credentials',
      403: 'Forbidden',
      404: 'Not Found',
      422: 'Unprocessable Entity',
      429: 'API rate limit exceeded',
      500: 'Server Error',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
    };
    return error(status, messages[status] ?? 'Error');
  }

  protected override commonHeaders(): Record<string, string> {
    this.requestCount++;
    return {
      'x-github-request-id': `FAKE:${this.requestCount}`,
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': String(this.rateLimitTotal),
      'x-ratelimit-remaining': String(Math.max(0, this.rateLimitTotal - this.requestCount)),
      'x-ratelimit-used': String(this.requestCount),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
    };
  }

  private registerRoutes(): void {
    const repo = '/repos/{owner}/{repo}';
    const pull = `${repo}/pulls/{pull_number}`;
    const prRead: Access = { anyOf: [['pull_requests', 'read']] };
    const contentsRead: Access = { anyOf: [['contents', 'read']] };
    const checksRead: Access = { anyOf: [['checks', 'read']] };
    const checksWrite: Access = { anyOf: [['checks', 'write']], appOnly: true };
    this.route('GET', '/rate_limit', () => this.rateLimit());
    // A user's token names its user; GitHub refuses App and installation tokens here.
    this.route('GET', '/user', (req) => {
      const grant = this.authenticate(req);
      if ('status' in grant) return grant;
      if (grant.kind !== 'user') return error(403, 'Resource not accessible by integration');
      return { status: 200, body: this.userJson(grant.login) };
    });
    this.appEndpoint('GET', '/app', () => ({ status: 200, body: this.appJson() }));
    this.appEndpoint('GET', '/app/installations', () => ({
      status: 200,
      body: [...this.installations.values()].map((i) => this.installationJson(i)),
    }));
    this.appEndpoint('GET', `${repo}/installation`, (_req, params) => this.repoInstallation(params));
    this.appEndpoint('POST', '/app/installations/{installation_id}/access_tokens', (req, params) =>
      this.mintToken(req, params),
    );
    this.endpoint('GET', repo, { anyOf: [] }, (c) => ({ status: 200, body: this.repoJson(c.repo) }));
    this.endpoint('GET', `${repo}/contents/{path+}`, contentsRead, (c) => this.getContents(c));
    this.endpoint('GET', `${repo}/compare/{basehead+}`, contentsRead, (c) => this.compare(c));
    this.endpoint('GET', `${repo}/tarball/{ref+}`, contentsRead, (c) => this.tarballRedirect(c));
    this.route('GET', '/_codeload/{owner}/{repo}/legacy.tar.gz/{ref+}', (req, params) => this.codeload(req, params));
    this.endpoint('GET', pull, prRead, (c) => this.getPull(c));
    this.endpoint('GET', `${pull}/files`, prRead, (c) =>
      this.paged(c.req, this.filesJson(this.pull(c).files.slice(0, MAX_PULL_FILES))),
    );
    this.endpoint('GET', `${pull}/reviews`, prRead, (c) => this.paged(c.req, this.pull(c).reviews));
    this.endpoint('POST', `${pull}/reviews`, { anyOf: [['pull_requests', 'write']] }, (c) => this.createReview(c));
    this.endpoint('GET', `${pull}/comments`, prRead, (c) => this.paged(c.req, this.pull(c).comments));
    const issueRead: Access = {
      anyOf: [
        ['issues', 'read'],
        ['pull_requests', 'read'],
      ],
    };
    const issueWrite: Access = {
      anyOf: [
        ['issues', 'write'],
        ['pull_requests', 'write'],
      ],
    };
    this.endpoint('GET', `${repo}/issues/{issue_number}/comments`, issueRead, (c) => this.listIssueComments(c));
    this.endpoint('POST', `${repo}/issues/{issue_number}/comments`, issueWrite, (c) => this.createIssueComment(c));
    this.endpoint('POST', `${repo}/check-runs`, checksWrite, (c) => this.createCheckRun(c));
    this.endpoint('PATCH', `${repo}/check-runs/{check_run_id}`, checksWrite, (c) => this.updateCheckRun(c));
    this.endpoint('GET', `${repo}/check-runs/{check_run_id}`, checksRead, (c) => this.getCheckRun(c));
    this.endpoint('GET', `${repo}/commits/{ref+}/check-runs`, checksRead, (c) => this.listCheckRuns(c));
    this.registerUserOAuthRoutes();
  }

  /** The caller behind the `authorization` header, or GitHub's 401. */
  private authenticate(req: RecordedRequest): Grant | FakeReply {
    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!auth) return error(401, 'Requires authentication');
    const token = auth[1]!;
    if (looksLikeJwt(token)) {
      if (!this.app) return error(401, 'A JSON web token could not be decoded');
      const problem = jwtError(token, this.app.key, String(this.app.id));
      return problem ? error(401, problem) : { kind: 'app', login: `${this.app.slug}[bot]` };
    }
    const grant = this.grants.get(token);
    const expired = grant?.expiresAt !== undefined && grant.expiresAt < Date.now();
    return grant && !expired ? grant : error(401, 'Bad credentials');
  }

  /** A route only a GitHub App may call, authenticated by its JWT. */
  private appEndpoint(
    method: string,
    path: string,
    handler: (req: RecordedRequest, params: Record<string, string>) => FakeReply,
  ): void {
    this.route(method, path, (req, params) => {
      const grant = this.authenticate(req);
      if ('status' in grant) return grant;
      if (grant.kind !== 'app') return error(401, 'A JSON web token could not be decoded');
      return handler(req, params);
    });
  }

  /** A repository route behind GitHub's authorization: the token must reach the repo with one of `anyOf`. */
  private endpoint(method: string, path: string, access: Access, handler: (c: Ctx) => FakeReply): void {
    this.route(method, path, (req, params) => {
      const grant = this.authenticate(req);
      if ('status' in grant) return grant;
      if (grant.kind === 'app') return error(403, 'Resource not accessible by integration');
      const repo = this.repos.get(`${params.owner}/${params.repo}`.toLowerCase());
      if (!repo) return error(404, 'Not Found');
      if (!this.grantReaches(grant, repo)) return error(403, 'Resource not accessible by integration');
      const permissions = grant.permissions;
      const allowed = access.anyOf.some(([name, level]) => {
        const granted = permissions?.[name];
        return granted !== undefined && LEVELS[granted] >= LEVELS[level];
      });
      if (permissions && access.anyOf.length > 0 && !allowed)
        return error(403, 'Resource not accessible by integration');
      if (access.appOnly && grant.kind !== 'installation') return error(403, 'You must authenticate via a GitHub App.');
      try {
        return handler({ req, params, grant, repo });
      } catch (e) {
        if (e instanceof NotFound) return error(404, 'Not Found');
        throw e;
      }
    });
  }

  private grantReaches(grant: Grant, repo: RepoState): boolean {
    const fullName = `${repo.owner}/${repo.name}`.toLowerCase();
    if (grant.repos) return grant.repos.has(fullName);
    if (grant.kind !== 'installation') return true;
    const installation = this.installations.get(grant.installationId!);
    return !!installation && this.installationCovers(installation, repo);
  }

  private installationCovers(installation: Installation, repo: RepoState): boolean {
    if (installation.account.toLowerCase() !== repo.owner.toLowerCase()) return false;
    return (
      !installation.repositories || installation.repositories.some((n) => n.toLowerCase() === repo.name.toLowerCase())
    );
  }

  private paged(req: RecordedRequest, items: unknown[], wrap?: (page: unknown[]) => unknown): FakeReply {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query.per_page ?? '', 10) || 30));
    const page = Math.max(1, Number.parseInt(req.query.page ?? '', 10) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const link = (p: number, rel: string) => {
      const query = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(p) });
      return `<${this.url}${req.path}?${query}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    return { status: 200, headers: links.length ? { link: links.join(', ') } : {}, body: wrap ? wrap(slice) : slice };
  }

  private rateLimit(): FakeReply {
    const core = {
      limit: this.rateLimitTotal,
      used: this.requestCount,
      remaining: Math.max(0, this.rateLimitTotal - this.requestCount),
      reset: Math.floor(Date.now() / 1000) + 3600,
    };
    return { status: 200, body: { resources: { core }, rate: core } };
  }

  /**
   * Like GitHub: the API answers 302 to a codeload URL carrying a short-lived token, so the
   * archive itself is fetched without the Authorization header.
   */
  private tarballRedirect(c: Ctx): FakeReply {
    const ref = c.params.ref!;
    if (!c.repo.tarballs.has(ref) && !this.filesAtRef(c.repo, ref)) return error(404, 'Not Found');
    const token = randomBytes(12).toString('hex');
    this.codeloadTokens.set(token, Date.now() + 5 * 60_000);
    const location = `${this.url}/_codeload/${c.repo.owner}/${c.repo.name}/legacy.tar.gz/${ref}?token=${token}`;
    return { status: 302, headers: { location }, body: '' };
  }

  private async codeload(req: RecordedRequest, params: Record<string, string>): Promise<FakeReply> {
    const expires = this.codeloadTokens.get(req.query.token ?? '');
    if (expires === undefined || expires < Date.now()) return { status: 404, body: '404: Not Found' };
    const repo = this.repos.get(`${params.owner}/${params.repo}`.toLowerCase());
    const ref = params.ref!;
    const own = repo?.tarballs.get(ref);
    if (own) return { status: 200, headers: { 'content-type': 'application/x-gzip' }, body: own };
    const files = repo && this.filesAtRef(repo, ref);
    if (!repo || !files) return { status: 404, body: '404: Not Found' };
    // GitHub names the top directory owner-repo-shortsha.
    const top = `${repo.owner}-${repo.name}-${ref.slice(0, 7)}`;
    const entries: TarEntry[] = [...files].map(([path, content]) => ({ name: `${top}/${path}`, content }));
    return {
      status: 200,
      headers: { 'content-type': 'application/x-gzip' },
      body: await buildTarball(entries),
    };
  }

  private getContents(c: Ctx): FakeReply {
    const ref = c.req.query.ref || c.repo.defaultBranch;
    const files = this.filesAtRef(c.repo, ref);
    if (!files) return error(404, `No commit found for the ref ${ref}`);
    const path = c.params.path!.replace(/\/+$/, '');
    const content = files.get(path);
    const base = `${this.url}/repos/${c.repo.owner}/${c.repo.name}/contents/`;
    const entry = (p: string, type: 'file' | 'dir', text = '') => ({
      type,
      name: p.split('/').pop(),
      path: p,
      sha: gitBlobSha(text),
      size: type === 'file' ? Buffer.byteLength(text) : 0,
      url: `${base}${p}?ref=${ref}`,
      html_url: `https://github.com/${c.repo.owner}/${c.repo.name}/blob/${ref}/${p}`,
      download_url:
        type === 'file' ? `https://raw.githubusercontent.com/${c.repo.owner}/${c.repo.name}/${ref}/${p}` : null,
    });
    if (content !== undefined) {
      if (String(c.req.headers.accept ?? '').includes('raw')) {
        return { status: 200, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' }, body: content };
      }
      const encoded = Buffer.from(content).toString('base64').replace(/.{60}/g, '$&\n');
      return { status: 200, body: { ...entry(path, 'file', content), content: encoded, encoding: 'base64' } };
    }
    const children = new Map<string, ReturnType<typeof entry>>();
    for (const [p, text] of files) {
      if (!p.startsWith(`${path}/`)) continue;
      const [name, ...rest] = p.slice(path.length + 1).split('/');
      const child = `${path}/${name}`;
      children.set(child, rest.length ? entry(child, 'dir') : entry(child, 'file', text));
    }
    if (children.size > 0) return { status: 200, body: [...children.values()] };
    return {
      status: 404,
      body: {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
        status: '404',
      },
    };
  }

  private compare(c: Ctx): FakeReply {
    const [base, head] = c.params.basehead!.split('...');
    const files = base && head ? c.repo.comparisons.get(`${base}...${head}`) : undefined;
    if (!files) return error(404, 'Not Found');
    const repoUrl = `https://github.com/${c.repo.owner}/${c.repo.name}`;
    return {
      status: 200,
      body: {
        url: `${this.url}/repos/${c.repo.owner}/${c.repo.name}/compare/${base}...${head}`,
        html_url: `${repoUrl}/compare/${base}...${head}`,
        status: 'ahead',
        ahead_by: 1,
        behind_by: 0,
        total_commits: 1,
        base_commit: { sha: base },
        merge_base_commit: { sha: base },
        commits: [{ sha: head, commit: { message: '' }, parents: [{ sha: base }] }],
        files: this.filesJson(files.slice(0, MAX_COMPARE_FILES)),
      },
    };
  }

  private getPull(c: Ctx): FakeReply {
    const pull = this.pull(c);
    if (/vnd\.github(\.v3)?\.diff/.test(String(c.req.headers.accept ?? ''))) {
      if (pull.diffTooLarge) {
        return {
          status: 406,
          body: {
            message: `Sorry, the diff exceeded the maximum number of files (${DIFF_MAX_FILES}). Consider using 'List pull requests files' API or locally cloning the repository instead.`,
            errors: [{ resource: 'PullRequest', field: 'diff', code: 'too_large' }],
            documentation_url: 'https://docs.github.com/rest/pulls/pulls#list-pull-requests-files',
            status: '406',
          },
        };
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/vnd.github.v3.diff; charset=utf-8' },
        body: pull.diff ?? unifiedDiff(pull.files),
      };
    }
    return { status: 200, body: this.pullJson(c.repo, pull) };
  }

  private createReview(c: Ctx): FakeReply {
    const pull = this.pull(c);
    const body = asObject(c.req.body);
    if (!body) return error(400, 'Problems parsing JSON');
    const event = body.event as string | undefined;
    if (event !== undefined && !(event in REVIEW_EVENTS)) {
      return error(
        422,
        `Invalid request.\n\nFor 'properties/event', ${JSON.stringify(event)} is not one of ["APPROVE", "REQUEST_CHANGES", "COMMENT"].`,
      );
    }
    if ((event === 'APPROVE' || event === 'REQUEST_CHANGES') && c.grant.login === (pull.input.user ?? DEFAULT_AUTHOR)) {
      const verb = event === 'APPROVE' ? 'approve' : 'request changes on';
      return error(422, 'Unprocessable Entity', { errors: [`Can not ${verb} your own pull request`] });
    }
    const commitId = (body.commit_id as string | undefined) ?? pull.head.sha;
    const files = pull.filesAt.get(commitId);
    if (!files) return error(422, 'Unprocessable Entity', { errors: [`No commit found for SHA: ${commitId}`] });
    const comments = (body.comments ?? []) as Record<string, unknown>[];
    if (!Array.isArray(comments)) return error(422, "Invalid request.\n\nFor 'properties/comments', is not an array.");
    const placed: { comment: Record<string, unknown>; hunk: Hunk }[] = [];
    for (const comment of comments) {
      const file = files.find((f) => f.filename === comment.path);
      if (!file) return error(422, 'Unprocessable Entity', { errors: ['Path could not be resolved'] });
      const hunk = resolveComment(file.patch, comment as never);
      if (!hunk) return error(422, 'Unprocessable Entity', { errors: ['Line could not be resolved'] });
      placed.push({ comment, hunk });
    }
    const id = this.nextId++;
    const user = this.userJson(c.grant.login);
    const prUrl = `${this.url}/repos/${c.repo.owner}/${c.repo.name}/pulls/${pull.input.number}`;
    const htmlUrl = `https://github.com/${c.repo.owner}/${c.repo.name}/pull/${pull.input.number}`;
    const submitted = now();
    const review: GitHubReview = {
      id,
      node_id: `PRR_${id}`,
      user,
      body: String(body.body ?? ''),
      state: event ? REVIEW_EVENTS[event]! : 'PENDING',
      commit_id: commitId,
      html_url: `${htmlUrl}#pullrequestreview-${id}`,
      pull_request_url: prUrl,
      ...(event ? { submitted_at: submitted } : {}),
      author_association: 'NONE',
    };
    pull.reviews.push(review);
    for (const { comment, hunk } of placed) {
      const commentId = this.nextId++;
      const line = (comment.line as number | undefined) ?? null;
      const startLine = (comment.start_line as number | undefined) ?? null;
      const side = String(comment.side ?? 'RIGHT').toUpperCase();
      pull.comments.push({
        id: commentId,
        node_id: `PRRC_${commentId}`,
        pull_request_review_id: id,
        path: String(comment.path),
        body: String(comment.body ?? ''),
        commit_id: commitId,
        original_commit_id: commitId,
        diff_hunk: hunk.text,
        line,
        original_line: line,
        side,
        start_line: startLine,
        original_start_line: startLine,
        start_side: startLine === null ? null : String(comment.start_side ?? side).toUpperCase(),
        position: (comment.position as number | undefined) ?? null,
        original_position: (comment.position as number | undefined) ?? null,
        subject_type: 'line',
        user,
        html_url: `${htmlUrl}#discussion_r${commentId}`,
        pull_request_url: prUrl,
        created_at: submitted,
        updated_at: submitted,
        author_association: 'NONE',
      });
    }
    return { status: 200, body: review };
  }

  private listIssueComments(c: Ctx): FakeReply {
    const number = Number(c.params.issue_number);
    if (!c.repo.pulls.has(number)) return error(404, 'Not Found');
    return this.paged(c.req, c.repo.issueComments.get(number) ?? []);
  }

  private createIssueComment(c: Ctx): FakeReply {
    const number = Number(c.params.issue_number);
    if (!c.repo.pulls.has(number)) return error(404, 'Not Found');
    const text = asObject(c.req.body)?.body;
    if (typeof text !== 'string' || text === '') return error(422, 'Invalid request.\n\n"body" wasn\'t supplied.');
    const id = this.nextId++;
    const created = now();
    const comment: GitHubIssueComment = {
      id,
      node_id: `IC_${id}`,
      body: text,
      user: this.userJson(c.grant.login),
      html_url: `https://github.com/${c.repo.owner}/${c.repo.name}/pull/${number}#issuecomment-${id}`,
      issue_url: `${this.url}/repos/${c.repo.owner}/${c.repo.name}/issues/${number}`,
      created_at: created,
      updated_at: created,
      author_association: 'NONE',
    };
    c.repo.issueComments.set(number, [...(c.repo.issueComments.get(number) ?? []), comment]);
    return { status: 201, body: comment };
  }

  private createCheckRun(c: Ctx): FakeReply {
    const body = asObject(c.req.body);
    if (!body) return error(400, 'Problems parsing JSON');
    for (const field of ['name', 'head_sha']) {
      if (typeof body[field] !== 'string' || body[field] === '') {
        return error(422, `Invalid request.\n\n"${field}" wasn't supplied.`);
      }
    }
    if (!this.knownShas(c.repo).has(body.head_sha as string)) {
      return error(422, 'Unprocessable Entity', { errors: [`No commit found for SHA: ${body.head_sha}`] });
    }
    const id = this.nextId++;
    const run: GitHubCheckRun = {
      id,
      node_id: `CR_${id}`,
      name: body.name as string,
      head_sha: body.head_sha as string,
      external_id: null,
      details_url: null,
      status: 'queued',
      conclusion: null,
      started_at: now(),
      completed_at: null,
      output: { title: null, summary: null, text: null, annotations_count: 0 },
      html_url: `https://github.com/${c.repo.owner}/${c.repo.name}/runs/${id}`,
      url: `${this.url}/repos/${c.repo.owner}/${c.repo.name}/check-runs/${id}`,
      check_suite: { id: numericId(`${c.repo.id}:${body.head_sha}`) },
      app: this.app ? { id: this.app.id, slug: this.app.slug, name: this.app.name } : null,
      pull_requests: [],
    };
    const invalid = this.applyCheckRun(run, body);
    if (invalid) return invalid;
    c.repo.checkRuns.push(run);
    return { status: 201, body: run };
  }

  private getCheckRun(c: Ctx): FakeReply {
    const run = c.repo.checkRuns.find((r) => r.id === Number(c.params.check_run_id));
    return run ? { status: 200, body: run } : error(404, 'Not Found');
  }

  private updateCheckRun(c: Ctx): FakeReply {
    const run = c.repo.checkRuns.find((r) => r.id === Number(c.params.check_run_id));
    if (!run) return error(404, 'Not Found');
    const body = asObject(c.req.body);
    if (!body) return error(400, 'Problems parsing JSON');
    const updated: GitHubCheckRun = { ...run, output: { ...run.output } };
    const invalid = this.applyCheckRun(updated, body);
    if (invalid) return invalid;
    Object.assign(run, updated);
    return { status: 200, body: run };
  }

  /** Applies the writable fields of a check run body; returns GitHub's 422 when they are invalid. */
  private applyCheckRun(run: GitHubCheckRun, body: Record<string, unknown>): FakeReply | undefined {
    const { status, conclusion, output } = body as { status?: string; conclusion?: string; output?: unknown };
    if (status !== undefined && !CHECK_STATUSES.includes(status)) {
      return error(422, `Invalid request.\n\nFor 'properties/status', ${JSON.stringify(status)} is not a valid value.`);
    }
    if (conclusion !== undefined && !CHECK_CONCLUSIONS.includes(conclusion)) {
      return error(
        422,
        `Invalid request.\n\nFor 'properties/conclusion', ${JSON.stringify(conclusion)} is not a valid value.`,
      );
    }
    if (status === 'completed' && conclusion === undefined && run.conclusion === null) {
      return error(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.');
    }
    if (output !== undefined) {
      const out = asObject(output);
      if (!out || typeof out.title !== 'string' || typeof out.summary !== 'string') {
        return error(422, 'Invalid request.\n\n"title", "summary" weren\'t supplied.');
      }
      const annotations = Array.isArray(out.annotations) ? out.annotations.length : 0;
      if (annotations > 50) return error(422, 'Invalid request.\n\nOnly 50 annotations are allowed per request.');
      run.output = {
        title: out.title,
        summary: out.summary,
        text: typeof out.text === 'string' ? out.text : run.output.text,
        annotations_count: run.output.annotations_count + annotations,
      };
    }
    for (const field of ['details_url', 'external_id', 'name', 'started_at'] as const) {
      if (typeof body[field] === 'string') (run as unknown as Record<string, unknown>)[field] = body[field];
    }
    if (status !== undefined) run.status = status;
    // GitHub: providing a conclusion sets the status to completed.
    if (conclusion !== undefined) {
      run.conclusion = conclusion;
      run.status = 'completed';
    }
    if (run.status === 'completed')
      run.completed_at = (body.completed_at as string | undefined) ?? run.completed_at ?? now();
    return undefined;
  }

  private listCheckRuns(c: Ctx): FakeReply {
    const ref = c.params.ref!;
    const branchHeads = [...c.repo.pulls.values()].filter((p) => p.head.ref === ref).map((p) => p.head.sha);
    const runs = c.repo.checkRuns.filter(
      (r) =>
        (r.head_sha === ref || branchHeads.includes(r.head_sha)) &&
        (!c.req.query.check_name || r.name === c.req.query.check_name) &&
        (!c.req.query.status || r.status === c.req.query.status),
    );
    return this.paged(c.req, runs, (page) => ({ total_count: runs.length, check_runs: page }));
  }

  private repoInstallation(params: Record<string, string>): FakeReply {
    const repo = this.repos.get(`${params.owner}/${params.repo}`.toLowerCase());
    const installation = repo && [...this.installations.values()].find((i) => this.installationCovers(i, repo));
    if (!installation) return error(404, 'Not Found');
    return { status: 200, body: this.installationJson(installation) };
  }

  private mintToken(req: RecordedRequest, params: Record<string, string>): FakeReply {
    const installation = this.installations.get(Number(params.installation_id));
    if (!installation) return error(404, 'Not Found');
    const body = asObject(req.body) ?? {};
    const owned = [...this.repos.values()].filter((r) => this.installationCovers(installation, r));
    const names = Array.isArray(body.repositories) ? (body.repositories as string[]) : [];
    const ids = Array.isArray(body.repository_ids) ? (body.repository_ids as number[]) : [];
    const chosen: RepoState[] = [];
    for (const wanted of [...names.map((n) => ({ name: n })), ...ids.map((id) => ({ id }))]) {
      const repo = owned.find((r) =>
        'name' in wanted ? r.name.toLowerCase() === String(wanted.name).toLowerCase() : r.id === wanted.id,
      );
      if (!repo) {
        return error(
          422,
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        );
      }
      if (!chosen.includes(repo)) chosen.push(repo);
    }
    const requested = asObject(body.permissions) as GitHubPermissions | undefined;
    for (const [name, level] of Object.entries(requested ?? {})) {
      const granted = installation.permissions[name];
      if (!granted || !(level in LEVELS) || LEVELS[granted] < LEVELS[level]) {
        return error(422, 'The permissions requested are not granted to this installation.');
      }
    }
    const permissions = requested ?? installation.permissions;
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const expiresAt = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const restricted = chosen.length > 0;
    this.grants.set(token, {
      kind: 'installation',
      login: `${this.app?.slug ?? 'app'}[bot]`,
      installationId: installation.id,
      repos: restricted ? new Set(chosen.map((r) => `${r.owner}/${r.name}`.toLowerCase())) : undefined,
      permissions,
      expiresAt: Date.parse(expiresAt),
    });
    this.installationTokens.push({
      token,
      installationId: installation.id,
      ...(restricted ? { repositories: chosen.map((r) => `${r.owner}/${r.name}`) } : {}),
      permissions,
      expiresAt,
    });
    return {
      status: 201,
      body: {
        token,
        expires_at: expiresAt,
        permissions,
        repository_selection: restricted || installation.repositories ? 'selected' : 'all',
        ...(restricted ? { repositories: chosen.map((r) => this.repoJson(r)) } : {}),
      },
    };
  }

  // ---- user-to-server OAuth of a GitHub App (sign-in with GitHub), in one block ----

  /** Accepts `clientId`/`clientSecret` at the OAuth endpoints, as the App's client credentials. */
  setOAuthClient(clientId: string, clientSecret: string): this {
    this.oauth.clients.set(clientId, clientSecret);
    return this;
  }

  /**
   * The user the authorize page signs in and who consents; `repositories` (`owner/name`) limits
   * what the user can reach (every repository when omitted). Undefined: nobody is signed in.
   */
  signInAs(login: string | undefined, repositories?: string[]): this {
    this.oauth.signedIn = login === undefined ? undefined : { login, ...(repositories ? { repositories } : {}) };
    return this;
  }

  /** Revokes every user-to-server token of `login`, as when the user revokes the App's access. */
  revokeUserTokens(login: string): this {
    for (const [token, grant] of this.grants)
      if (token.startsWith('ghu_') && grant.login.toLowerCase() === login.toLowerCase()) this.grants.delete(token);
    return this;
  }

  /** An organization team and its members, as its memberships endpoint reports them. */
  addTeam(org: string, slug: string, members: string[]): this {
    this.oauth.teams.set(`${org}/${slug}`.toLowerCase(), new Set(members.map((m) => m.toLowerCase())));
    return this;
  }

  private registerUserOAuthRoutes(): void {
    this.route('GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}', (req, params) => {
      const grant = this.userGrant(req);
      if ('status' in grant) return grant;
      const team = this.oauth.teams.get(`${params.org}/${params.team_slug}`.toLowerCase());
      if (!team?.has(params.username!.toLowerCase())) return error(404, 'Not Found');
      return {
        status: 200,
        body: {
          url: `${this.url}/teams/${numericId(`${params.org}/${params.team_slug}`)}/memberships/${params.username}`,
          role: 'member',
          state: 'active',
        },
      };
    });
    // The browser arrives here; GitHub shows its sign-in and consent, then redirects back.
    this.route('GET', '/login/oauth/authorize', (req) => {
      const { client_id: clientId, redirect_uri: redirectUri, state } = req.query;
      if (!clientId || !this.oauth.clients.has(clientId)) return { status: 404, body: 'Not Found' };
      if (!redirectUri) return { status: 422, body: 'redirect_uri is required' };
      const back = new URL(redirectUri);
      if (!this.oauth.signedIn) {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'The user has denied your application access.');
      } else {
        const code = randomBytes(10).toString('hex');
        this.oauth.codes.set(code, { clientId, redirectUri, ...this.oauth.signedIn });
        back.searchParams.set('code', code);
      }
      if (state) back.searchParams.set('state', state);
      return { status: 302, headers: { location: back.toString() }, body: '' };
    });
    // Errors are 200 with an `error` field, as GitHub answers this endpoint.
    this.route('POST', '/login/oauth/access_token', (req) => {
      const params =
        asObject(req.body) ?? Object.fromEntries(new URLSearchParams(typeof req.body === 'string' ? req.body : ''));
      const fail = (error: string, description: string) =>
        this.oauthReply(req, { error, error_description: description, error_uri: `${DOCS}/apps/oauth` });
      const clientId = String(params.client_id ?? '');
      if (!this.oauth.clients.has(clientId) || this.oauth.clients.get(clientId) !== String(params.client_secret ?? ''))
        return fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
      const code = this.oauth.codes.get(String(params.code ?? ''));
      this.oauth.codes.delete(String(params.code ?? ''));
      if (!code || code.clientId !== clientId)
        return fail('bad_verification_code', 'The code passed is incorrect or expired.');
      if (params.redirect_uri !== undefined && params.redirect_uri !== code.redirectUri)
        return fail(
          'redirect_uri_mismatch',
          'The redirect_uri MUST match the registered callback URL for this application.',
        );
      const token = `ghu_${randomBytes(18).toString('hex')}`;
      this.grants.set(token, {
        kind: 'user',
        login: code.login,
        ...(code.repositories ? { repos: new Set(code.repositories.map((r) => r.toLowerCase())) } : {}),
        expiresAt: Date.now() + 8 * 3600_000,
      });
      return this.oauthReply(req, {
        access_token: token,
        expires_in: 28800,
        refresh_token: `ghr_${randomBytes(30).toString('hex')}`,
        refresh_token_expires_in: 15897600,
        token_type: 'bearer',
        scope: '',
      });
    });
    this.route('GET', '/user/installations', (req) => {
      const grant = this.userGrant(req);
      if ('status' in grant) return grant;
      const visible = [...this.installations.values()].filter((i) => this.userRepos(grant, i).length > 0);
      return this.paged(req, visible, (page) => ({
        total_count: visible.length,
        installations: page.map((i) => this.installationJson(i as Installation)),
      }));
    });
    this.route('GET', '/user/installations/{installation_id}/repositories', (req, params) => {
      const grant = this.userGrant(req);
      if ('status' in grant) return grant;
      const installation = this.installations.get(Number(params.installation_id));
      const repos = installation ? this.userRepos(grant, installation) : [];
      if (repos.length === 0) return error(404, 'Not Found');
      return this.paged(req, repos, (page) => ({
        total_count: repos.length,
        repository_selection: installation!.repositories ? 'selected' : 'all',
        repositories: page.map((r) => this.repoJson(r as RepoState)),
      }));
    });
  }

  private oauthReply(req: RecordedRequest, body: Record<string, unknown>): FakeReply {
    if (String(req.headers.accept ?? '').includes('application/json')) return { status: 200, body };
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) form.set(k, String(v));
    return { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
  }

  /** A user-to-server token's grant; GitHub refuses App and installation tokens on /user routes. */
  private userGrant(req: RecordedRequest): Grant | FakeReply {
    const grant = this.authenticate(req);
    if ('status' in grant) return grant;
    if (grant.kind !== 'user') return error(403, 'Resource not accessible by integration');
    return grant;
  }

  /** Repositories of `installation` the user reaches. */
  private userRepos(grant: Grant, installation: Installation): RepoState[] {
    return [...this.repos.values()].filter(
      (r) =>
        this.installationCovers(installation, r) &&
        (!grant.repos || grant.repos.has(`${r.owner}/${r.name}`.toLowerCase())),
    );
  }

  // ---- JSON shapes ----

  private userJson(login: string): GitHubUser {
    return {
      login,
      id: numericId(login),
      node_id: `U_${numericId(login)}`,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      html_url: `https://github.com/${login}`,
    };
  }

  private repoJson(repo: RepoState) {
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      private: repo.private,
      owner: this.userJson(repo.owner),
      html_url: `https://github.com/${repo.owner}/${repo.name}`,
      url: `${this.url}/repos/${repo.owner}/${repo.name}`,
      default_branch: repo.defaultBranch,
    };
  }

  private appJson() {
    const app = this.app!;
    return {
      id: app.id,
      slug: app.slug,
      node_id: `A_${app.id}`,
      name: app.name,
      owner: this.userJson('kritik'),
      description: '',
      external_url: 'https://example.invalid',
      html_url: `https://github.com/apps/${app.slug}`,
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
      permissions: DEFAULT_INSTALLATION_PERMISSIONS,
      events: ['pull_request'],
      installations_count: this.installations.size,
    };
  }

  private installationJson(installation: Installation) {
    return {
      id: installation.id,
      account: this.userJson(installation.account),
      app_id: this.app?.id,
      app_slug: this.app?.slug,
      target_type: 'Organization',
      permissions: installation.permissions,
      events: ['pull_request'],
      repository_selection: installation.repositories ? 'selected' : 'all',
      access_tokens_url: `${this.url}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${this.url}/installation/repositories`,
      html_url: `https://github.com/organizations/${installation.account}/settings/installations/${installation.id}`,
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    };
  }

  private pullJson(repo: RepoState, pull: PullState) {
    const { input } = pull;
    const repoJson = this.repoJson(repo);
    const side = (s: { ref: string; sha: string }) => ({
      label: `${repo.owner}:${s.ref}`,
      ref: s.ref,
      sha: s.sha,
      user: this.userJson(repo.owner),
      repo: repoJson,
    });
    const htmlUrl = `https://github.com/${repo.owner}/${repo.name}/pull/${input.number}`;
    return {
      url: `${this.url}/repos/${repo.owner}/${repo.name}/pulls/${input.number}`,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      number: input.number,
      state: input.state ?? 'open',
      locked: false,
      title: input.title ?? `Pull request ${input.number}`,
      user: this.userJson(input.user ?? DEFAULT_AUTHOR),
      body: input.body ?? null,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: null,
      merged_at: null,
      merge_commit_sha: null,
      draft: input.draft ?? false,
      labels: (input.labels ?? []).map((name) => this.labelJson(repo, name)),
      head: side(pull.head),
      base: side(pull.base),
      author_association: 'CONTRIBUTOR',
      merged: false,
      mergeable: null,
      comments: repo.issueComments.get(input.number)?.length ?? 0,
      review_comments: pull.comments.length,
      commits: pull.filesAt.size,
      additions: pull.files.reduce((sum, f) => sum + f.additions, 0),
      deletions: pull.files.reduce((sum, f) => sum + f.deletions, 0),
      changed_files: pull.files.length,
    };
  }

  /** A label as pulls.get lists it; its id is stable per repository and name. */
  private labelJson(repo: RepoState, name: string) {
    const id = Number.parseInt(gitBlobSha(`${repo.owner}/${repo.name}:label:${name}`).slice(0, 8), 16);
    return {
      id,
      node_id: `LA_${id}`,
      url: `${this.url}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      description: null,
    };
  }

  private pullFile(repo: RepoState, sha: string, f: PullFileInput): PullFile {
    const counted = countChanges(f.patch);
    const additions = f.additions ?? counted.additions;
    const deletions = f.deletions ?? counted.deletions;
    const web = `https://github.com/${repo.owner}/${repo.name}`;
    return {
      sha: gitBlobSha(`${sha}:${f.filename}:${f.patch ?? ''}`),
      filename: f.filename,
      status: f.status ?? 'modified',
      additions,
      deletions,
      changes: f.changes ?? additions + deletions,
      blob_url: `${web}/blob/${sha}/${f.filename}`,
      raw_url: `${web}/raw/${sha}/${f.filename}`,
      contents_url: `/repos/${repo.owner}/${repo.name}/contents/${f.filename}?ref=${sha}`,
      ...(f.patch !== undefined ? { patch: f.patch } : {}),
      ...(f.previous_filename !== undefined ? { previous_filename: f.previous_filename } : {}),
    };
  }

  /** Stored files keep API links relative: the fake's address is only known once it is started. */
  private filesJson(files: PullFile[]): PullFile[] {
    return files.map((f) => ({ ...f, contents_url: `${this.url}${f.contents_url}` }));
  }

  /** Files of a ref; a PR's base or head SHA without files of its own reads its branch's files. */
  private filesAtRef(repo: RepoState, ref: string): Map<string, string> | undefined {
    const own = repo.refs.get(ref);
    if (own) return own;
    for (const pull of repo.pulls.values()) {
      if (pull.base.sha === ref) return repo.refs.get(pull.base.ref);
      if (pull.head.sha === ref) return repo.refs.get(pull.head.ref);
    }
    return undefined;
  }

  private knownShas(repo: RepoState): Set<string> {
    const shas = new Set(repo.refs.keys());
    for (const pull of repo.pulls.values()) {
      shas.add(pull.base.sha);
      for (const sha of pull.filesAt.keys()) shas.add(sha);
    }
    return shas;
  }

  // ---- conversations: summary edits, thread replies, reactions, GraphQL review threads ----

  /** Review threads (GraphQL ids) a caller resolved, with who resolved them. */
  private readonly resolvedThreads = new Map<string, string>();

  /** The review threads of a pull request as GitHub's GraphQL API shows them, for assertions. */
  reviewThreads(owner: string, repo: string, number: number): FakeReviewThread[] {
    return this.threadsOf(this.pullOrThrow(owner, repo, number));
  }

  /** Reactions on comments (issue and review comments share GitHub's id space), by comment id. */
  private readonly commentReactions = new Map<number, { content: string; user: string }[]>();

  /** A comment written on a pull request's conversation by `user`, as through GitHub's web page. */
  addIssueComment(
    owner: string,
    repo: string,
    number: number,
    body: string,
    user = DEFAULT_AUTHOR,
  ): GitHubIssueComment {
    const state = this.repoOrThrow(owner, repo);
    this.pullOrThrow(owner, repo, number);
    const id = this.nextId++;
    const created = now();
    const comment: GitHubIssueComment = {
      id,
      node_id: `IC_${id}`,
      body,
      user: this.userJson(user),
      html_url: `https://github.com/${owner}/${repo}/pull/${number}#issuecomment-${id}`,
      issue_url: `${this.url}/repos/${owner}/${repo}/issues/${number}`,
      created_at: created,
      updated_at: created,
      author_association: 'CONTRIBUTOR',
    };
    state.issueComments.set(number, [...(state.issueComments.get(number) ?? []), comment]);
    return comment;
  }

  /** The reactions given on a comment, as `content` and the login that gave it. */
  reactions(commentId: number): { content: string; user: string }[] {
    return [...(this.commentReactions.get(commentId) ?? [])];
  }

  private registerConversationRoutes(): void {
    const pull = '/repos/{owner}/{repo}/pulls/{pull_number}';
    const prWrite: Access = { anyOf: [['pull_requests', 'write']] };
    const issueWrite: Access = {
      anyOf: [
        ['issues', 'write'],
        ['pull_requests', 'write'],
      ],
    };
    this.endpoint('POST', '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', issueWrite, (c) =>
      this.react(c, [...c.repo.issueComments.values()].flat()),
    );
    this.endpoint('POST', '/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions', prWrite, (c) =>
      this.react(
        c,
        [...c.repo.pulls.values()].flatMap((p) => p.comments),
      ),
    );
    this.endpoint('PUT', `${pull}/reviews/{review_id}`, prWrite, (c) => this.updateReview(c));
    this.endpoint('POST', `${pull}/comments/{comment_id}/replies`, prWrite, (c) => this.replyToComment(c));
    this.route('POST', '/graphql', (req) => this.graphql(req));
    const issueRead: Access = {
      anyOf: [
        ['issues', 'read'],
        ['pull_requests', 'read'],
      ],
    };
    this.endpoint('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', issueRead, (c) => {
      const id = Number(c.params.comment_id);
      const comment = [...c.repo.issueComments.values()].flat().find((x) => x.id === id);
      return comment ? { status: 200, body: comment } : error(404, 'Not Found');
    });
  }

  private react(c: Ctx, comments: { id: number }[]): FakeReply {
    const id = Number(c.params.comment_id);
    if (!comments.some((x) => x.id === id)) return error(404, 'Not Found');
    const content = asObject(c.req.body)?.content;
    if (typeof content !== 'string' || !REACTIONS.includes(content))
      return error(
        422,
        `Invalid request.\n\nFor 'properties/content', ${JSON.stringify(content)} is not one of ${JSON.stringify(REACTIONS)}.`,
      );
    const given = this.commentReactions.get(id) ?? [];
    const reaction = {
      id: id * 1000 + given.length,
      node_id: `REA_${id}`,
      content,
      user: this.userJson(c.grant.login),
      created_at: now(),
    };
    // The same reaction by the same user again is answered 200 with the existing one.
    if (given.some((r) => r.content === content && r.user === c.grant.login)) return { status: 200, body: reaction };
    this.commentReactions.set(id, [...given, { content, user: c.grant.login }]);
    return { status: 201, body: reaction };
  }

  private updateReview(c: Ctx): FakeReply {
    const review = this.pull(c).reviews.find((r) => r.id === Number(c.params.review_id));
    if (!review) return error(404, 'Not Found');
    const text = asObject(c.req.body)?.body;
    if (typeof text !== 'string' || text === '') return error(422, 'Invalid request.\n\n"body" wasn\'t supplied.');
    // Only a review's author may edit it.
    if (review.user.login !== c.grant.login) return error(403, 'Resource not accessible by integration');
    review.body = text;
    return { status: 200, body: review };
  }

  private replyToComment(c: Ctx): FakeReply {
    const pull = this.pull(c);
    const parent = pull.comments.find((x) => x.id === Number(c.params.comment_id));
    if (!parent) return error(404, 'Not Found');
    const text = asObject(c.req.body)?.body;
    if (typeof text !== 'string' || text === '') return error(422, 'Invalid request.\n\n"body" wasn\'t supplied.');
    // Replies join the thread of the comment they answer: GitHub has no nested replies.
    const root = parent.in_reply_to_id ?? parent.id;
    const id = this.nextId++;
    const created = now();
    const reply: GitHubReviewComment = {
      ...parent,
      id,
      node_id: `PRRC_${id}`,
      body: text,
      in_reply_to_id: root,
      user: this.userJson(c.grant.login),
      html_url: parent.html_url.replace(/#discussion_r\d+$/, `#discussion_r${id}`),
      created_at: created,
      updated_at: created,
    };
    pull.comments.push(reply);
    return { status: 201, body: reply };
  }

  private threadsOf(pull: PullState): FakeReviewThread[] {
    const head = pull.filesAt.get(pull.head.sha) ?? pull.files;
    return pull.comments
      .filter((c) => c.in_reply_to_id === undefined)
      .map((root) => {
        const id = `PRRT_${root.id}`;
        const before = pull.filesAt.get(root.commit_id)?.find((f) => f.filename === root.path);
        const after = head.find((f) => f.filename === root.path);
        const line = root.original_line ?? root.line;
        // GitHub marks a thread outdated once the line it is on reads differently at the head.
        const outdated = line === null || rightLineText(before?.patch, line) !== rightLineText(after?.patch, line);
        return {
          id,
          isResolved: this.resolvedThreads.has(id),
          isOutdated: outdated,
          path: root.path,
          line: outdated ? null : line,
          resolvedBy: this.resolvedThreads.get(id) ?? null,
          comments: pull.comments.filter((c) => c.id === root.id || c.in_reply_to_id === root.id),
        };
      });
  }

  /**
   * GitHub's GraphQL endpoint for the two operations Kritik sends: reading a pull request's review
   * threads and `resolveReviewThread`. Errors come back as HTTP 200 with `errors`, like GitHub's.
   */
  private graphql(req: RecordedRequest): FakeReply {
    const grant = this.authenticate(req);
    if ('status' in grant) return grant;
    const body = asObject(req.body);
    const query = typeof body?.query === 'string' ? body.query : '';
    const variables = asObject(body?.variables) ?? {};
    const fail = (type: string, message: string) => ({
      status: 200,
      body: { data: null, errors: [{ type, message, locations: [{ line: 1, column: 1 }] }] },
    });
    if (query === '')
      return { status: 400, body: { message: 'A query attribute must be specified and must be a string.' } };
    const reaches = (repo: RepoState, level: GitHubPermissionLevel) => {
      if (grant.kind === 'app' || !this.grantReaches(grant, repo)) return false;
      const granted = grant.permissions?.pull_requests;
      return !grant.permissions || (granted !== undefined && LEVELS[granted] >= LEVELS[level]);
    };
    if (/\bresolveReviewThread\s*\(/.test(query)) {
      const threadId = String(variables.threadId ?? '');
      const found = this.findThread(threadId);
      if (!found) return fail('NOT_FOUND', `Could not resolve to a node with the global id of '${threadId}'`);
      if (!reaches(found.repo, 'write')) return fail('FORBIDDEN', 'Resource not accessible by integration');
      this.resolvedThreads.set(threadId, grant.login.replace(/\[bot\]$/, ''));
      return { status: 200, body: { data: { resolveReviewThread: { thread: { id: threadId, isResolved: true } } } } };
    }
    if (/\breviewThreads\b/.test(query)) {
      const repo = this.repos.get(`${variables.owner}/${variables.name}`.toLowerCase());
      const pull = repo?.pulls.get(Number(variables.number));
      if (!repo || !reaches(repo, 'read'))
        return fail(
          'NOT_FOUND',
          `Could not resolve to a Repository with the name '${variables.owner}/${variables.name}'.`,
        );
      if (!pull) return fail('NOT_FOUND', `Could not resolve to a PullRequest with the number of ${variables.number}.`);
      const all = this.threadsOf(pull);
      // The query's `comments(first: N)` (a literal: Kritik asks for the first comment only).
      const commentsFirst = Math.min(100, Number(/comments\s*\(\s*first\s*:\s*(\d+)/.exec(query)?.[1] ?? 100));
      const first = Math.min(100, Number(variables.first ?? 100));
      const start = variables.after ? Number(Buffer.from(String(variables.after), 'base64').toString()) : 0;
      const page = all.slice(start, start + first);
      const end = start + page.length;
      // GraphQL names a bot by its slug, without REST's `[bot]`.
      const actor = (login: string) =>
        login.endsWith('[bot]') ? { __typename: 'Bot', login: login.slice(0, -5) } : { __typename: 'User', login };
      return {
        status: 200,
        body: {
          data: {
            repository: {
              pullRequest: {
                reviewThreads: {
                  totalCount: all.length,
                  pageInfo: { hasNextPage: end < all.length, endCursor: Buffer.from(String(end)).toString('base64') },
                  nodes: page.map((t) => ({
                    id: t.id,
                    isResolved: t.isResolved,
                    isOutdated: t.isOutdated,
                    path: t.path,
                    line: t.line,
                    resolvedBy: t.resolvedBy ? { login: t.resolvedBy } : null,
                    comments: {
                      totalCount: t.comments.length,
                      nodes: t.comments.slice(0, commentsFirst).map((c) => ({
                        id: c.node_id,
                        databaseId: c.id,
                        body: c.body,
                        author: actor(c.user.login),
                        // The query's `reactions(content: THUMBS_DOWN)`; other contents are not asked.
                        reactions: {
                          totalCount: (this.commentReactions.get(c.id) ?? []).filter((r) => r.content === '-1').length,
                        },
                      })),
                    },
                  })),
                },
              },
            },
          },
        },
      };
    }
    return fail('UNSUPPORTED', 'FakeGitHub answers only reviewThreads queries and resolveReviewThread');
  }

  private findThread(threadId: string): { repo: RepoState; pull: PullState } | undefined {
    const root = Number(/^PRRT_(\d+)$/.exec(threadId)?.[1]);
    for (const repo of this.repos.values())
      for (const pull of repo.pulls.values())
        if (pull.comments.some((c) => c.id === root && c.in_reply_to_id === undefined)) return { repo, pull };
    return undefined;
  }

  private pull(c: Ctx): PullState {
    const pull = c.repo.pulls.get(Number(c.params.pull_number));
    if (!pull) throw new NotFound();
    return pull;
  }

  private repoOrThrow(owner: string, name: string): RepoState {
    const repo = this.repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo) throw new Error(`FakeGitHub: repository ${owner}/${name} not added; call addRepo first`);
    return repo;
  }

  private pullOrThrow(owner: string, repo: string, number: number): PullState {
    const pull = this.repoOrThrow(owner, repo).pulls.get(number);
    if (!pull) throw new Error(`FakeGitHub: pull request ${owner}/${repo}#${number} not added`);
    return pull;
  }
}

class NotFound extends Error {}

const REACTIONS = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

/** A pull request's review thread: its first comment and the replies to it. */
export interface FakeReviewThread {
  id: string;
  isResolved: boolean;
  isOutdated: boolean;
  path: string;
  line: number | null;
  resolvedBy: string | null;
  comments: GitHubReviewComment[];
}

/** The text of new-file line `line` in a patch, or undefined when the patch does not show it. */
function rightLineText(patch: string | undefined, line: number): string | undefined {
  let at = 0;
  for (const l of (patch ?? '').split('\n')) {
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(l);
    if (h) at = Number(h[1]);
    else if (l.startsWith('-') || l.startsWith('\\')) continue;
    else if (at === line) return l.slice(1);
    else at++;
  }
  return undefined;
}
