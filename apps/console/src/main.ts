/**
 * The proctor console, served at /console. A small single-page app: the server serves the same HTML
 * shell for every page and this script renders the page for the address.
 */
import { api, onUnauthorized, signinPath } from './api.ts';
import { h } from './dom.ts';
import { Layout, setTitle } from './layout.ts';
import { Router } from './router.ts';
import { strings } from './strings.ts';
import { sessionDetailView } from './views/session-detail.ts';
import { sessionsView } from './views/sessions.ts';
import { signinView } from './views/signin.ts';
import { webhooksView } from './views/webhooks.ts';

const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M8 1 2 3.5V8c0 3.5 2.6 6.2 6 7 3.4-.8 6-3.5 6-7V3.5z" fill="#1d4ed8"/></svg>';

// The shell has no icon; without one the browser asks for /favicon.ico, which is not ours to serve.
if (!document.querySelector('link[rel~="icon"]')) {
  document.head.append(h('link', { rel: 'icon', href: `data:image/svg+xml,${encodeURIComponent(ICON)}` }));
}

const root = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));

const layout = new Layout(root, async () => {
  try {
    await api('POST', '/api/console/logout', { redirectOnUnauthorized: false });
  } catch {
    // Signed out or not, the user wants the sign-in page; the cookie is HttpOnly and not ours to clear.
  }
  layout.forget();
  router.navigate('/console/signin?signedout=1');
});

const router = new Router(
  [
    { path: '/console/signin', view: signinView, signedIn: false },
    { path: '/console/sessions', view: sessionsView, signedIn: true },
    { path: '/console/sessions/:id', view: sessionDetailView, signedIn: true },
    { path: '/console/webhooks', view: webhooksView, signedIn: true },
  ],
  {
    frame: (route, path) => layout.frame(route, path),
    notFound: (main) => {
      setTitle(strings.notFound);
      main.append(h('h1', {}, strings.notFound), h('p', {}, strings.notFoundBody), h('p', {}, h('a', { href: '/console/sessions' }, strings.nav.sessions)));
    },
  },
);

// The console session expired or was never there: sign in, then come back here.
onUnauthorized(() => {
  if (location.pathname === '/console/signin') return;
  layout.forget();
  router.navigate(signinPath(), { replace: true });
});

router.start();
