import type { Context, Hono } from 'hono';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { etagMatches, type AppEnv } from '../http.ts';
import { consoleToken, findConsoleSession } from './service.ts';

/** The console's script, relative to its asset root. Its absence means the console was not built. */
export const CONSOLE_SCRIPT = 'console.js';

/** Every console page is this shell; the script renders the page for the URL it finds. */
export const CONSOLE_SHELL =
  '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><title>SecureAccess console</title>' +
  '<link rel="stylesheet" href="/console/assets/console.css"></head><body><div id="app"></div>' +
  '<script type="module" src="/console/assets/console.js"></script></body></html>';

export const CONSOLE_CSP =
  "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const SHELL_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** Asset names are not versioned: the browser revalidates each time (by ETag, usually a 304). */
const ASSET_HEADERS = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };

function notBuilt(): ApiError {
  return new ApiError(
    503,
    'console_not_built',
    'The console has not been built on this server: run `npm run build` in the repository, then restart.',
    undefined,
    ASSET_HEADERS,
  );
}

function shell(): Response {
  return new Response(CONSOLE_SHELL, { status: 200, headers: SHELL_HEADERS });
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } });
}

/**
 * The console's pages and built files. Plain Hono routes, not API operations, so they stay out of
 * the OpenAPI document. Pages behind sign-in redirect to `/console/signin?next=<path>` without a
 * valid cookie; the shell's script does the rest through the JSON API. HEAD is answered from GET.
 */
export function registerConsolePages(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/console', () => redirect('/console/sessions'));
  app.get('/console/', () => redirect('/console/sessions'));
  app.get('/console/signin', () => shell());

  const signedIn = async (c: Context<AppEnv>): Promise<Response> => {
    if (await findConsoleSession(deps, consoleToken(c))) return shell();
    const url = new URL(c.req.url);
    return redirect(`/console/signin?next=${encodeURIComponent(url.pathname + url.search)}`);
  };
  app.get('/console/sessions', signedIn);
  app.get('/console/sessions/:id', signedIn);
  app.get('/console/webhooks', signedIn);

  app.get('/console/assets/*', async (c) => {
    const assets = deps.consoleAssets;
    if (!assets) throw notBuilt();
    const path = c.req.path.slice('/console/assets/'.length);
    const asset = await assets.get(path);
    if (!asset) {
      // One missing file is a 404; a missing script means there is no build at all.
      if (path === CONSOLE_SCRIPT || !(await assets.get(CONSOLE_SCRIPT))) throw notBuilt();
      throw new ApiError(404, 'not_found', `No console file at ${c.req.path}.`, undefined, ASSET_HEADERS);
    }
    const headers: Record<string, string> = { ...ASSET_HEADERS, ETag: asset.etag };
    if (etagMatches(c.req.header('if-none-match'), asset.etag)) return new Response(null, { status: 304, headers });
    return new Response(asset.body as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: { ...headers, 'Content-Type': asset.contentType, 'Content-Length': String(asset.body.length) },
    });
  });
}
