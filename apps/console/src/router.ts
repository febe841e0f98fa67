/**
 * History-API router for the console's pages. Each page is a view: it renders into `main`, and returns a
 * cleanup (closing event streams, timers) that runs when the user leaves. Requests a view started are
 * cancelled through `signal` when it is left.
 */

export interface ViewContext {
  /** Path parameters, e.g. `{ id }` for /console/sessions/:id. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the user leaves the page. */
  signal: AbortSignal;
  main: HTMLElement;
  /** Goes to another console page. */
  navigate(path: string, options?: { replace?: boolean }): void;
}

export type View = (ctx: ViewContext) => void | (() => void);

export interface Route {
  /** e.g. `/console/sessions/:id` */
  path: string;
  view: View;
  /** Whether the page shows the signed-in header (every page but sign-in). */
  signedIn: boolean;
}

export interface RouterHooks {
  /** Renders the page frame for a route and returns the element the view fills. */
  frame(route: Route | null, path: string): HTMLElement;
  notFound(main: HTMLElement): void;
}

interface Compiled extends Route {
  regex: RegExp;
  keys: string[];
}

export class Router {
  private readonly routes: Compiled[];
  private cleanup: (() => void) | undefined;
  private controller: AbortController | undefined;

  constructor(
    routes: Route[],
    private readonly hooks: RouterHooks,
  ) {
    this.routes = routes.map((route) => {
      const keys: string[] = [];
      const pattern = route.path.replace(/:([a-zA-Z]+)/g, (_, key: string) => {
        keys.push(key);
        return '([^/]+)';
      });
      return { ...route, keys, regex: new RegExp(`^${pattern}/?$`) };
    });
  }

  start(): void {
    window.addEventListener('popstate', () => this.render());
    document.addEventListener('click', (event) => this.onClick(event));
    this.render();
  }

  /** Goes to a console path (`replace` for redirects, so Back does not bounce). */
  navigate(path: string, options: { replace?: boolean } = {}): void {
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.render();
  }

  private render(): void {
    this.cleanup?.();
    this.cleanup = undefined;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;

    let path = location.pathname;
    if (path === '/console' || path === '/console/') {
      history.replaceState(null, '', '/console/sessions');
      path = '/console/sessions';
    }
    for (const route of this.routes) {
      const match = route.regex.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => (params[key] = decodeURIComponent(match[i + 1] ?? '')));
      const main = this.hooks.frame(route, path);
      const done = route.view({
        params,
        query: new URLSearchParams(location.search),
        signal: controller.signal,
        main,
        navigate: (to, options) => this.navigate(to, options),
      });
      this.cleanup = done || undefined;
      return;
    }
    this.hooks.notFound(this.hooks.frame(null, path));
  }

  /** Same-origin links to console pages are handled here, without a page load. */
  private onClick(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/console/') || url.pathname.startsWith('/console/assets/')) return;
    event.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) this.navigate(url.pathname + url.search);
  }
}

/**
 * The page to go to after signing in: `next` when it is a console page of this site, else the sessions
 * list (so a crafted link cannot send the user elsewhere).
 */
export function safeNext(next: string | null): string {
  if (next && /^\/console\/(?!signin)[A-Za-z0-9/_\-?=&%.]*$/.test(next) && !next.startsWith('//')) return next;
  return '/console/sessions';
}
