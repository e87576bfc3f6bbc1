// One review: its timeline with times, the findings as posted, files reviewed and skipped,
// tokens, cost, the pull request, and "review again" (a POST carrying the session's CSRF token).
import { type DashboardSession, type ReviewRecord, reviewJobName, SEVERITIES } from '@kritik/core/dashboard';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { count, prUrl, time, usd } from '../format.js';
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
        <a href={safeUrl(result?.reviewUrl) ?? prUrl(review.platform, review.repo, review.pr)} rel="noreferrer">
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
        </dl>
      ) : (
        <p>No result yet.</p>
      )}
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
