// The dashboard's shell: who is signed in, the navigation, and a tiny history router over the
// four pages. Signed out, it offers one "Sign in with …" per code host the backend has configured.
import './style.css';
import { type DashboardSession, SIGN_IN_LABELS, type SignInProviders } from '@kritik/core/dashboard';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { PlatformPage } from './pages/platform.js';
import { RepositoriesPage } from './pages/repositories.js';
import { ReviewPage } from './pages/review.js';
import { ReviewsPage } from './pages/reviews.js';
import { link, navigate, usePath } from './router.js';

function App() {
  const [session, setSession] = useState<DashboardSession | undefined | null>(null);
  const [error, setError] = useState<string>();
  const path = usePath();
  useEffect(() => {
    api.session().then(setSession, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p role="alert">The dashboard could not load: {error}</p>;
  if (session === null) return <p aria-busy="true">Loading…</p>;
  if (!session) return <SignIn />;
  const review = /^\/reviews\/([0-9a-z]+)$/.exec(path);
  const nav = [
    { href: '/', label: 'Reviews', current: path === '/' || path.startsWith('/reviews') },
    { href: '/repositories', label: 'Repositories', current: path === '/repositories' },
    ...(session.admin ? [{ href: '/platform', label: 'Platform', current: path === '/platform' }] : []),
  ];
  return (
    <>
      <header>
        <strong class="brand">Kritik</strong>
        <nav aria-label="Main">
          {nav.map((n) => (
            <a key={n.href} href={n.href} aria-current={n.current ? 'page' : undefined} onClick={link(n.href)}>
              {n.label}
            </a>
          ))}
        </nav>
        <span class="who">
          Signed in as <strong>{session.login}</strong> ({SIGN_IN_LABELS[session.platform]})
        </span>
        <button
          type="button"
          onClick={async () => {
            await api.logout();
            setSession(undefined);
            navigate('/');
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {review ? (
          <ReviewPage id={review[1]!} session={session} />
        ) : path === '/repositories' ? (
          <RepositoriesPage session={session} />
        ) : path === '/platform' && session.admin ? (
          <PlatformPage />
        ) : (
          <ReviewsPage session={session} />
        )}
      </main>
    </>
  );
}

function SignIn() {
  const failed = new URLSearchParams(location.search).get('signin');
  const [providers, setProviders] = useState<SignInProviders['providers']>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.providers().then(
      (p) => setProviders(p.providers),
      (e: Error) => setError(e.message),
    );
  }, []);
  return (
    <main class="signin">
      <h1>Kritik</h1>
      <p>Reviews of the repositories you can reach on GitHub (through the Kritik App) or GitLab (as a member).</p>
      {failed && <p role="alert">Sign-in {failed === 'denied' ? 'was cancelled' : 'failed'}: try again.</p>}
      {error && <p role="alert">Sign-in is unavailable: {error}</p>}
      {providers === undefined && !error && <p aria-busy="true">Loading…</p>}
      {providers?.map((p) => (
        <a key={p.platform} class="button" href={p.login}>
          Sign in with {p.label}
        </a>
      ))}
    </main>
  );
}

render(<App />, document.getElementById('app')!);
