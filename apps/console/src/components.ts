/** Small pieces shared by several pages. */
import type { Severity } from '@secureaccess/protocol/violations';
import { h } from './dom.ts';
import { humanize } from './format.ts';
import { strings } from './strings.ts';
import type { SessionStatus } from './types.ts';

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** A coloured status label; `in_progress` gets a "live" dot. */
export function statusBadge(status: SessionStatus | string): HTMLElement {
  const dot = status === 'in_progress' ? h('span', { class: 'live-dot', 'aria-hidden': 'true' }) : null;
  return h('span', { class: `badge status-${status}`, testid: 'session-status', data: { status } }, dot, humanize(status));
}

export function severityBadge(severity: Severity): HTMLElement {
  return h('span', { class: `badge sev-${severity}` }, severity);
}

/** "1 critical · 2 high", most severe first, or "none". */
export function flagCounts(counts: Record<Severity, number>): HTMLElement {
  const present = SEVERITY_ORDER.filter((severity) => counts[severity] > 0);
  if (present.length === 0) return h('span', { class: 'muted' }, strings.sessions.noFlags);
  return h(
    'ul',
    { class: 'flag-counts' },
    present.map((severity) => h('li', { class: `count sev-${severity}`, data: { severity } }, `${counts[severity]} ${severity}`)),
  );
}

/** A `role=status` line for refresh results and action outcomes. */
export function statusLine(testid?: string): HTMLElement {
  return h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite', testid });
}

/** A section with a heading (`aria-labelledby`), the building block of the detail page. */
export function panel(id: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'panel', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);
}

/** Score colour class: good (≥ 80), fair (≥ 50), poor. */
export function scoreClass(score: number): string {
  return score >= 80 ? 'score-good' : score >= 50 ? 'score-fair' : 'score-poor';
}
