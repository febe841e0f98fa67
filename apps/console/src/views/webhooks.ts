/**
 * Webhook delivery log with "Redeliver" per row. Refreshes itself every 10 s while the tab is visible
 * (keeping as many rows as are shown, up to 200, and the keyboard focus), and 2 s after a redelivery so
 * that its outcome shows without a click.
 */
import { api, errorMessage, isAbort } from '../api.ts';
import { statusLine } from '../components.ts';
import { h, replace, setStatus } from '../dom.ts';
import { formatClock, formatShortSeconds, humanize } from '../format.ts';
import { setTitle } from '../layout.ts';
import type { ViewContext } from '../router.ts';
import { strings } from '../strings.ts';
import type { WebhookDelivery } from '../types.ts';

const s = strings.webhooks;
const PAGE_SIZE = 50;
const MAX_PAGE = 200;
const REFRESH_MS = 10_000;
const AFTER_REDELIVER_MS = 2_000;
const STATUSES = ['pending', 'delivered', 'failed'] as const;

interface ListResponse {
  deliveries: WebhookDelivery[];
  nextCursor: string | null;
}

export function webhooksView(ctx: ViewContext): () => void {
  setTitle(s.title);
  let deliveries: WebhookDelivery[] = [];
  let nextCursor: string | null = null;
  let busy = false;

  const statusSelect = h(
    'select',
    { id: 'delivery-status', testid: 'deliveries-status' },
    h('option', { value: '' }, s.anyStatus),
    STATUSES.map((status) => h('option', { value: status }, status)),
  );
  statusSelect.value = ctx.query.get('status') ?? '';
  const refreshButton = h('button', { type: 'button', class: 'button', testid: 'deliveries-refresh' }, s.refresh);
  const result = statusLine('redeliver-status');
  const updated = statusLine();
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data-table deliveries-table', testid: 'deliveries-table' },
    h('caption', { class: 'visually-hidden' }, s.caption),
    h('thead', {}, h('tr', {}, Object.values(s.cols).map((label) => h('th', { scope: 'col' }, label)))),
    tbody,
  );
  const empty = h('p', { class: 'empty', hidden: true }, s.empty);
  const loadMore = h('button', { type: 'button', class: 'button', hidden: true }, s.loadMore);
  const error = h('div', { class: 'alert', role: 'alert', hidden: true });

  ctx.main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, s.title),
      h('div', { class: 'toolbar' }, h('div', { class: 'field field-inline' }, h('label', { for: 'delivery-status' }, s.status), statusSelect), updated, refreshButton),
    ),
    result,
    error,
    h('div', { class: 'table-wrap' }, table),
    empty,
    h('div', { class: 'more' }, loadMore),
  );

  const query = (cursor?: string, limit = PAGE_SIZE) => ({ status: statusSelect.value || undefined, limit, cursor });

  /** Reloads the first page, as long as the rows shown (up to MAX_PAGE). */
  async function refresh(): Promise<void> {
    if (busy) return;
    busy = true;
    refreshButton.disabled = true;
    try {
      const limit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, deliveries.length));
      const page = await api<ListResponse>('GET', '/api/integration/webhook-deliveries', { query: query(undefined, limit), signal: ctx.signal });
      deliveries = page.deliveries;
      nextCursor = page.nextCursor;
      error.hidden = true;
      render();
      setStatus(updated, strings.sessions.updated(formatClock(new Date())));
    } catch (failure) {
      if (!isAbort(failure)) showError(failure);
    } finally {
      busy = false;
      refreshButton.disabled = false;
    }
  }

  async function more(): Promise<void> {
    if (busy || !nextCursor) return;
    busy = true;
    loadMore.disabled = true;
    try {
      const page = await api<ListResponse>('GET', '/api/integration/webhook-deliveries', { query: query(nextCursor), signal: ctx.signal });
      const known = new Set(deliveries.map((d) => d.id));
      deliveries = deliveries.concat(page.deliveries.filter((d) => !known.has(d.id)));
      nextCursor = page.nextCursor;
      render();
    } catch (failure) {
      if (!isAbort(failure)) showError(failure);
    } finally {
      busy = false;
      loadMore.disabled = false;
    }
  }

  function render(): void {
    // A refresh rebuilds the rows; keep keyboard focus on the same delivery's button.
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('tr[data-delivery-id]')?.dataset.deliveryId;
    replace(tbody, deliveries.map(row));
    if (focused) tbody.querySelector<HTMLElement>(`tr[data-delivery-id="${CSS.escape(focused)}"] [data-testid="redeliver"]`)?.focus();
    table.hidden = deliveries.length === 0;
    empty.hidden = deliveries.length > 0;
    loadMore.hidden = nextCursor === null;
  }

  function row(delivery: WebhookDelivery): HTMLElement {
    const redeliver = h('button', { type: 'button', class: 'button button-small', testid: 'redeliver', data: { deliveryId: delivery.id } }, s.redeliver);
    redeliver.addEventListener('click', () => void redeliverOne(delivery, redeliver));
    const response = delivery.lastStatusCode !== null ? `HTTP ${delivery.lastStatusCode}` : (delivery.lastError ?? strings.none);
    return h(
      'tr',
      { testid: 'delivery-row', data: { deliveryId: delivery.id, status: delivery.status } },
      h('th', { scope: 'row' }, delivery.eventType),
      h(
        'td',
        {},
        delivery.sessionId ? h('a', { href: `/console/sessions/${encodeURIComponent(delivery.sessionId)}`, class: 'mono' }, delivery.sessionId) : strings.none,
      ),
      h('td', {}, h('span', { class: `badge delivery-${delivery.status}`, testid: 'delivery-status' }, humanize(delivery.status))),
      h('td', { class: 'num' }, String(delivery.attempts)),
      h('td', { class: 'cell-response', title: delivery.lastError ?? undefined }, response),
      h('td', { class: 'nowrap' }, formatShortSeconds(delivery.nextAttemptAt)),
      h('td', { class: 'nowrap' }, formatShortSeconds(delivery.createdAt)),
      h('td', {}, redeliver),
    );
  }

  async function redeliverOne(delivery: WebhookDelivery, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const path = `/api/integration/webhook-deliveries/${encodeURIComponent(delivery.id)}/redeliver`;
      const updatedDelivery = await api<WebhookDelivery>('POST', path, { signal: ctx.signal });
      deliveries = deliveries.map((d) => (d.id === updatedDelivery.id ? updatedDelivery : d));
      render();
      setStatus(result, s.redelivered(delivery.eventType), 'success');
      tbody.querySelector<HTMLElement>(`tr[data-delivery-id="${CSS.escape(delivery.id)}"] [data-testid="redeliver"]`)?.focus();
      followUp = setTimeout(() => void refresh(), AFTER_REDELIVER_MS);
    } catch (failure) {
      if (isAbort(failure)) return;
      setStatus(result, errorMessage(failure), 'error');
      button.disabled = false;
    }
  }

  function showError(failure: unknown): void {
    error.textContent = errorMessage(failure);
    error.hidden = false;
  }

  statusSelect.addEventListener('change', () => {
    const status = statusSelect.value;
    history.replaceState(null, '', `/console/webhooks${status ? `?status=${encodeURIComponent(status)}` : ''}`);
    void refresh();
  });
  refreshButton.addEventListener('click', () => void refresh());
  loadMore.addEventListener('click', () => void more());

  let followUp: ReturnType<typeof setTimeout> | undefined;
  const timer = setInterval(() => {
    if (!document.hidden) void refresh();
  }, REFRESH_MS);
  void refresh();
  return () => {
    clearInterval(timer);
    clearTimeout(followUp);
  };
}
