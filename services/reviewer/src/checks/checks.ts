// Deterministic checks run before the model, free and instant: secrets and merge-conflict markers
// in added lines. Secrets are redacted in place on every line the model could see (added, removed
// and context lines alike, and the pull request's text); a finding never repeats the secret.
import type { DiffFile, DiffLine, Hunk } from '../diff/diff.js';
import type { Finding } from '../finding.js';
import { inlineCode } from '../review/sanitize.js';

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
  {
    id: 'jwt',
    name: 'a JSON web token',
    pattern: /\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/,
    group: 1,
  },
  {
    id: 'url-password',
    name: 'a password in a connection URL',
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"`]+:([^\s@/'"`]+)@/i,
    group: 1,
    accept: (v) => !PLACEHOLDER.test(v) && !/^[*x]+$/i.test(v) && v.length >= 4,
  },
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

const ALL_RULES: readonly SecretRule[] = [...STRONG_RULES, ENTROPY_RULE];

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
  /** The files as the model may see them, in the same order: every secret replaced in place. */
  files: DiffFile[];
}

const SECRET = '[REDACTED SECRET]';
const PRIVATE_KEY = '[REDACTED PRIVATE KEY]';
const KEY_END = /-----END [A-Z ]*PRIVATE KEY/;

interface Hit {
  rule: SecretRule;
  value: string;
}

/** `text` with every secret the rules find replaced, and what was found, in rule order. */
export function redactSecrets(text: string, rules: readonly SecretRule[] = ALL_RULES): { text: string; hits: Hit[] } {
  const hits: Hit[] = [];
  let out = text;
  for (const rule of rules) {
    out = out.replace(new RegExp(rule.pattern.source, `${rule.pattern.flags}g`), (match, ...groups) => {
      const value = rule.group === undefined ? match : (groups[rule.group - 1] as string | undefined);
      if (!value || (rule.accept && !rule.accept(value))) return match;
      hits.push({ rule, value });
      // A private key's header is no secret, but all that follows it is.
      return rule.marker ? PRIVATE_KEY : match.replace(value, SECRET);
    });
  }
  return { text: out, hits };
}

/**
 * Scans every line of `files`; findings only on added lines (what the pull request introduces).
 * `ignored(path)` files (lock files, vendored code) get only the strong rules, because their
 * hashes and fixtures would trip the entropy rule.
 */
export function runChecks(files: readonly DiffFile[], ignored: (path: string) => boolean = () => false): CheckResult {
  const findings: CheckFinding[] = [];
  const safe = files.map((file) => {
    if (file.binary) return file;
    const rules = ignored(file.path) ? STRONG_RULES : ALL_RULES;
    const hunks = file.hunks.map((hunk): Hunk => {
      let conflictStart: number | null = null;
      let inKey = false;
      const lines = hunk.lines.map((l): DiffLine => {
        if (inKey) {
          // The base64 body of a private key that started on an earlier line.
          inKey = !KEY_END.test(l.text);
          return { ...l, text: PRIVATE_KEY };
        }
        const { text, hits } = redactSecrets(l.text, rules);
        const hit = hits[0];
        if (hit?.rule.marker) inKey = !KEY_END.test(l.text);
        if (l.kind === 'add' && l.newLine !== null) {
          if (hit) findings.push(secretFinding(file.path, l.newLine, hit));
          if (/^<{7}(?: |$)/.test(l.text)) conflictStart = l.newLine;
          else if (/^>{7}(?: |$)/.test(l.text) && conflictStart !== null) {
            findings.push(conflictFinding(file.path, conflictStart, l.newLine));
            conflictStart = null;
          }
        }
        return hits.length > 0 ? { ...l, text } : l;
      });
      if (conflictStart !== null) findings.push(conflictFinding(file.path, conflictStart));
      return { ...hunk, lines };
    });
    return { ...file, hunks };
  });
  return { findings, files: safe };
}

function secretFinding(path: string, line: number, hit: Hit): CheckFinding {
  return {
    path,
    line,
    severity: 'critical',
    title: `Possible secret: ${hit.rule.name}`,
    body:
      `This added line appears to contain ${hit.rule.name} (${inlineCode(hit.rule.marker ? hit.value : maskSecret(hit.value))}). ` +
      'Anything pushed to a repository should be treated as leaked: revoke or rotate it, then load it ' +
      'from a secret store or environment variable instead of the source.',
    rule: `secret:${hit.rule.id}`,
  };
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
