// Wire shapes of the GitHub fake: what tests give it (inputs) and what it stores and returns (REST objects).

export type GitHubPermissionLevel = 'read' | 'write' | 'admin';
export type GitHubPermissions = Record<string, GitHubPermissionLevel>;

export interface PullFileInput {
  filename: string;
  status?: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  /** Computed from `patch` when omitted. */
  additions?: number;
  deletions?: number;
  changes?: number;
  /** Omitted for binary files and files too large to diff, as GitHub does. */
  patch?: string;
  previous_filename?: string;
}

export interface PullFile {
  sha: string;
  filename: string;
  status: string;
  additions: number;
  deletions: number;
  changes: number;
  blob_url: string;
  raw_url: string;
  contents_url: string;
  patch?: string;
  previous_filename?: string;
}

export interface PullRequestInput {
  owner: string;
  repo: string;
  number: number;
  title?: string;
  body?: string | null;
  /** Author login; default `contributor`. */
  user?: string;
  draft?: boolean;
  state?: 'open' | 'closed';
  /** Label names the pull request carries. */
  labels?: string[];
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  files?: PullFileInput[];
  /** Unified diff text; generated from `files` when omitted. */
  diff?: string;
  /** Answer the diff media type with 406 too_large; defaults to more than 300 files, GitHub's limit. */
  diffTooLarge?: boolean;
}

export interface RepoInput {
  defaultBranch?: string;
  private?: boolean;
  /** ref (branch name or SHA) -> path -> content. */
  files?: Record<string, Record<string, string>>;
}

export interface AppInput {
  appId: number | string;
  slug?: string;
  name?: string;
  privateKeyPem?: string;
  publicKeyPem?: string;
}

export interface InstallationInput {
  id: number;
  /** Login of the user or organization the App is installed on. */
  account: string;
  /** Repository names the installation may access; all of the account's when omitted. */
  repositories?: string[];
  permissions?: GitHubPermissions;
}

export interface GitHubIssueComment {
  id: number;
  node_id: string;
  body: string;
  user: GitHubUser;
  html_url: string;
  issue_url: string;
  created_at: string;
  updated_at: string;
  author_association: string;
}

export interface GitHubReviewComment {
  id: number;
  node_id: string;
  pull_request_review_id: number;
  /** Set on a reply: the first comment of its thread. */
  in_reply_to_id?: number;
  path: string;
  body: string;
  commit_id: string;
  original_commit_id: string;
  diff_hunk: string;
  line: number | null;
  original_line: number | null;
  side: string;
  start_line: number | null;
  original_start_line: number | null;
  start_side: string | null;
  position: number | null;
  original_position: number | null;
  subject_type: 'line';
  user: GitHubUser;
  html_url: string;
  pull_request_url: string;
  created_at: string;
  updated_at: string;
  author_association: string;
}

export interface GitHubReview {
  id: number;
  node_id: string;
  user: GitHubUser;
  body: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING';
  commit_id: string;
  html_url: string;
  pull_request_url: string;
  submitted_at?: string;
  author_association: string;
}

export interface GitHubCheckRun {
  id: number;
  node_id: string;
  name: string;
  head_sha: string;
  external_id: string | null;
  details_url: string | null;
  status: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number };
  html_url: string;
  url: string;
  check_suite: { id: number };
  app: { id: number; slug: string; name: string } | null;
  pull_requests: unknown[];
}

export interface InstallationToken {
  token: string;
  installationId: number;
  repositories?: string[];
  permissions: GitHubPermissions;
  expiresAt: string;
}

export interface GitHubUser {
  login: string;
  id: number;
  node_id: string;
  type: 'User' | 'Bot' | 'Organization';
  html_url: string;
}
