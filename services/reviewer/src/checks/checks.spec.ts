import { randomBytes } from 'node:crypto';
import { FIXTURES, loadFixture } from '../../test/load-fixture.js';
import { parseUnifiedDiff } from '../diff/diff.js';
import { maskSecret, redactSecrets, runChecks, shannonEntropy } from './checks.js';

/** A diff adding `lines` to `path` (secrets are assembled at run time, never stored in the source). */
function added(path: string, lines: string[]) {
  const body = lines.map((l) => `+${l}`).join('\n');
  return parseUnifiedDiff(`--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines.length} @@\n${body}\n`);
}

const alnum = (n: number) =>
  randomBytes(n * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, n)
    .padEnd(n, '7');

describe(runChecks.name, () => {
  it.each([
    ['a GitHub token', `token = "${'ghp'}_${alnum(36)}"`, 'secret:github-token'],
    ['a fine-grained GitHub token', `x: ${'github'}_pat_${alnum(30)}`, 'secret:github-pat'],
    ['an AWS access key id', `aws_access_key_id = ${'AKIA'}${alnum(16).toUpperCase()}`, 'secret:aws-access-key-id'],
    ['a Slack token', `SLACK=${'xoxb'}-${alnum(12)}-${alnum(12)}`, 'secret:slack-token'],
    ['a private key header', `-----BEGIN RSA ${'PRIVATE'} KEY-----`, 'secret:private-key'],
    ['a Google API key', `key: "${'AIza'}${alnum(35)}"`, 'secret:google-api-key'],
    ['an Anthropic key', `ANTHROPIC_API_KEY=${'sk-ant'}-${alnum(40)}`, 'secret:anthropic-key'],
    ['a random credential assignment', `client_secret: "${alnum(32)}"`, 'secret:high-entropy-assignment'],
  ])('reports %s on an added line as critical', (_name, line, rule) => {
    const sut = runChecks(added('app/config.py', ['x = 1', line]));

    expect(sut.findings).toEqual([
      expect.objectContaining({ path: 'app/config.py', line: 2, severity: 'critical', rule }),
    ]);
  });

  it('finds a secret in a diff with CRLF line endings', () => {
    const token = `${'ghp'}_${alnum(36)}`;
    const diff = `--- /dev/null\r\n+++ b/a.sh\r\n@@ -0,0 +1,2 @@\r\n+#!/bin/sh\r\n+export T=${token}\r\n`;

    const sut = runChecks(parseUnifiedDiff(diff));

    expect(sut.findings).toEqual([expect.objectContaining({ path: 'a.sh', line: 2, rule: 'secret:github-token' })]);
  });

  it('never repeats the secret in the finding', () => {
    const token = `${'ghp'}_${alnum(40)}`;

    const sut = runChecks(added('a.ts', [`const t = '${token}';`]));

    expect(JSON.stringify(sut.findings)).not.toContain(token);
    expect(sut.findings[0]!.body).toContain('ghp_…');
  });

  it('gives the model a redacted line instead of the secret, including a private key body', () => {
    const token = `${'ghp'}_${alnum(36)}`;
    const key = [`-----BEGIN ${'PRIVATE'} KEY-----`, alnum(64), alnum(20), `-----END ${'PRIVATE'} KEY-----`, 'after'];

    const sut = runChecks(added('k.pem', [`t=${token}`, ...key]));

    const lines = sut.files[0]!.hunks[0]!.lines.map((l) => l.text);
    expect(lines).toEqual(['t=[REDACTED SECRET]', ...Array(4).fill('[REDACTED PRIVATE KEY]'), 'after']);
  });

  it('redacts secrets on removed and context lines, and every secret of a line, but reports added lines only', () => {
    const [a, b, c] = [`${'ghp'}_${alnum(36)}`, `${'ghp'}_${alnum(36)}`, `${'sk-ant'}-${alnum(40)}`];
    const jwt = `eyJ${alnum(20)}.eyJ${alnum(30)}.${alnum(40)}`;
    const diff =
      '--- a/app.env\n+++ b/app.env\n@@ -1,3 +1,3 @@\n' +
      ` OLD=${a}\n-DB=postgres://app:${alnum(16)}@db:5432/app\n+TWO=${b} THREE=${c} JWT=${jwt}\n`;

    const sut = runChecks(parseUnifiedDiff(diff));

    const text = JSON.stringify(sut.files);
    for (const secret of [a, b, c, jwt]) expect(text).not.toContain(secret);
    expect(text).toContain('postgres://app:[REDACTED SECRET]@db:5432/app');
    expect(sut.findings).toEqual([expect.objectContaining({ line: 2, severity: 'critical' })]);
  });

  it.each([
    ['a database URL password', `url = "postgres://app:${'s3cr'}${alnum(12)}@db/app"`, 'secret:url-password'],
    ['a JSON web token', `auth: eyJ${alnum(20)}.eyJ${alnum(30)}.${alnum(40)}`, 'secret:jwt'],
  ])('reports %s on an added line', (_name, line, rule) => {
    const sut = runChecks(added('app/config.yaml', [line]));

    expect(sut.findings).toEqual([expect.objectContaining({ line: 1, rule })]);
  });

  it('leaves placeholder passwords in connection URLs alone', () => {
    const sut = runChecks(
      added('docs.md', [`postgres://user:${'$'}{PASSWORD}@db/app`, 'redis://:changeme@localhost', 'amqp://u:****@h']),
    );

    expect(sut.findings).toEqual([]);
  });

  it('ignores placeholders, short values and low-entropy assignments', () => {
    const sut = runChecks(
      added('settings.py', [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell-style placeholder, as config files hold them
        'password = "${DATABASE_PASSWORD_FROM_ENV_2}"',
        'api_key = "your-api-key-goes-here-123"',
        'token = "short1"',
        'secret = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"',
      ]),
    );

    expect(sut.findings).toEqual([]);
  });

  it('does not run the entropy rule on ignored files, but still the strong rules', () => {
    const files = added('package-lock.json', [`"integrity_token": "${alnum(40)}"`, `"t": "${'ghp'}_${alnum(36)}"`]);

    const sut = runChecks(files, (p) => p === 'package-lock.json');

    expect(sut.findings.map((f) => f.rule)).toEqual(['secret:github-token']);
  });

  it('reports merge conflict markers as one finding spanning the conflict', () => {
    const sut = runChecks(added('main.go', ['a', '<<<<<<< HEAD', 'x', '=======', 'y', '>>>>>>> feature', 'b']));

    expect(sut.findings).toEqual([
      expect.objectContaining({ rule: 'conflict-marker', line: 2, end_line: 6, severity: 'critical' }),
    ]);
  });

  it('does not mistake a Markdown heading underline for a conflict', () => {
    expect(runChecks(added('README.md', ['Title', '=======', 'text'])).findings).toEqual([]);
  });

  it('checks only added lines', () => {
    const diff = parseUnifiedDiff(`--- a/x\n+++ b/x\n@@ -1,2 +1,1 @@\n-${'ghp'}_${alnum(36)}\n ok\n`);

    expect(runChecks(diff).findings).toEqual([]);
  });

  it('finds nothing in real release-to-release diffs of five Go projects', () => {
    const findings = FIXTURES.flatMap((name) => runChecks(parseUnifiedDiff(loadFixture(name))).findings);

    expect(findings).toEqual([]);
  });
});

describe(shannonEntropy.name, () => {
  it('is zero for one repeated character and higher for varied text', () => {
    expect([shannonEntropy('aaaa'), shannonEntropy('abcd')]).toEqual([0, 2]);
  });
});

describe(maskSecret.name, () => {
  it('keeps only the prefix and the length', () => {
    expect(maskSecret('xoxb-123456789-abcdef')).toBe('xoxb-… (21 characters)');
  });
});

describe(redactSecrets.name, () => {
  it('replaces every secret in a text and says what it found', () => {
    const token = `${'ghp'}_${alnum(36)}`;

    const sut = redactSecrets(`Fixes ${token} and ${token}`);

    expect(sut.text).toBe('Fixes [REDACTED SECRET] and [REDACTED SECRET]');
    expect(sut.hits.map((h) => h.rule.id)).toEqual(['github-token', 'github-token']);
  });
});
