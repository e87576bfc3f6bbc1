import { globToRegExp } from './glob.js';

describe(globToRegExp.name, () => {
  it('matches one path segment with *', () => {
    const sut = globToRegExp('acme/*');
    expect(sut.test('acme/api')).toBe(true);
    expect(sut.test('acme/api/extra')).toBe(false);
  });

  it('matches across segments with **', () => {
    expect(globToRegExp('**').test('acme/api')).toBe(true);
  });

  it('matches one character with ?', () => {
    expect(globToRegExp('acme/api-v?').test('acme/api-v2')).toBe(true);
    expect(globToRegExp('acme/api-v?').test('acme/api-v10')).toBe(false);
  });

  it('treats dots and other regex characters literally and ignores case', () => {
    const sut = globToRegExp('acme/site.io');
    expect(sut.test('ACME/Site.io')).toBe(true);
    expect(sut.test('acme/siteXio')).toBe(false);
  });
});
