// Stands in for node:crypto in the browser bundle: @kritik/core imports it for review ids, which
// only the backend derives. Reaching this is a bug, said loudly.
export function createHash(): never {
  throw new Error('node:crypto is not available in the dashboard');
}
