import { cookie, parseCookies, SESSION_COOKIE, sign, unsign } from './session.cookie.js';

const SECRET = 'a session secret of the tests, 32+ characters';

describe('session cookies', () => {
  it('returns the value of a cookie it signed', () => {
    expect(unsign(SECRET, sign(SECRET, 'abc-DEF_123'))).toBe('abc-DEF_123');
  });

  it.each([
    ['another secret', sign('another secret of 32 characters or more', 'abc')],
    ['an altered value', sign(SECRET, 'abc').replace('abc', 'abd')],
    ['a cut signature', sign(SECRET, 'abc').slice(0, -1)],
    ['no signature', 'abc'],
    ['only a signature', `.${sign(SECRET, 'abc').split('.')[1]}`],
    ['nothing', ''],
    ['a hostile string', '"><script>alert(1)</script>.%00\u202e'],
  ])('refuses a cookie with %s', (_, signed) => {
    expect(unsign(SECRET, signed)).toBeUndefined();
  });

  it('refuses to sign a value with a dot, which would make it ambiguous', () => {
    expect(() => sign(SECRET, 'a.b')).toThrow('must not contain a dot');
  });

  it('reads cookies by name, the first of a repeated name, and skips malformed escapes', () => {
    const sut = parseCookies(`other=1; ${SESSION_COOKIE}=a%2Eb; ${SESSION_COOKIE}=second; bad=%E0%A4%A; =x; junk`);
    expect(sut.get(SESSION_COOKIE)).toBe('a.b');
    expect(sut.get('other')).toBe('1');
    expect(sut.has('bad')).toBe(false);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('sets cookies HttpOnly, Secure and SameSite=Lax for the whole site, escaped', () => {
    expect(cookie(SESSION_COOKIE, 'a;b c', 60)).toBe(
      `${SESSION_COOKIE}=a%3Bb%20c; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax`,
    );
  });
});
