// Platform (admins): the reviews queue at a glance, reviews running now, the workers connected
// to the queue, and versions.
import type { PlatformStatus } from '@kritik/core/dashboard';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { time } from '../format.js';
import { link } from '../router.js';

const REFRESH_MS = 5_000;

export function PlatformPage() {
  const [status, setStatus] = useState<PlatformStatus>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const load = () => api.platform().then(setStatus, (e: Error) => setError(e.message));
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  if (error) return <p role="alert">{error}</p>;
  if (!status) return <p aria-busy="true">Loading…</p>;
  const q = status.queue;
  return (
    <section aria-labelledby="platform-title">
      <h1 id="platform-title">Platform</h1>
      <h2>Queue</h2>
      <dl class="tiles">
        {(
          [
            ['Waiting', q.waiting],
            ['Debouncing', q.delayed],
            ['Running', q.active],
            ['Failed', q.failed],
          ] as const
        ).map(([label, n]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{n}</dd>
          </div>
        ))}
      </dl>
      <h2>Running reviews</h2>
      {status.running.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul>
          {status.running.map((r) => (
            <li key={r.id}>
              <a href={`/reviews/${r.id}`} onClick={link(`/reviews/${r.id}`)}>
                {r.repo}#{r.pr}
              </a>{' '}
              since {time(r.updatedAt)}
            </li>
          ))}
        </ul>
      )}
      <h2>Workers</h2>
      {status.workers === null ? (
        <p>Unknown: the Redis user may not list clients (CLIENT LIST).</p>
      ) : status.workers.length === 0 ? (
        <p role="alert">No worker is connected to the reviews queue.</p>
      ) : (
        <ul>
          {status.workers.map((w) => (
            <li key={`${w.name}-${w.addr}`}>
              {w.name} {w.addr && <code>{w.addr}</code>}
            </li>
          ))}
        </ul>
      )}
      <h2>Versions</h2>
      <p>
        Kritik {status.versions.backend} (backend, worker and reviewer images of a release share it) · Node.js{' '}
        {status.versions.node}
      </p>
    </section>
  );
}
