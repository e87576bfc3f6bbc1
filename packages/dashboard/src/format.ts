// How figures read on every page.
export const usd = (n: number) => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
export const count = (n: number) => n.toLocaleString('en');
export const time = (iso: string) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
/** The pull request on its platform (GitLab once it lands: its merge request). */
export const prUrl = (platform: string, repo: string, pr: number) =>
  platform === 'gitlab' ? `https://gitlab.com/${repo}/-/merge_requests/${pr}` : `https://github.com/${repo}/pull/${pr}`;
/**
 * A changed file at the review's head on the code host, or nothing. Built only from the record's
 * platform, repository and head SHA with the path percent-encoded per segment: a path (from a pull
 * request) can never make it another scheme, host or repository.
 */
export function fileUrl(
  platform: string,
  repo: string,
  headSha: string,
  path: string,
  line: number,
): string | undefined {
  if (!/^[0-9a-f]{7,64}$/.test(headSha) || path.length === 0) return undefined;
  const encode = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  const anchor = line > 0 ? `#L${line}` : '';
  return platform === 'gitlab'
    ? `https://gitlab.com/${encode(repo)}/-/blob/${headSha}/${encode(path)}${anchor}`
    : `https://github.com/${encode(repo)}/blob/${headSha}/${encode(path)}${anchor}`;
}
