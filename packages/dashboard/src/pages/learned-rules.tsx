// A repository's learned rules and acceptance, with "Remove" per rule (a DELETE carrying the
// session's CSRF token). A rule is a person's words: rendered as text by JSX, never as markup.
import type { LearnedRule, RepositoryRules, RepositoryRulesQuery } from '@kritik/core/dashboard';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { time } from '../format.js';

const VIA: Record<NonNullable<LearnedRule['via']>, string> = {
  reaction: '👎 on the finding',
  ignore: '`ignore` in its thread',
  resolved: 'thread resolved as won’t fix',
};

export function LearnedRules({ which, csrf }: { which: RepositoryRulesQuery; csrf: string }) {
  const [rules, setRules] = useState<RepositoryRules>();
  const [error, setError] = useState<string>();
  const [removed, setRemoved] = useState<string>();
  useEffect(() => {
    api.rules(which).then(setRules, (e: Error) => setError(e.message));
  }, [which.platform, which.repo]);
  if (error) return <p role="alert">{error}</p>;
  if (!rules) return <p aria-busy="true">Loading…</p>;
  const { acceptance: a } = rules;
  const remove = async (fingerprint: string) => {
    try {
      await api.removeRule(which, fingerprint, csrf);
      setRules({ ...rules, rules: rules.rules.filter((r) => r.fingerprint !== fingerprint) });
      setRemoved(fingerprint);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div class="rules">
      <p>
        Acceptance: {a.resolved} finding(s) resolved by a later push, {a.dismissed} dismissed
        {a.rate === null ? '' : ` (${Math.round(a.rate * 100)}% resolved)`}.
      </p>
      {removed && <p role="status">Rule {removed} removed: later reviews raise that finding again.</p>}
      {rules.rules.length === 0 ? (
        <p>No learned rules.</p>
      ) : (
        <table>
          <caption>Learned rules of {rules.repo}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Learned</th>
              <th scope="col">From</th>
              <th scope="col">Fingerprint</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {rules.rules.map((r) => (
              <tr key={r.fingerprint}>
                <td class="rule-text">{r.rule}</td>
                <td>{time(r.learnedAt)}</td>
                <td>{r.via ? VIA[r.via] : 'not recorded'}</td>
                <td>
                  <code>{r.fingerprint}</code>
                </td>
                <td>
                  <button
                    type="button"
                    aria-label={`Remove rule ${r.fingerprint}`}
                    onClick={() => remove(r.fingerprint)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
