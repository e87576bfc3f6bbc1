// Reviews: filters (repository, status, author, dates), cursor pages of 50, and live updates: a
// review created or changed appears at the top as it happens.
import { type DashboardSession, REVIEW_STATUSES, type ReviewFilters, type ReviewRecord } from '@kritik/core/dashboard';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { time, usd } from '../format.js';
import { link } from '../router.js';

const PAGE = 50;

const matches = (f: ReviewFilters, r: ReviewRecord) =>
  (!f.repo || r.repo.toLowerCase() === f.repo.toLowerCase()) &&
  (!f.status || r.status === f.status) &&
  (!f.author || r.author?.toLowerCase() === f.author.toLowerCase()) &&
  (!f.from || r.createdAt.slice(0, 10) >= f.from) &&
  (!f.to || r.createdAt.slice(0, 10) <= f.to);

/**
 * The first page with rows: a selective filter can make the server stop at its scan bound with
 * an empty page and a cursor to go on (ADR 0032), so follow a few of those.
 */
async function firstPage(filters: ReviewFilters) {
  let page = await api.reviews({ ...filters, limit: PAGE });
  for (let hops = 0; page.reviews.length === 0 && page.next && hops < 5; hops++)
    page = await api.reviews({ ...filters, limit: PAGE, cursor: page.next });
  return page;
}

export function ReviewsPage({ session }: { session: DashboardSession }) {
  const [filters, setFilters] = useState<ReviewFilters>({});
  const [reviews, setReviews] = useState<ReviewRecord[]>([]);
  const [next, setNext] = useState<string>();
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string>();

  useEffect(() => {
    setBusy(true);
    setError(undefined);
    firstPage(filters).then(
      (page) => {
        setReviews(page.reviews);
        setNext(page.next);
        setBusy(false);
      },
      (e: Error) => {
        setError(e.message);
        setBusy(false);
      },
    );
    return api.watch((review) => {
      if (!matches(filters, review)) return;
      setReviews((list) => [review, ...list.filter((r) => r.id !== review.id)]);
    });
  }, [filters]);

  const more = async () => {
    if (!next) return;
    setBusy(true);
    const page = await api.reviews({ ...filters, limit: PAGE, cursor: next });
    setReviews((list) => [...list, ...page.reviews.filter((r) => !list.some((l) => l.id === r.id))]);
    setNext(page.next);
    setBusy(false);
  };

  const onFilter = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => (String(form.get(name) ?? '').trim() || undefined) as never;
    setFilters({
      repo: value('repo'),
      status: value('status'),
      author: value('author'),
      from: value('from'),
      to: value('to'),
    });
  };

  return (
    <section aria-labelledby="reviews-title">
      <h1 id="reviews-title">Reviews</h1>
      <form class="filters" onSubmit={onFilter}>
        <label>
          Repository
          <select name="repo">
            <option value="">All</option>
            {session.repos.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status">
            <option value="">Any</option>
            {REVIEW_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Author
          <input name="author" autocomplete="off" />
        </label>
        <label>
          From
          <input name="from" type="date" />
        </label>
        <label>
          To
          <input name="to" type="date" />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && <p role="alert">{error}</p>}
      <table aria-busy={busy}>
        <thead>
          <tr>
            <th scope="col">Pull request</th>
            <th scope="col">Status</th>
            <th scope="col">Author</th>
            <th scope="col">Trigger</th>
            <th scope="col">Cost</th>
            <th scope="col">Updated (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {reviews.map((r) => (
            <tr key={r.id} data-review={r.id}>
              <td>
                <a href={`/reviews/${r.id}`} onClick={link(`/reviews/${r.id}`)}>
                  {r.repo}#{r.pr}
                </a>
              </td>
              <td>
                <span class={`status status-${r.status}`}>{r.status}</span>
              </td>
              <td>{r.author ?? '—'}</td>
              <td>{r.trigger}</td>
              <td>{r.result ? usd(r.result.costUsd) : '—'}</td>
              <td>{time(r.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!busy && reviews.length === 0 && <p>No reviews match.</p>}
      {next && (
        <button type="button" onClick={more} disabled={busy}>
          Older reviews
        </button>
      )}
    </section>
  );
}
