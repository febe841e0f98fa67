/** The violations table: one row per flag, its time a button that plays the recording from there. */
import { VIOLATION_CATALOGUE } from '@secureaccess/protocol/violations';
import { severityBadge } from '../components.ts';
import { h, replace } from '../dom.ts';
import { formatDuration, formatOffset, formatShort, humanize } from '../format.ts';
import { strings } from '../strings.ts';
import type { Violation } from '../types.ts';

const s = strings.detail;

export class ViolationsTable {
  readonly element: HTMLElement;
  private readonly tbody: HTMLElement;
  private readonly table: HTMLElement;
  private readonly empty: HTMLElement;

  constructor(
    private startMs: number,
    private readonly onSeek: ((offsetMs: number) => void) | null,
  ) {
    this.tbody = h('tbody');
    this.table = h(
      'table',
      { class: 'data-table violations-table', testid: 'violations-table' },
      h('caption', { class: 'visually-hidden' }, s.violationsTitle),
      h('thead', {}, h('tr', {}, Object.values(s.vcols).map((label) => h('th', { scope: 'col' }, label)))),
      this.tbody,
    );
    this.empty = h('p', { class: 'empty' }, s.violationsEmpty);
    this.element = h('div', { class: 'table-wrap' }, this.table, this.empty);
  }

  setStart(startMs: number): void {
    this.startMs = startMs;
  }

  render(violations: Violation[]): void {
    const sorted = [...violations].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('tr[data-violation-id]')?.dataset.violationId;
    replace(this.tbody, sorted.map((violation) => this.row(violation)));
    if (focused) this.tbody.querySelector<HTMLElement>(`tr[data-violation-id="${CSS.escape(focused)}"] button`)?.focus();
    this.table.hidden = sorted.length === 0;
    this.empty.hidden = sorted.length > 0;
  }

  private row(violation: Violation): HTMLElement {
    const offset = Date.parse(violation.occurredAt) - this.startMs;
    const at = formatOffset(offset);
    const type = humanize(violation.type);
    const description = VIOLATION_CATALOGUE[violation.type]?.description;
    const seek = this.onSeek;
    return h(
      'tr',
      { testid: 'violation-row', data: { violationId: violation.id } },
      h(
        'td',
        { class: 'nowrap' },
        seek
          ? h('button', { type: 'button', class: 'link-button', 'aria-label': s.seekTo(at), on: { click: () => seek(offset) } }, at)
          : at,
        h('div', { class: 'sub' }, formatShort(violation.occurredAt)),
      ),
      h('th', { scope: 'row', class: 'cell-type' }, type, description ? h('div', { class: 'sub' }, description) : null),
      h('td', {}, severityBadge(violation.severity)),
      h('td', {}, violation.source),
      h('td', { class: 'nowrap' }, formatDuration(violation.durationMs)),
      h('td', { class: 'cell-details' }, details(violation.details)),
      // Only a path of this server: the value ends up in an href.
      h('td', {}, violation.imageUrl?.startsWith('/api/') ? thumbnail(violation.imageUrl, type) : strings.none),
    );
  }
}

function details(value: Violation['details']): HTMLElement | string {
  if (!value || Object.keys(value).length === 0) return strings.none;
  return h(
    'dl',
    { class: 'details' },
    Object.entries(value).map(([key, item]) => [h('dt', {}, key), h('dd', {}, typeof item === 'string' ? item : JSON.stringify(item))]),
  );
}

function thumbnail(url: string, type: string): HTMLElement {
  return h(
    'a',
    { href: url, target: '_blank', rel: 'noopener', class: 'thumb' },
    h('img', { src: url, alt: s.imageAlt(type), loading: 'lazy', width: '80', height: '60', testid: 'violation-image' }),
  );
}
