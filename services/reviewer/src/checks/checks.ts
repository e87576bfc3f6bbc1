// Deterministic checks run before the model, free and instant: secrets and merge-conflict markers
// in added lines. A finding never repeats the secret; the prompt gets a redacted line instead.
import type { DiffFile } from '../diff/diff.js';
import type { Finding } from '../finding.js';

export interface CheckFinding extends Finding {
  /** Which check found it (e.g. `secret:github-token`). */
  rule: string;
}

interface SecretRule {
  id: string;
  name: string;
  pattern: RegExp;
  /** Index of the capture group holding the secret; the whole match when absent. */
  group?: number;
  /** Extra test on the captured value (entropy, placeholders). */
  accept?: (value: string) => boolean;
  /** The match is a marker, not the secret itself (a PEM header), so it may be shown. */
  marker?: boolean;
}

/** Rules for strings that are secrets wherever they appear, even in ignored files. */
const STRONG_RULES: readonly SecretRule[] = [
  {
    id: 'private-key',
    name: 'a private key',
    pattern: /-----BEGIN ((RSA|DSA|EC|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----/,
    marker: true,
  },
  {
    id: 'aws-access-key-id',
    name: 'an AWS access key id',
    pattern: /\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b/,
    group: 1,
  },
  {
    id: 'aws-secret-access-key',
    name: 'an AWS secret access key',
    pattern: /aws.{0,20}secret.{0,20}?[=:]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/i,
    group: 1,
  },
  {
    id: 'github-token',
    name: 'a GitHub token',
    pattern: /\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b/,
    group: 1,
  },
  { id: 'github-pat', name: 'a GitHub fine-grained token', pattern: /\b(github_pat_[A-Za-z0-9_]{22,255})\b/, group: 1 },
  { id: 'slack-token', name: 'a Slack token', pattern: /\b(xox[abposr]-[A-Za-z0-9-]{10,})/, group: 1 },
  {
    id: 'slack-webhook',
    name: 'a Slack webhook URL',
    pattern: /(https:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+)/,
    group: 1,
  },
  { id: 'google-api-key', name: 'a Google API key', pattern: /\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/, group: 1 },
  { id: 'stripe-key', name: 'a Stripe live key', pattern: /\b((?:sk|rk)_live_[0-9a-zA-Z]{24,})\b/, group: 1 },
  { id: 'anthropic-key', name: 'an Anthropic API key', pattern: /\b(sk-ant-[A-Za-z0-9_-]{20,})/, group: 1 },
];

const PLACEHOLDER =
  /(\$\{|\{\{|<[a-z_-]+>|^x+$|changeme|example|dummy|placeholder|redacted|your[_-]|process\.env|os\.environ|getenv)/i;

/** Secret-looking assignments whose value is long and random enough to be real. */
const ENTROPY_RULE: SecretRule = {
  id: 'high-entropy-assignment',
  name: 'a credential-like value',
  pattern:
    /(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth)[\w.-]*["']?\s*(?::=|=>|[:=])\s*["'`]([^"'`\s]{20,})["'`]/i,
  group: 1,
  accept: (v) => !PLACEHOLDER.test(v) && shannonEntropy(v) >= 3.5 && /[0-9]/.test(v) && /[A-Za-z]/.test(v),
};

/** Bits of entropy per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Shows just enough of a secret to find it, never the secret. */
export function maskSecret(value: string): string {
  const head = value.match(/^[A-Za-z]+[_-]/)?.[0] ?? value.slice(0, 4);
  return `${head}… (${value.length} characters)`;
}

export interface CheckResult {
  findings: CheckFinding[];
  /** New-side lines whose text must not reach the model, with their redacted text. */
  redactions: Map<string, Map<number, string>>;
}

/**
 * Scans added lines. `ignored(path)` files (lock files, vendored code) get only the strong rules,
 * because their hashes and fixtures would trip the entropy rule.
 */
export function runChecks(files: readonly DiffFile[], ignored: (path: string) => boolean = () => false): CheckResult {
  const findings: CheckFinding[] = [];
  const redactions = new Map<string, Map<number, string>>();
  for (const file of files) {
    if (file.binary || file.newPath === null) continue;
    const rules = ignored(file.path) ? STRONG_RULES : [...STRONG_RULES, ENTROPY_RULE];
    for (const hunk of file.hunks) {
      let conflictStart: number | null = null;
      let inKey = false;
      for (const l of hunk.lines) {
        if (l.kind !== 'add' || l.newLine === null) continue;
        if (inKey) {
          // The base64 body of a private key that started on an earlier line.
          redact(redactions, file.path, l.newLine, '[REDACTED PRIVATE KEY]');
          if (/-----END [A-Z ]*PRIVATE KEY/.test(l.text)) inKey = false;
          continue;
        }
        const hit = matchSecret(l.text, rules);
        if (hit) {
          findings.push({
            path: file.path,
            line: l.newLine,
            severity: 'critical',
            title: `Possible secret: ${hit.rule.name}`,
            body:
              `This added line appears to contain ${hit.rule.name} (\`${hit.rule.marker ? hit.value : maskSecret(hit.value)}\`). ` +
              'Anything pushed to a repository should be treated as leaked: revoke or rotate it, then load it ' +
              'from a secret store or environment variable instead of the source.',
            rule: `secret:${hit.rule.id}`,
          });
          if (hit.rule.marker) {
            redact(redactions, file.path, l.newLine, '[REDACTED PRIVATE KEY]');
            inKey = !/-----END [A-Z ]*PRIVATE KEY/.test(l.text);
          } else redact(redactions, file.path, l.newLine, l.text.split(hit.value).join('[REDACTED SECRET]'));
        }
        if (/^<{7}(?: |$)/.test(l.text)) conflictStart = l.newLine;
        else if (/^>{7}(?: |$)/.test(l.text) && conflictStart !== null) {
          findings.push(conflictFinding(file.path, conflictStart, l.newLine));
          conflictStart = null;
        }
      }
      if (conflictStart !== null) findings.push(conflictFinding(file.path, conflictStart));
    }
  }
  return { findings, redactions };
}

function redact(redactions: CheckResult['redactions'], path: string, line: number, text: string): void {
  const perFile = redactions.get(path) ?? new Map<number, string>();
  perFile.set(line, text);
  redactions.set(path, perFile);
}

function conflictFinding(path: string, line: number, end?: number): CheckFinding {
  return {
    path,
    line,
    ...(end !== undefined ? { end_line: end } : {}),
    severity: 'critical',
    title: 'Unresolved merge conflict markers',
    body: 'These lines contain git conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`). Resolve the conflict before merging.',
    rule: 'conflict-marker',
  };
}

function matchSecret(text: string, rules: readonly SecretRule[]): { rule: SecretRule; value: string } | null {
  for (const rule of rules) {
    const m = rule.pattern.exec(text);
    if (!m) continue;
    const value = rule.group === undefined ? m[0] : m[rule.group];
    if (!value) continue;
    if (rule.accept && !rule.accept(value)) continue;
    return { rule, value };
  }
  return null;
}
