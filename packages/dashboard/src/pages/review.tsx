// One review: its timeline with times, the findings as posted, files reviewed and skipped (and
// why), tokens, cost, model, turns and files read, the pull request, and "review again" (a POST
// carrying the session's CSRF token). Everything in a result came from a pull request or a model:
// it is rendered as text only, and links are built from the record, never taken from it.
import {
  type DashboardSession,
  type ReviewRecord,
  type ReviewResult,
  reviewJobName,
  SEVERITIES,
} from '@kritik/core/dashboard';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { count, fileUrl, prUrl, time, usd } from '../format.js';
import { link } from '../router.js';

/** A link from a review's result only when it is https: the result passed through a review Job. */
const safeUrl = (url: string | undefined) => (url && /^https:\/\//i.test(url) ? url : undefined);

export function ReviewPage({ id, session }: { id: string; session: DashboardSession }) {
  const [review, setReview] = useState<ReviewRecord>();
  const [error, setError] = useState<string>();
  const [again, setAgain] = useState<string>();
  useEffect(() => {
    api.review(id).then(setReview, (e: Error) => setError(e.message));
    return api.watch((r) => {
      if (r.id === id) setReview(r);
    });
  }, [id]);
  if (error) return <p role="alert">{error}</p>;
  if (!review) return <p aria-busy="true">Loading…</p>;
  const result = review.result;
  return (
    <article aria-labelledby="review-title">
      <h1 id="review-title">
        {review.repo}#{review.pr} <span class={`status status-${review.status}`}>{review.status}</span>
      </h1>
      <p>
        <a
          href={safeUrl(result?.reviewUrl) ?? prUrl(session.hostUrl, review.platform, review.repo, review.pr)}
          rel="noreferrer"
        >
          Open the pull request
        </a>{' '}
        · head <code>{review.headSha.slice(0, 12)}</code> · trigger {review.trigger}
        {review.author && <> · by {review.author}</>}
      </p>
      {review.reason && (
        <p class="reason">
          <strong>Why it ended so:</strong> {review.reason}
        </p>
      )}
      {review.timeline.some((t) => t.status === 'running') && (
        <p>
          Kubernetes Job (with the Kubernetes runner): <code>{reviewJobName(review.id)}</code>
        </p>
      )}
      <h2>Timeline</h2>
      <ol class="timeline">
        {review.timeline.map((t) => (
          <li key={`${t.status}-${t.at}`}>
            <span class={`status status-${t.status}`}>{t.status}</span> <time dateTime={t.at}>{time(t.at)}</time>
            {t.reason && <> — {t.reason}</>}
          </li>
        ))}
      </ol>
      <h2>Result</h2>
      {result ? (
        <dl class="figures">
          <dt>Findings</dt>
          <dd>{SEVERITIES.map((s) => `${s} ${result.findings[s] ?? 0}`).join(' · ')}</dd>
          <dt>Comments posted</dt>
          <dd>{result.commentsPosted}</dd>
          <dt>Files reviewed / skipped</dt>
          <dd>
            {result.filesReviewed} / {result.filesSkipped}
          </dd>
          <dt>Tokens (input / output / cache read / cache write)</dt>
          <dd>
            {count(result.tokens.input)} / {count(result.tokens.output)} / {count(result.tokens.cacheRead)} /{' '}
            {count(result.tokens.cacheWrite)}
          </dd>
          <dt>Cost</dt>
          <dd>{usd(result.costUsd)}</dd>
          <dt>Duration</dt>
          <dd>{(result.durationMs / 1000).toFixed(1)} s</dd>
          {result.model !== undefined && (
            <>
              <dt>Model</dt>
              <dd>{result.model}</dd>
            </>
          )}
          {result.turns !== undefined && (
            <>
              <dt>Turns / tool calls</dt>
              <dd>
                {count(result.turns)} / {count(result.toolCalls ?? 0)}
              </dd>
            </>
          )}
          {result.verification && (
            <>
              <dt>Verification (checked / kept / corrected / dropped)</dt>
              <dd>
                {result.verification.checked} / {result.verification.kept} / {result.verification.corrected} /{' '}
                {result.verification.dropped}
              </dd>
            </>
          )}
        </dl>
      ) : (
        <p>No result yet.</p>
      )}
      {result && <Detail review={review} result={result} hostUrl={session.hostUrl} />}
      <button
        type="button"
        onClick={async () => {
          try {
            setAgain(await api.reviewAgain(review.id, session.csrf));
          } catch (e) {
            setError((e as Error).message);
          }
        }}
      >
        Review again
      </button>
      {again && (
        <p role="status">
          Queued as{' '}
          <a href={`/reviews/${again}`} onClick={link(`/reviews/${again}`)}>
            a new review
          </a>
          .
        </p>
      )}
    </article>
  );
}

/** "…and N more" for what compaction left out of a list. */
const more = (n: number | undefined, what: string) =>
  n ? (
    <p class="more">
      …and {count(n)} more {what}, not kept in the result (see the review on the code host).
    </p>
  ) : null;

/** The findings as posted, the files skipped and why, and the files read beyond the diff. */
function Detail({ review, result, hostUrl }: { review: ReviewRecord; result: ReviewResult; hostUrl: string }) {
  const findings = result.findingList ?? [];
  const skipped = result.skippedFiles ?? [];
  const link = (path: string, line: number) =>
    fileUrl(hostUrl, review.platform, review.repo, review.headSha, path, line);
  return (
    <>
      {(findings.length > 0 || result.findingsOmitted) && (
        <section aria-labelledby="findings-title">
          <h2 id="findings-title">Findings as posted</h2>
          <table class="findings">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">File:line</th>
                <th scope="col">Title</th>
                <th scope="col">Posted</th>
              </tr>
            </thead>
            <tbody>
              {findings.map((f, i) => (
                <tr key={`${i}-${f.path}:${f.line}`}>
                  <td>
                    <span class={`severity severity-${f.severity}`}>{f.severity}</span>
                  </td>
                  <td class="path">
                    <a href={link(f.path, f.line)} rel="noreferrer">
                      {f.path}:{f.line}
                    </a>
                  </td>
                  <td>{f.title}</td>
                  <td>{f.inline ? 'inline' : 'in the summary'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {more(result.findingsOmitted, 'findings')}
        </section>
      )}
      {(skipped.length > 0 || result.skippedOmitted) && (
        <section aria-labelledby="skipped-title">
          <h2 id="skipped-title">Files skipped</h2>
          <table class="skipped">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {skipped.map((s, i) => (
                <tr key={`${i}-${s.path}`}>
                  <td class="path">{s.path}</td>
                  <td>{s.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {more(result.skippedOmitted, 'skipped files')}
        </section>
      )}
      {result.filesRead !== undefined && (
        <section aria-labelledby="read-title">
          <h2 id="read-title">Files read beyond the diff: {count(result.filesRead)}</h2>
          {result.filesReadPaths && result.filesReadPaths.length > 0 && (
            <ul class="read">
              {result.filesReadPaths.map((p) => (
                <li key={p}>
                  <a href={link(p, 0)} rel="noreferrer">
                    {p}
                  </a>
                </li>
              ))}
            </ul>
          )}
          {more(result.filesRead - (result.filesReadPaths?.length ?? 0), 'files')}
        </section>
      )}
    </>
  );
}
