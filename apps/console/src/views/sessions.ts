/**
 * Sessions list: filters, live sessions first then newest, "Load more" pagination, and a refresh every
 * 10 s (skipped while the user is typing in a filter or the tab is hidden).
 */
import { api, errorMessage, isAbort } from '../api.ts';
import { flagCounts, scoreClass, statusBadge, statusLine } from '../components.ts';
import { h, replace, setStatus } from '../dom.ts';
import { formatClock, formatScore, formatShort, humanize } from '../format.ts';
import { setTitle } from '../layout.ts';
import type { ViewContext } from '../router.ts';
import { strings } from '../strings.ts';
import { SESSION_STATUSES, type SessionSummary } from '../types.ts';

const s = strings.sessions;
const PAGE_SIZE = 50;
const MAX_PAGE = 200;
const REFRESH_MS = 10_000;

interface Filters {
  status: string;
  assessment: string;
  candidate: string;
}

interface ListResponse {
  sessions: SessionSummary[];
  nextCursor: string | null;
}

export function sessionsView(ctx: ViewContext): () => void {
  setTitle(s.title);
  let filters: Filters = {
    status: ctx.query.get('status') ?? '',
    assessment: ctx.query.get('assessment') ?? '',
    candidate: ctx.query.get('candidate') ?? '',
  };
  let live: SessionSummary[] = [];
  let rows: SessionSummary[] = [];
  let nextCursor: string | null = null;
  let busy = false;
  let lastUpdated = '';

  // Filters
  const statusSelect = h(
    'select',
    { id: 'filter-status', name: 'status', testid: 'filter-status' },
    h('option', { value: '' }, s.anyStatus),
    SESSION_STATUSES.map((status) => h('option', { value: status }, humanize(status))),
  );
  statusSelect.value = filters.status;
  const textFilter = (name: 'assessment' | 'candidate') =>
    h('input', { id: `filter-${name}`, name, type: 'search', value: filters[name], autocomplete: 'off', testid: `filter-${name}` });
  const assessmentInput = textFilter('assessment');
  const candidateInput = textFilter('candidate');
  const clearButton = h('button', { type: 'button', class: 'button button-quiet' }, s.clear);
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': s.filters, testid: 'sessions-filters' },
    h('div', { class: 'field' }, h('label', { for: 'filter-status' }, s.status), statusSelect),
    h('div', { class: 'field' }, h('label', { for: 'filter-assessment' }, s.assessment), assessmentInput),
    h('div', { class: 'field' }, h('label', { for: 'filter-candidate' }, s.candidate), candidateInput),
    h('div', { class: 'field field-buttons' }, h('button', { type: 'submit', class: 'button' }, s.apply), clearButton),
  );

  const refreshButton = h('button', { type: 'button', class: 'button', testid: 'sessions-refresh' }, s.refresh);
  const updated = statusLine('sessions-updated');
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data-table sessions-table', testid: 'sessions-table' },
    h('caption', { class: 'visually-hidden' }, s.caption),
    h(
      'thead',
      {},
      h('tr', {}, Object.values(s.cols).map((label) => h('th', { scope: 'col' }, label))),
    ),
    tbody,
  );
  const empty = h('p', { class: 'empty', hidden: true, testid: 'sessions-empty' }, s.empty);
  const loadMore = h('button', { type: 'button', class: 'button', hidden: true, testid: 'sessions-load-more' }, s.loadMore);
  const error = h('div', { class: 'alert', role: 'alert', hidden: true });

  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', {}, s.title), h('div', { class: 'toolbar' }, updated, refreshButton)),
    form,
    error,
    h('div', { class: 'table-wrap' }, table),
    empty,
    h('div', { class: 'more' }, loadMore),
  );

  const wantsLiveFirst = (): boolean => filters.status === '';
  const query = (extra: Record<string, string | number | undefined>) => ({
    status: filters.status || undefined,
    externalAssessmentId: filters.assessment || undefined,
    externalUserId: filters.candidate || undefined,
    ...extra,
  });

  /** Reloads the live sessions and the first pages (as many rows as are shown, up to 200). */
  async function refresh(): Promise<void> {
    if (busy) return;
    busy = true;
    refreshButton.disabled = true;
    setStatus(updated, s.refreshing);
    try {
      const limit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, rows.length));
      const [liveAnswer, page] = await Promise.all([
        wantsLiveFirst()
          ? api<ListResponse>('GET', '/api/widget/sessions', { query: query({ status: 'in_progress', limit: MAX_PAGE }), signal: ctx.signal })
          : Promise.resolve(null),
        api<ListResponse>('GET', '/api/widget/sessions', { query: query({ limit }), signal: ctx.signal }),
      ]);
      live = liveAnswer?.sessions ?? [];
      rows = withoutLive(page.sessions);
      nextCursor = page.nextCursor;
      error.hidden = true;
      render();
      lastUpdated = formatClock(new Date());
      setStatus(updated, s.updated(lastUpdated));
    } catch (failure) {
      if (isAbort(failure)) return;
      showError(failure);
      setStatus(updated, lastUpdated ? s.updated(lastUpdated) : '');
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
      const page = await api<ListResponse>('GET', '/api/widget/sessions', { query: query({ limit: PAGE_SIZE, cursor: nextCursor }), signal: ctx.signal });
      const known = new Set([...live, ...rows].map((row) => row.sessionId));
      rows = rows.concat(withoutLive(page.sessions).filter((row) => !known.has(row.sessionId)));
      nextCursor = page.nextCursor;
      render();
    } catch (failure) {
      if (!isAbort(failure)) showError(failure);
    } finally {
      busy = false;
      loadMore.disabled = false;
    }
  }

  function withoutLive(sessions: SessionSummary[]): SessionSummary[] {
    return wantsLiveFirst() ? sessions.filter((row) => row.status !== 'in_progress') : sessions;
  }

  function render(): void {
    // A refresh rebuilds the rows; keep keyboard focus on the same session's link.
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('tr[data-session-id]')?.dataset.sessionId;
    const all = [...live, ...rows];
    replace(tbody, all.map(renderRow));
    empty.hidden = all.length > 0;
    table.hidden = all.length === 0;
    loadMore.hidden = nextCursor === null;
    if (focused) tbody.querySelector<HTMLElement>(`tr[data-session-id="${CSS.escape(focused)}"] a`)?.focus();
  }

  function renderRow(session: SessionSummary): HTMLElement {
    const href = `/console/sessions/${encodeURIComponent(session.sessionId)}`;
    const name = session.userName ?? session.externalUserId ?? session.sessionId;
    const row = h(
      'tr',
      { testid: 'session-row', data: { sessionId: session.sessionId, status: session.status }, class: session.status === 'in_progress' ? 'row-live' : undefined },
      h(
        'th',
        { scope: 'row' },
        h('a', { href, class: 'row-link' }, session.erasedAt ? h('em', {}, s.erased) : name),
        session.userName && session.externalUserId ? h('div', { class: 'sub' }, session.externalUserId) : null,
      ),
      h(
        'td',
        {},
        session.assessmentTitle ?? session.externalAssessmentId ?? strings.none,
        session.assessmentTitle && session.externalAssessmentId ? h('div', { class: 'sub' }, session.externalAssessmentId) : null,
      ),
      h('td', {}, statusBadge(session.status)),
      h('td', { class: `num ${scoreClass(session.authScore)}` }, formatScore(session.authScore)),
      h('td', {}, flagCounts(session.violationCounts)),
      h('td', { class: 'nowrap' }, formatShort(session.startedAt)),
      h('td', { class: 'nowrap' }, formatShort(session.endedAt)),
    );
    // The whole row is a mouse target too; keyboard users have the link.
    row.addEventListener('click', (event) => {
      if ((event.target as Element).closest('a') || getSelection()?.toString()) return;
      ctx.navigate(href);
    });
    return row;
  }

  function showError(failure: unknown): void {
    error.textContent = errorMessage(failure);
    error.hidden = false;
  }

  function apply(): void {
    const next: Filters = { status: statusSelect.value, assessment: assessmentInput.value.trim(), candidate: candidateInput.value.trim() };
    if (next.status === filters.status && next.assessment === filters.assessment && next.candidate === filters.candidate) return;
    filters = next;
    const params = new URLSearchParams();
    if (filters.status) params.set('status', filters.status);
    if (filters.assessment) params.set('assessment', filters.assessment);
    if (filters.candidate) params.set('candidate', filters.candidate);
    const search = params.toString();
    history.replaceState(null, '', `/console/sessions${search ? `?${search}` : ''}`);
    rows = [];
    void refresh();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  statusSelect.addEventListener('change', apply);
  clearButton.addEventListener('click', () => {
    statusSelect.value = '';
    assessmentInput.value = '';
    candidateInput.value = '';
    apply();
  });
  refreshButton.addEventListener('click', () => void refresh());
  loadMore.addEventListener('click', () => void more());

  const timer = setInterval(() => {
    if (document.hidden) return;
    if (document.activeElement === assessmentInput || document.activeElement === candidateInput) {
      setStatus(updated, lastUpdated ? `${s.updated(lastUpdated)} · ${s.paused}` : s.paused);
      return;
    }
    void refresh();
  }, REFRESH_MS);

  void refresh();
  return () => clearInterval(timer);
}
