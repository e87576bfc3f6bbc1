// How figures read on every page.
export const usd = (n: number) => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
export const count = (n: number) => n.toLocaleString('en');
export const time = (iso: string) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
/** Where the signed-in user's code host keeps a repository's pages (`hostUrl` comes from the backend's config). */
const repoUrl = (hostUrl: string, repo: string) =>
  `${hostUrl.replace(/\/+$/, '')}/${repo.split('/').map(encodeURIComponent).join('/')}`;

/** The pull request on its code host (GitLab: its merge request). */
export const prUrl = (hostUrl: string, platform: string, repo: string, pr: number) =>
  platform === 'gitlab' ? `${repoUrl(hostUrl, repo)}/-/merge_requests/${pr}` : `${repoUrl(hostUrl, repo)}/pull/${pr}`;
/**
 * A changed file at the review's head on the code host, or nothing. Built only from the record's
 * platform, repository and head SHA with the path percent-encoded per segment: a path (from a pull
 * request) can never make it another scheme, host or repository.
 */
export function fileUrl(
  hostUrl: string,
  platform: string,
  repo: string,
  headSha: string,
  path: string,
  line: number,
): string | undefined {
  if (!/^[0-9a-f]{7,64}$/.test(headSha) || path.length === 0) return undefined;
  const anchor = line > 0 ? `#L${line}` : '';
  const at = `${headSha}/${path.split('/').map(encodeURIComponent).join('/')}${anchor}`;
  return platform === 'gitlab' ? `${repoUrl(hostUrl, repo)}/-/blob/${at}` : `${repoUrl(hostUrl, repo)}/blob/${at}`;
}
