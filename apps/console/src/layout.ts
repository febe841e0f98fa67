/** The page frame: skip link, the signed-in header (integration name, nav, sign out) and `<main>`. */
import { api, isAbort } from './api.ts';
import { h, replace } from './dom.ts';
import type { Route } from './router.ts';
import { strings } from './strings.ts';
import type { ConsoleIdentity } from './types.ts';

const NAV = [
  { path: '/console/sessions', label: strings.nav.sessions },
  { path: '/console/webhooks', label: strings.nav.webhooks },
];

export class Layout {
  private header: HTMLElement | null = null;
  private integrationName: HTMLElement | null = null;
  private main: HTMLElement | null = null;
  private rendered = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly signOut: () => Promise<void>,
  ) {}

  /** Renders the frame for `route` (null: unknown page) and returns an empty `<main>` for the view. */
  frame(route: Route | null, path: string): HTMLElement {
    const signedIn = route?.signedIn ?? true;
    if (signedIn && !this.header) this.header = this.buildHeader();
    if (!signedIn) this.forget();
    if (this.header) this.markCurrent(path);

    const main = h('main', { id: 'main', tabindex: '-1' });
    replace(this.root, h('a', { class: 'skip-link', href: '#main', on: { click: (e) => this.skip(e) } }, strings.skipLink), this.header, main);
    // After a navigation inside the app, focus goes to the new page's content (as a page load would
    // put it at the top); on the first load it stays at the top so the skip link comes first.
    if (this.rendered++ > 0) queueMicrotask(() => main.focus({ preventScroll: true }));
    this.main = main;
    return main;
  }

  /** Drops the header and identity, e.g. after signing out. */
  forget(): void {
    this.header = null;
    this.integrationName = null;
  }

  private buildHeader(): HTMLElement {
    this.integrationName = h('span', { class: 'integration-name', testid: 'integration-name' }, strings.loading);
    const signOutButton = h('button', { type: 'button', class: 'button button-quiet', testid: 'sign-out' }, strings.nav.signOut);
    signOutButton.addEventListener('click', () => {
      signOutButton.disabled = true;
      void this.signOut().finally(() => (signOutButton.disabled = false));
    });
    const header = h(
      'header',
      { class: 'site-header' },
      h(
        'div',
        { class: 'brand' },
        h('span', { class: 'brand-name' }, strings.appName),
        h('span', { class: 'visually-hidden' }, ` ${strings.nav.signedInAs} `),
        this.integrationName,
      ),
      h(
        'nav',
        { 'aria-label': strings.nav.label },
        h('ul', {}, NAV.map((item) => h('li', {}, h('a', { href: item.path, data: { nav: item.path } }, item.label)))),
      ),
      signOutButton,
    );
    void this.loadIdentity();
    return header;
  }

  private async loadIdentity(): Promise<void> {
    try {
      const me = await api<ConsoleIdentity>('GET', '/api/console/me');
      if (this.integrationName) this.integrationName.textContent = me.integration.name;
    } catch (error) {
      // A 401 already went to the sign-in page; anything else leaves the name blank.
      if (!isAbort(error) && this.integrationName) this.integrationName.textContent = '';
    }
  }

  private markCurrent(path: string): void {
    for (const link of this.header?.querySelectorAll<HTMLAnchorElement>('a[data-nav]') ?? []) {
      const current = path === link.dataset.nav || path.startsWith(`${link.dataset.nav}/`);
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  private skip(event: MouseEvent): void {
    event.preventDefault();
    this.main?.focus();
  }
}

/** Sets the tab title: "Sessions · SecureAccess console". */
export function setTitle(page: string): void {
  document.title = `${page} · ${strings.appName}`;
}
