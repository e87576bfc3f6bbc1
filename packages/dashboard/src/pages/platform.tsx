// Platform (admins): the reviews queue at a glance, reviews running now, each worker replica's
// readiness and permission self-check (from its heartbeat), the queue's consumers, and versions.
import type { PlatformStatus, WorkerReplica } from '@kritik/core/dashboard';
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
      <h2>Worker replicas</h2>
      <Replicas replicas={status.replicas} />
      {status.unreadableReplicas.length > 0 && (
        <div class="reason" role="alert">
          <p>These replicas publish a status this backend cannot read (another version during an upgrade?):</p>
          <ul>
            {status.unreadableReplicas.map((u) => (
              <li key={u.replica}>
                <code>{u.replica}</code>: {u.error}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2>Connected consumers</h2>
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
      <Versions versions={status.versions} />
    </section>
  );
}

function readiness(r: WorkerReplica) {
  if (r.stale) return <span class="status status-skipped">not reporting since {time(r.lastBeat)}</span>;
  return r.ready ? (
    <span class="status status-posted">ready</span>
  ) : (
    <span class="status status-failed">not ready</span>
  );
}

function Replicas({ replicas }: { replicas: WorkerReplica[] }) {
  if (replicas.length === 0) return <p role="alert">No worker replica reports its status.</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Replica</th>
            <th scope="col">Readiness</th>
            <th scope="col">Why</th>
            <th scope="col">Runner</th>
            <th scope="col">Running</th>
            <th scope="col">Version</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {replicas.map((r) => (
            <tr key={r.replica}>
              <th scope="row">{r.replica}</th>
              <td>{readiness(r)}</td>
              <td>{r.reason}</td>
              <td>
                {r.runner}
                {r.namespace && (
                  <>
                    {' '}
                    in <code>{r.namespace}</code>
                  </>
                )}
              </td>
              <td>
                {r.running} of {r.concurrency}
              </td>
              <td>{r.version}</td>
              <td>{time(r.startedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {replicas
        .filter((r) => r.permissions.length > 0)
        .map((r, i) => (
          <SelfCheck key={r.replica} replica={r} id={`self-check-${i}`} />
        ))}
    </>
  );
}

function SelfCheck({ replica, id }: { replica: WorkerReplica; id: string }) {
  const missing = replica.permissions.filter((p) => p.state === 'missing').length;
  const allGranted = replica.permissions.every((p) => p.state === 'granted');
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>
        Permission self-check: {replica.replica}
        {replica.stale && ` (as of ${time(replica.lastBeat)})`}
      </h3>
      {replica.remedy && (
        <p class="reason" role={missing > 0 ? 'alert' : undefined}>
          {replica.remedy}
        </p>
      )}
      {/* Open where something needs doing; a replica with everything granted stays one line. */}
      <details open={!allGranted}>
        <summary>
          {allGranted
            ? `All ${replica.permissions.length} granted`
            : missing > 0
              ? `${missing} missing`
              : 'Not checked'}{' '}
          in namespace {replica.namespace ?? 'unknown'}
        </summary>
        <table class="self-check">
          <thead>
            <tr>
              <th scope="col">Permission</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {replica.permissions.map((p) => (
              <tr key={p.permission} class={p.state === 'missing' ? 'missing' : undefined}>
                <th scope="row">
                  <code>{p.permission}</code>
                </th>
                <td>
                  <span
                    class={`status ${p.state === 'granted' ? 'status-posted' : p.state === 'missing' ? 'status-failed' : 'status-skipped'}`}
                  >
                    {p.state}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function Versions({ versions }: { versions: PlatformStatus['versions'] }) {
  return (
    <>
      {versions.mismatched && (
        <p class="reason" role="alert">
          A worker runs another version than the backend: a rolling upgrade is in progress, or one is stuck.
        </p>
      )}
      <table>
        <tbody>
          <tr>
            <th scope="row">Backend</th>
            <td>
              {versions.backend} (Node.js {versions.node})
            </td>
          </tr>
          <tr>
            <th scope="row">Workers</th>
            <td>{versions.workers.length > 0 ? versions.workers.join(', ') : 'none reporting'}</td>
          </tr>
          <tr>
            <th scope="row">Reviewer image</th>
            <td>
              {versions.reviewerImages.length > 0
                ? versions.reviewerImages.map((image) => <code key={image}>{image} </code>)
                : 'none reporting'}
            </td>
          </tr>
        </tbody>
      </table>
    </>
  );
}
