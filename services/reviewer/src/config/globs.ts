// Glob matching of repository paths, shared by the ignore list and path instructions.
import picomatch from 'picomatch';

export type PathMatcher = (path: string) => boolean;

/**
 * Compiles globs into one matcher. A glob without a slash matches the file name in any folder
 * (`*.lock`), as .gitignore does; others match from the repository root.
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
