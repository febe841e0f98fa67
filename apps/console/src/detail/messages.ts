/** Chat with the candidate: the history, new messages as they arrive, and a form to send one. */
import { api, errorMessage } from '../api.ts';
import { h, setStatus } from '../dom.ts';
import { formatClock } from '../format.ts';
import { strings } from '../strings.ts';
import type { Message } from '../types.ts';

const s = strings.detail;
const PAGE = 500;

export class MessagesPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly empty: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly send: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly seen = new Set<string>();

  constructor(
    private readonly sessionId: string,
    private readonly signal: AbortSignal,
  ) {
    this.list = h('ol', {
      class: 'messages',
      testid: 'messages-list',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-label': s.messagesTitle,
      tabindex: '0', // scrollable: keyboard users can scroll it
    });
    this.empty = h('p', { class: 'empty' }, s.messagesEmpty);
    this.input = h('textarea', { id: 'message-input', name: 'body', rows: '2', maxlength: '4000', required: true, testid: 'message-input' });
    this.send = h('button', { type: 'submit', class: 'button button-primary', testid: 'message-send' }, s.send);
    this.status = h('p', { class: 'status-line', role: 'status', testid: 'message-status' });
    this.form = h(
      'form',
      { class: 'message-form' },
      h('label', { for: 'message-input' }, s.messageLabel),
      h('div', { class: 'message-compose' }, this.input, this.send),
      this.status,
    );
    this.element = h('div', { class: 'messages-panel' }, this.list, this.empty, this.form);

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
    // Enter sends, Shift+Enter starts a new line (the usual chat convention).
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.submit();
      }
    });
  }

  /** Loads the whole history (pages of 500, oldest first). */
  async load(): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await api<{ messages: Message[] }>('GET', `/api/widget/sessions/${encodeURIComponent(this.sessionId)}/messages`, {
        query: { after, limit: PAGE },
        signal: this.signal,
      });
      for (const message of page.messages) this.add(message);
      const last = page.messages[page.messages.length - 1];
      if (page.messages.length < PAGE || !last) break;
      after = last.id;
    }
  }

  /** Adds a message once (the same one can come from the POST answer and the live stream). */
  add(message: Message): void {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    const mine = message.senderRole === 'proctor';
    this.list.append(
      h(
        'li',
        { class: `message ${mine ? 'from-proctor' : 'from-candidate'}`, testid: 'message', data: { messageId: message.id, role: message.senderRole } },
        h('div', { class: 'message-meta' }, mine ? s.you : s.candidate, ' · ', h('time', { datetime: message.createdAt }, formatClock(new Date(message.createdAt)))),
        h('p', { class: 'message-body' }, message.body),
      ),
    );
    this.empty.hidden = true;
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** Sending is possible until the session ends. */
  setOpen(open: boolean): void {
    this.form.hidden = !open;
  }

  /** After erasure there are no messages to show. */
  showErased(): void {
    this.list.hidden = true;
    this.form.hidden = true;
    this.empty.textContent = s.messagesErased;
    this.empty.hidden = false;
  }

  private async submit(): Promise<void> {
    if (this.send.disabled) return; // a send is in flight (Enter pressed twice)
    const body = this.input.value.trim();
    if (!body) {
      this.input.focus();
      return;
    }
    this.send.disabled = true;
    setStatus(this.status, s.sending);
    try {
      const message = await api<Message>('POST', `/api/widget/sessions/${encodeURIComponent(this.sessionId)}/messages`, { body: { body }, signal: this.signal });
      this.add(message);
      this.input.value = '';
      setStatus(this.status, '');
    } catch (error) {
      setStatus(this.status, errorMessage(error), 'error');
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }
}
