// Repositories: reviews and cost per day over the last 30 days as bar charts, each budget that
// covers the repository with its use and reset, the latest failures with their reasons, and on
// request its learned rules and acceptance.
import {
  BUDGET_NEARLY_SPENT,
  type DashboardSession,
  type RepositoryBudget,
  type RepositoryDay,
  type RepositoryStats,
} from '@kritik/core/dashboard';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { time, usd } from '../format.js';
import { link } from '../router.js';
import { LearnedRules } from './learned-rules.js';

export function RepositoriesPage({ session }: { session: DashboardSession }) {
  const [repos, setRepos] = useState<RepositoryStats[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.repositories().then(
      (r) => setRepos(r.repositories),
      (e: Error) => setError(e.message),
    );
  }, []);
  if (error) return <p role="alert">{error}</p>;
  if (!repos) return <p aria-busy="true">Loading…</p>;
  return (
    <section aria-labelledby="repos-title">
      <h1 id="repos-title">Repositories</h1>
      {repos.length === 0 && <p>No repositories yet.</p>}
      {repos.map((r) => (
        <article key={`${r.platform}:${r.repo}`} class="repo" aria-labelledby={`repo-${r.platform}-${r.repo}`}>
          <h2 id={`repo-${r.platform}-${r.repo}`}>{r.repo}</h2>
          <p>
            {r.days.reduce((n, d) => n + d.reviews, 0)} reviews, {usd(r.days.reduce((n, d) => n + d.costUsd, 0))} in{' '}
            {r.days.length} days
          </p>
          <h3>Budgets</h3>
          {r.budgets === null ? (
            <p>Budgets cannot be read right now (the backend's log says why).</p>
          ) : r.budgets.length === 0 ? (
            <p>No budget configured.</p>
          ) : (
            <ul class="budgets">
              {r.budgets.map((b) => (
                <BudgetBar key={b.id} budget={b} />
              ))}
            </ul>
          )}
          <div class="charts">
            <Bars title={`Reviews per day, ${r.repo}`} days={r.days} value={(d) => d.reviews} label={String} />
            <Bars title={`Cost per day, ${r.repo}`} days={r.days} value={(d) => d.costUsd} label={usd} />
          </div>
          <h3>Last failures</h3>
          {r.lastFailures.length === 0 ? (
            <p>None.</p>
          ) : (
            <ul>
              {r.lastFailures.map((f) => (
                <li key={f.id}>
                  <a href={`/reviews/${f.id}`} onClick={link(`/reviews/${f.id}`)}>
                    #{f.pr}
                  </a>{' '}
                  {time(f.updatedAt)} — {f.reason ?? 'no reason recorded'}
                </li>
              ))}
            </ul>
          )}
          <RulesToggle which={{ platform: r.platform, repo: r.repo }} csrf={session.csrf} />
        </article>
      ))}
    </section>
  );
}

/** The learned rules are read only when asked for: most visits are about reviews and cost. */
function RulesToggle({
  which,
  csrf,
}: {
  which: { platform: RepositoryStats['platform']; repo: string };
  csrf: string;
}) {
  const [open, setOpen] = useState(false);
  const id = `rules-${which.platform}-${which.repo}`;
  return (
    <>
      <h3>
        <button type="button" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
          Learned rules and acceptance
        </button>
      </h3>
      <div id={id}>{open && <LearnedRules which={which} csrf={csrf} />}</div>
    </>
  );
}

/**
 * One budget as a bar: the figures and the state are written out, so the colour is never the only
 * signal; the bar is a native `meter` whose value text is the same sentence.
 */
function BudgetBar({ budget: b }: { budget: RepositoryBudget }) {
  const share = b.usedUsd / b.limitUsd;
  const percent = Math.round(share * 100);
  const state = share >= 1 ? 'spent' : share >= BUDGET_NEARLY_SPENT ? 'nearly spent' : 'within budget';
  const whose = b.scope === 'org' ? `all repositories of ${b.subject}` : 'this repository';
  const text = `${usd(b.usedUsd)} of ${usd(b.limitUsd)} used (${percent}%), ${state}`;
  const label = `Budget ${b.id}`;
  return (
    <li class={`budget budget-${state.replace(' ', '-')}`}>
      <div class="budget-head">
        <strong>{b.id}</strong>{' '}
        <span>
          per {b.period}, {whose}
        </span>
      </div>
      <meter
        class="budget-meter"
        aria-label={label}
        aria-valuetext={text}
        min={0}
        max={b.limitUsd}
        low={b.limitUsd * BUDGET_NEARLY_SPENT}
        high={b.limitUsd}
        optimum={0}
        value={Math.min(b.usedUsd, b.limitUsd)}
      >
        {text}
      </meter>
      <div class="budget-text">
        {text} · resets {time(b.resetsAt)} UTC
      </div>
    </li>
  );
}

const W = 360;
const H = 120;

/** A bar per day; each bar's title names its day and value (hover, and for screen readers). */
function Bars(props: {
  title: string;
  days: RepositoryDay[];
  value: (d: RepositoryDay) => number;
  label: (n: number) => string;
}) {
  const max = Math.max(...props.days.map(props.value), 0);
  const bw = W / Math.max(props.days.length, 1);
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H + 16}`} role="img" aria-label={`${props.title}, peak ${props.label(max)}`}>
        <title>{props.title}</title>
        {props.days.map((d, i) => {
          const h = max > 0 ? (props.value(d) / max) * H : 0;
          return (
            <rect key={d.day} class="bar" x={i * bw + 1} y={H - h} width={bw - 2} height={h}>
              <title>
                {d.day}: {props.label(props.value(d))}
              </title>
            </rect>
          );
        })}
        <line x1="0" y1={H} x2={W} y2={H} class="axis" />
        <text x="0" y={H + 13} class="tick">
          {props.days[0]?.day}
        </text>
        <text x={W} y={H + 13} class="tick end">
          {props.days[props.days.length - 1]?.day}
        </text>
      </svg>
      <figcaption>
        {props.title.split(',')[0]} (peak {props.label(max)})
      </figcaption>
    </figure>
  );
}
