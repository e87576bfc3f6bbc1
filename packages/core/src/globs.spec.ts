import { compileGlobs, compileIgnore, compileRepoGlobs } from './globs.js';

describe(compileGlobs.name, () => {
  it('matches a slash-less glob in any folder and a rooted glob from the root', () => {
    const sut = compileGlobs(['*.md', 'src/**/*.ts']);

    expect(['a/b/README.md', 'src/x/y.ts', 'lib/src/y.ts'].map(sut)).toEqual([true, true, false]);
  });

  it('matches dot files and ignores a leading ./ and blank globs', () => {
    const sut = compileGlobs(['./.github/**', '  ']);

    expect(['.github/workflows/ci.yml', 'src/.github/x', ''].map(sut)).toEqual([true, false, false]);
  });
});

describe(compileIgnore.name, () => {
  it('lets a negated glob bring back an ignored path', () => {
    const sut = compileIgnore(['vendor/**', '**/vendor/**', '!pkg/vendor/**']);

    expect([sut('pkg/vendor/a.go'), sut('vendor/a.go')]).toEqual([false, true]);
  });
});

describe(compileRepoGlobs.name, () => {
  it('matches one path segment with *', () => {
    const sut = compileRepoGlobs(['acme/*']);

    expect(['acme/api', 'acme/api/extra', 'acme/.github', 'other/api'].map(sut)).toEqual([true, false, true, false]);
  });

  it('matches across segments with **', () => {
    expect(compileRepoGlobs(['**'])('acme/api')).toBe(true);
  });

  it('matches one character with ?', () => {
    const sut = compileRepoGlobs(['acme/api-v?']);

    expect(['acme/api-v2', 'acme/api-v10'].map(sut)).toEqual([true, false]);
  });

  it('treats dots literally and ignores case, as GitHub names do', () => {
    const sut = compileRepoGlobs(['acme/site.io']);

    expect(['ACME/Site.io', 'acme/siteXio'].map(sut)).toEqual([true, false]);
  });

  it('matches the whole name, not its last segment', () => {
    expect(compileRepoGlobs(['api'])('acme/api')).toBe(false);
  });

  it('never turns a leading ! into a negation that would allow every other repository', () => {
    const sut = compileRepoGlobs(['!acme/*']);

    expect(['other/api', 'acme/api'].map(sut)).toEqual([false, false]);
  });

  it('matches nothing for hostile or empty entries', () => {
    const sut = compileRepoGlobs(['', '   ', '$(rm -rf /)', '../acme/api', 'acme/api/..', 'acme/api\u0000']);

    expect(['acme/api', 'a', ''].map(sut)).toEqual([false, false, false]);
  });
});
