/** "Stop session" and "Erase personal data", each behind a confirmation dialog. */
import { api, errorMessage } from '../api.ts';
import { confirmDialog } from '../dialog.ts';
import { h, setStatus } from '../dom.ts';
import { strings } from '../strings.ts';
import type { SessionDetail, SessionStateResponse } from '../types.ts';

const s = strings.detail;

export interface ActionsCallbacks {
  stopped(state: SessionStateResponse): void;
  erased(detail: SessionDetail): void;
}

export class ActionsPanel {
  readonly element: HTMLElement;
  private readonly stop: HTMLButtonElement;
  private readonly erase: HTMLButtonElement;
  private readonly status: HTMLElement;

  constructor(
    private readonly sessionId: string,
    private readonly signal: AbortSignal,
    private readonly callbacks: ActionsCallbacks,
  ) {
    this.stop = h('button', { type: 'button', class: 'button button-warning', testid: 'stop-session' }, s.stop);
    this.erase = h('button', { type: 'button', class: 'button button-danger', testid: 'erase-session' }, s.erase);
    this.status = h('p', { class: 'status-line', role: 'status', testid: 'action-status' });
    this.element = h('div', { class: 'actions' }, h('div', { class: 'action-buttons' }, this.stop, this.erase), this.status);
    this.stop.addEventListener('click', () => void this.onStop());
    this.erase.addEventListener('click', () => void this.onErase());
  }

  update(detail: Pick<SessionDetail, 'status' | 'erasedAt'>): void {
    this.stop.disabled = detail.status !== 'in_progress';
    this.stop.title = this.stop.disabled ? s.stopUnavailable : '';
    this.erase.disabled = detail.erasedAt !== null;
  }

  /** Shows an outcome (e.g. after the page rebuilt itself following an erasure). */
  report(text: string, kind: 'success' | 'error' = 'success'): void {
    setStatus(this.status, text, kind);
  }

  private async onStop(): Promise<void> {
    const reason = await confirmDialog({
      title: s.stopTitle,
      body: s.stopBody,
      confirmLabel: s.stopConfirm,
      danger: true,
      field: { label: s.stopReasonField, name: 'reason', maxLength: 500, testid: 'stop-reason-input' },
      testid: 'stop-dialog',
    });
    if (reason === null) return;
    this.stop.disabled = true;
    try {
      const state = await api<SessionStateResponse>('POST', this.path('/stop'), { body: reason ? { reason } : {}, signal: this.signal });
      this.report(s.stopped);
      this.callbacks.stopped(state);
    } catch (error) {
      this.report(errorMessage(error), 'error');
      this.stop.disabled = false;
    }
  }

  private async onErase(): Promise<void> {
    const typed = await confirmDialog({
      title: s.eraseTitle,
      body: s.eraseBody,
      confirmLabel: s.eraseConfirm,
      danger: true,
      field: { label: s.eraseType, name: 'confirm', required: s.eraseWord, testid: 'erase-confirm-input' },
      testid: 'erase-dialog',
    });
    if (typed !== s.eraseWord) return;
    this.erase.disabled = true;
    try {
      const detail = await api<SessionDetail>('DELETE', this.path(''), { signal: this.signal });
      this.callbacks.erased(detail);
    } catch (error) {
      this.report(errorMessage(error), 'error');
      this.erase.disabled = false;
    }
  }

  private path(suffix: string): string {
    return `/api/widget/sessions/${encodeURIComponent(this.sessionId)}${suffix}`;
  }
}
