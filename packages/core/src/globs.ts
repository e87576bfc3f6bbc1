// The one glob engine (picomatch): repository paths of a review (`.kritik.yaml`'s ignore list and
// path instructions) and the backend's allow-list of `owner/name` repositories.
import picomatch from 'picomatch';

export type PathMatcher = (path: string) => boolean;

/**
 * Compiles globs into one matcher: `*` within a folder, `**` across folders, `?` one character,
 * dot files included. A glob without a slash matches the file name in any folder (`*.lock`), as
 * .gitignore does; others match from the repository root.
 */
export function compileGlobs(globs: readonly string[]): PathMatcher {
  const matchers = globs
    .filter((g) => g.trim() !== '')
    .map((g) => {
      const glob = g.trim().replace(/^\.?\//, '');
      return picomatch(glob, { dot: true, basename: !glob.includes('/') });
    });
  return (path) => matchers.some((m) => m(path));
}

/** Splits `!glob` negations from positive globs: a path is ignored when matched and not negated. */
export function compileIgnore(globs: readonly string[]): PathMatcher {
  const include = compileGlobs(globs.filter((g) => !g.startsWith('!')));
  const exclude = compileGlobs(globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1)));
  return (path) => include(path) && !exclude(path);
}

/**
 * Compiles `owner/name` globs of an allow-list, ignoring case as GitHub names do. A glob matches
 * the whole name (`acme/*`, not `api`), and a leading `!` is a literal character, never a
 * negation: an allow-list entry can only ever allow what it names.
 */
export function compileRepoGlobs(globs: readonly string[]): PathMatcher {
  const matchers = globs
    .filter((g) => g.trim() !== '')
    .map((g) => picomatch(g.trim(), { dot: true, nocase: true, nonegate: true }));
  return (name) => matchers.some((m) => m(name));
}

/**
 * Why a glob cannot be used (an unbalanced bracket, brace or parenthesis), or undefined. The
 * matchers above accept such globs as literal text; an operator's policy should hear about them.
 */
export function globProblem(glob: string): string | undefined {
  try {
    picomatch(glob.replace(/^!/, ''), { strictBrackets: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
