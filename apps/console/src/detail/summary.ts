/** The top of the session page: who, what, status, score and its components, times. */
import { flagCounts, scoreClass, statusBadge } from '../components.ts';
import { h, replace } from '../dom.ts';
import { formatDateTime, formatScore, humanize } from '../format.ts';
import { strings } from '../strings.ts';
import type { SessionDetail } from '../types.ts';

const s = strings.detail;

export function candidateName(detail: Pick<SessionDetail, 'userName' | 'externalUserId' | 'sessionId'>): string {
  return detail.userName ?? detail.externalUserId ?? detail.sessionId;
}

export class Summary {
  readonly element: HTMLElement;
  private readonly list: HTMLDListElement;

  constructor() {
    this.list = h('dl', { class: 'summary-grid', testid: 'session-summary' });
    this.element = h('section', { class: 'panel summary', 'aria-label': s.summary }, this.list);
  }

  render(detail: SessionDetail): void {
    const item = (label: string, ...value: (Node | string | null)[]) => h('div', { class: 'summary-item' }, h('dt', {}, label), h('dd', {}, ...value));
    const component = (label: string, value: number) =>
      h('li', {}, h('span', { class: 'component-label' }, label), ' ', h('span', { class: scoreClass(value) }, formatScore(value)));
    replace(
      this.list,
      item(
        s.assessment,
        detail.assessmentTitle ?? detail.externalAssessmentId ?? strings.none,
        h('div', { class: 'sub' }, [detail.externalAssessmentId, humanize(detail.assessmentType)].filter(Boolean).join(' · ')),
      ),
      item(s.status, statusBadge(detail.status), detail.stopReason ? h('div', { class: 'sub', testid: 'stop-reason' }, `${s.stopReason}: ${detail.stopReason}${detail.stopNote ? ` — “${detail.stopNote}”` : ''}`) : null),
      item(
        s.score,
        h('span', { class: `score-big ${scoreClass(detail.scores.overall)}`, testid: 'auth-score' }, formatScore(detail.scores.overall)),
        h(
          'ul',
          { class: 'components' },
          component(s.identity, detail.scores.identity),
          component(s.presence, detail.scores.presence),
          component(s.behavioral, detail.scores.behavioral),
        ),
      ),
      item(strings.sessions.cols.flags, flagCounts(detail.violationCounts)),
      item(s.started, formatDateTime(detail.startedAt), h('div', { class: 'sub' }, `${s.created} ${formatDateTime(detail.createdAt)}`)),
      item(s.ended, formatDateTime(detail.endedAt), h('div', { class: 'sub' }, `${s.expires} ${formatDateTime(detail.expiresAt)}`)),
      item(s.consent, detail.consentAt ? formatDateTime(detail.consentAt) : s.noConsent),
      item(s.enrollment, humanize(detail.enrollment.status), detail.enrollment.source ? h('div', { class: 'sub' }, detail.enrollment.source) : null),
    );
  }
}
