// How figures read on every page.
export const usd = (n: number) => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
export const count = (n: number) => n.toLocaleString('en');
export const time = (iso: string) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
/** The pull request on its platform (GitLab once it lands: its merge request). */
export const prUrl = (platform: string, repo: string, pr: number) =>
  platform === 'gitlab' ? `https://gitlab.com/${repo}/-/merge_requests/${pr}` : `https://github.com/${repo}/pull/${pr}`;
