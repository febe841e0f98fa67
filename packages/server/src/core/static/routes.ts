import type { Context, Hono } from 'hono';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { etagMatches, type AppEnv } from '../http.ts';
import type { StaticAsset } from '../ports.ts';

/** The script-tag bundle, relative to the asset root. Its absence means the widget was not built. */
export const WIDGET_SCRIPT = 'secureaccess-widget.js';

/** The script may be updated in place; pages pick up a new version within five minutes. */
const SCRIPT_CACHE = 'public, max-age=300';
/** `secureaccess-widget-<version>.js` never changes under its name. */
const VERSIONED_CACHE = 'public, max-age=31536000, immutable';
/** Lazy chunks, models and wasm: large and rarely changed; revalidated by ETag after an hour. */
const ASSET_CACHE = 'public, max-age=3600';

/**
 * Any page may load these files (the LMS embeds the widget from its own origin); the resource policy
 * lets pages that isolate themselves (COEP) load them too.
 */
const PUBLIC_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
};

function notBuilt(): ApiError {
  return new ApiError(
    503,
    'widget_not_built',
    'The widget has not been built on this server: run `npm run build` in the repository, then restart.',
    undefined,
    PUBLIC_HEADERS,
  );
}

function notFound(path: string): ApiError {
  return new ApiError(404, 'not_found', `No widget file at ${path}.`, undefined, PUBLIC_HEADERS);
}

/**
 * Serves the built widget from the StaticAssets port: `/secureaccess-widget.js` (and its `.map`), its versioned alias
 * `/secureaccess-widget-<version>.js` (the server's version, cached for a year) and `/widget/<path>`
 * (the lazy detector chunk, models, wasm). Registered on the Hono app directly: these are files, not
 * API operations, and stay out of the OpenAPI document. HEAD is answered by Hono from GET.
 */
export function registerStaticRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  async function serve(c: Context<AppEnv>, path: string, cacheControl: string): Promise<Response> {
    const assets = deps.staticAssets;
    if (!assets) throw notBuilt();
    const asset = await assets.get(path);
    if (!asset) {
      // One missing file is a 404; a missing script means there is no build at all.
      if (path === WIDGET_SCRIPT || !(await assets.get(WIDGET_SCRIPT))) throw notBuilt();
      throw notFound(c.req.path);
    }
    return assetResponse(asset, cacheControl, c.req.header('if-none-match'));
  }

  app.get(`/${WIDGET_SCRIPT}`, (c) => serve(c, WIDGET_SCRIPT, SCRIPT_CACHE));
  // The script's source map, for the browser's developer tools (absent from a build without maps: 404).
  app.get(`/${WIDGET_SCRIPT}.map`, (c) => serve(c, `${WIDGET_SCRIPT}.map`, SCRIPT_CACHE));

  app.get('/:file{secureaccess-widget-[^/]+\\.js}', (c) => {
    if (c.req.param('file') !== `secureaccess-widget-${deps.config.version}.js`) throw notFound(c.req.path);
    return serve(c, WIDGET_SCRIPT, VERSIONED_CACHE);
  });

  app.get('/widget/*', (c) => serve(c, c.req.path.slice(1), ASSET_CACHE));
}

function assetResponse(asset: StaticAsset, cacheControl: string, ifNoneMatch: string | undefined): Response {
  const headers: Record<string, string> = { ...PUBLIC_HEADERS, 'Cache-Control': cacheControl, ETag: asset.etag };
  if (etagMatches(ifNoneMatch, asset.etag)) return new Response(null, { status: 304, headers });
  return new Response(asset.body as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { ...headers, 'Content-Type': asset.contentType, 'Content-Length': String(asset.body.length) },
  });
}
