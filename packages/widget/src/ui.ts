/**
 * The widget's interface, in an open Shadow DOM inside the host's container so the host page's CSS
 * cannot break it and ours cannot leak out. Every interactive element carries a stable
 * `data-sa-action` attribute (README, "Widget": the list), for host tests and automation.
 * Warnings go to one polite ARIA live region, each announced once when it appears.
 */
import { format, type StringKey, type Strings } from './strings.ts';

export interface ScoresView {
  overall: number;
  identity: number;
  presence: number;
  behavioral: number;
}

export interface MessageView {
  id: string;
  senderRole: 'candidate' | 'proctor';
  body: string;
  createdAt: string;
}

export interface DocumentView {
  id: string;
  fileName: string;
  sizeBytes: number;
  uploadedBy: 'candidate' | 'proctor';
}

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

const STYLE = `
:host { all: initial; display: block; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1c2330; }
* { box-sizing: border-box; }
.sa { border: 1px solid #d5dbe5; border-radius: 10px; background: #fff; padding: 14px; max-width: 560px; }
h2 { font-size: 16px; margin: 0 0 8px; outline: none; }
p { margin: 6px 0; }
button, .file { font: inherit; border-radius: 6px; border: 1px solid #2457c5; background: #2f6fed; color: #fff; padding: 7px 12px; cursor: pointer; display: inline-block; }
button.secondary, .file.secondary { background: #fff; color: #2457c5; }
button:disabled { opacity: .55; cursor: default; }
button:focus-visible, .file:focus-within, input:focus-visible, a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.file input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-top: 10px; }
video, img.still { width: 100%; max-width: 420px; border-radius: 8px; background: #111; display: block; transform: scaleX(-1); }
img.still { transform: none; }
.thumb video { width: 160px; height: 120px; object-fit: cover; }
.exam { display: grid; grid-template-columns: 160px 1fr; gap: 12px; }
.score { font-size: 26px; font-weight: 650; }
.small { font-size: 12px; color: #4a5568; }
.status { display: flex; gap: 10px; flex-wrap: wrap; font-size: 12px; margin-top: 4px; }
.dot::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 4px; background: #2e9d5b; }
.dot.off::before { background: #c53030; }
.dot.idle::before { background: #a0aec0; }
.warn { background: #fff4e5; border: 1px solid #f0b35b; border-radius: 6px; padding: 6px 8px; margin-top: 8px; }
.warn:empty { display: none; }
.error { background: #fdecec; border: 1px solid #e59a9a; border-radius: 6px; padding: 6px 8px; margin-top: 8px; }
.banner { background: #eaf1ff; border: 1px solid #9db8f0; border-radius: 6px; padding: 6px 8px; margin-top: 8px; }
.offline { background: #f4f4f4; border: 1px solid #bbb; border-radius: 6px; padding: 6px 8px; margin-top: 8px; }
details { margin-top: 10px; border-top: 1px solid #e5e9f0; padding-top: 6px; }
summary { cursor: pointer; font-weight: 600; }
ul { list-style: none; padding: 0; margin: 6px 0; max-height: 160px; overflow: auto; }
li { padding: 3px 0; }
.msg-proctor { color: #1d4fb8; }
input[type=text] { font: inherit; flex: 1; min-width: 120px; padding: 6px 8px; border: 1px solid #b8c2d3; border-radius: 6px; }
progress { width: 100%; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

export class WidgetUi {
  readonly root: ShadowRoot;
  private readonly frame: HTMLElement;
  private readonly live: HTMLElement;
  private exam: {
    score: HTMLElement;
    parts: HTMLElement;
    connection: HTMLElement;
    recording: HTMLElement;
    warning: HTMLElement;
    banners: HTMLElement;
    messages: HTMLUListElement;
    documents: HTMLUListElement;
    docStatus: HTMLElement;
  } | null = null;
  private readonly seenMessages = new Set<string>();
  private bannerEls = new Map<string, HTMLElement>();

  constructor(
    host: HTMLElement,
    private readonly strings: Strings,
  ) {
    this.root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
    this.root.replaceChildren();
    const style = h('style');
    style.textContent = STYLE;
    this.live = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite', 'data-sa-role': 'live-region' });
    this.frame = h('section', { class: 'sa', 'aria-label': strings.title, 'data-sa-screen': 'loading' });
    this.root.append(style, this.frame, this.live);
  }

  t(key: StringKey, values?: Record<string, string | number>): string {
    return format(this.strings[key], values);
  }

  /** The current screen's name, also exposed as `data-sa-screen`. */
  get screen(): string {
    return this.frame.dataset.saScreen ?? '';
  }

  private show(screen: string, heading: string, ...children: Child[]): void {
    this.exam = null;
    this.bannerEls = new Map();
    const title = h('h2', { tabindex: '-1' }, heading);
    this.frame.dataset.saScreen = screen;
    this.frame.replaceChildren(title, ...children.filter((c): c is Node | string => !!c));
    // Move focus to the new screen's heading only if the widget already had focus (never steal it from the host page).
    if (this.root.activeElement) title.focus();
  }

  announce(text: string): void {
    // Clearing first makes screen readers announce the same text again when it recurs after a while.
    this.live.textContent = '';
    setTimeout(() => (this.live.textContent = text), 50);
  }

  button(action: string, label: string, onClick: () => void, secondary = false): HTMLButtonElement {
    const b = h('button', { type: 'button', 'data-sa-action': action, class: secondary ? 'secondary' : undefined }, label);
    b.addEventListener('click', onClick);
    return b;
  }

  fileButton(action: string, label: string, accept: string, onFile: (file: File) => void, secondary = true): HTMLElement {
    const input = h('input', { type: 'file', accept, 'data-sa-action': action, 'aria-label': label });
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      input.value = '';
      if (file) onFile(file);
    });
    return h('label', { class: secondary ? 'file secondary' : 'file' }, label, input);
  }

  showLoading(): void {
    this.show('loading', this.strings.title, h('p', {}, this.t('loading')));
  }

  showConsent(text: string, onAccept: () => void): void {
    const accept = this.button('consent-accept', this.t('consentAccept'), () => {
      accept.disabled = true;
      onAccept();
    });
    this.show('consent', this.t('consentHeading'), h('p', { 'data-sa-role': 'consent-text' }, text), h('div', { class: 'row' }, accept));
  }

  showCamera(video: HTMLVideoElement | null, error: string | null, onContinue: () => void, onRetry: () => void): void {
    if (error) {
      this.show('camera', this.t('cameraHeading'), h('p', { class: 'error', role: 'alert' }, error), h('div', { class: 'row' }, this.button('camera-retry', this.t('cameraRetry'), onRetry)));
      return;
    }
    if (!video) {
      this.show('camera', this.t('cameraHeading'), h('p', {}, this.t('cameraStarting')));
      return;
    }
    this.show('camera', this.t('cameraHeading'), video, h('p', { class: 'small' }, this.t('cameraHelp')), h('div', { class: 'row' }, this.button('camera-continue', this.t('cameraContinue'), onContinue)));
  }

  /**
   * Enrollment: live preview with "take photo" and "upload"; a taken or chosen photo is shown with
   * "use this photo" and "retake"; the server's verdict is shown, and a refusal offers a retry.
   */
  showEnroll(
    video: HTMLVideoElement,
    handlers: {
      capture: () => Promise<Blob>;
      submit: (image: Blob, source: 'webcam' | 'upload') => Promise<{ ok: true } | { ok: false; reason: string }>;
    },
  ): void {
    const status = h('p', { 'data-sa-role': 'enroll-status', role: 'status' });
    const stage = h('div', {}, video);
    const actions = h('div', { class: 'row' });
    let previewUrl: string | null = null;
    const reset = (message = ''): void => {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = null;
      stage.replaceChildren(video);
      status.textContent = message;
      status.className = message ? 'error' : '';
      actions.replaceChildren(capture, upload);
    };
    const preview = (image: Blob, source: 'webcam' | 'upload'): void => {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = URL.createObjectURL(image);
      stage.replaceChildren(h('img', { class: 'still', src: previewUrl, alt: '' }));
      status.textContent = '';
      status.className = '';
      const confirm = this.button('enroll-confirm', this.t('enrollConfirm'), async () => {
        confirm.disabled = true;
        retake.disabled = true;
        status.textContent = this.t('enrollChecking');
        const verdict = await handlers.submit(image, source);
        if (verdict.ok) {
          status.textContent = this.t('enrollAccepted');
          return;
        }
        reset(this.t('enrollRefused', { reason: verdict.reason }));
        this.announce(status.textContent ?? '');
      });
      const retake = this.button('enroll-retake', this.t('enrollRetake'), () => reset(), true);
      actions.replaceChildren(confirm, retake);
    };
    const capture = this.button('enroll-capture', this.t('enrollCapture'), async () => {
      capture.disabled = true;
      try {
        preview(await handlers.capture(), 'webcam');
      } finally {
        capture.disabled = false;
      }
    });
    const upload = this.fileButton('enroll-upload', this.t('enrollUpload'), 'image/jpeg,image/png,image/webp', (file) => preview(file, 'upload'));
    reset();
    this.show('enroll', this.t('enrollHeading'), h('p', { class: 'small' }, this.t('enrollHelp')), stage, status, actions);
  }

  showReady(video: HTMLVideoElement): void {
    video.classList.add('ready');
    this.show('ready', this.t('readyHeading'), h('div', { class: 'thumb' }, video), h('p', {}, this.t('readyText')));
  }

  showExam(
    video: HTMLVideoElement,
    handlers: { sendMessage: (body: string) => Promise<boolean>; uploadDocument: (file: File) => void; downloadDocument: (doc: DocumentView) => void },
  ): void {
    const score = h('div', { class: 'score', 'data-sa-role': 'score', 'aria-label': this.t('scoreLabel') }, '—');
    const parts = h('div', { class: 'small', 'data-sa-role': 'score-parts' });
    const connection = h('span', { class: 'dot', 'data-sa-role': 'connection' }, this.t('connectionOnline'));
    const recording = h('span', { class: 'dot idle', 'data-sa-role': 'recording' }, this.t('recordingOff'));
    const warning = h('div', { class: 'warn', 'data-sa-role': 'warning' });
    const banners = h('div', {});
    const messages = h('ul', { 'data-sa-role': 'messages', 'aria-label': this.t('messagesHeading') }, h('li', { class: 'small' }, this.t('messagesEmpty')));
    const input = h('input', { type: 'text', maxlength: '4000', 'aria-label': this.t('messagePlaceholder'), placeholder: this.t('messagePlaceholder'), 'data-sa-role': 'message-input' });
    const send = async (): Promise<void> => {
      const body = input.value.trim();
      if (!body) return;
      sendButton.disabled = true;
      if (await handlers.sendMessage(body)) input.value = '';
      sendButton.disabled = false;
    };
    const sendButton = this.button('message-send', this.t('messageSend'), () => void send());
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        void send();
      }
    });
    const documents = h('ul', { 'data-sa-role': 'documents', 'aria-label': this.t('documentsHeading') }, h('li', { class: 'small' }, this.t('documentsEmpty')));
    const docStatus = h('p', { class: 'small', 'data-sa-role': 'document-status', role: 'status' });
    const upload = this.fileButton('document-upload', this.t('documentUpload'), '.pdf,.png,.jpg,.jpeg,.webp,.txt', handlers.uploadDocument);
    this.show(
      'exam',
      this.t('examHeading'),
      h(
        'div',
        { class: 'exam' },
        h('div', { class: 'thumb' }, video),
        h('div', {}, h('div', { class: 'small' }, this.t('scoreLabel')), score, parts, h('div', { class: 'status' }, connection, recording)),
      ),
      warning,
      banners,
      h('details', { open: true }, h('summary', {}, this.t('messagesHeading')), messages, h('div', { class: 'row' }, input, sendButton)),
      h('details', {}, h('summary', {}, this.t('documentsHeading')), documents, docStatus, h('div', { class: 'row' }, upload)),
    );
    this.exam = { score, parts, connection, recording, warning, banners, messages, documents, docStatus };
    this.downloadDocument = handlers.downloadDocument;
  }

  private downloadDocument: (doc: DocumentView) => void = () => {};

  setScores(scores: ScoresView): void {
    if (!this.exam) return;
    this.exam.score.textContent = scores.overall.toFixed(1);
    this.exam.parts.textContent = `identity ${scores.identity.toFixed(0)} · presence ${scores.presence.toFixed(0)} · behaviour ${scores.behavioral.toFixed(0)}`;
  }

  setConnection(online: boolean): void {
    if (!this.exam) return;
    this.exam.connection.className = online ? 'dot' : 'dot off';
    this.exam.connection.textContent = online ? this.t('connectionOnline') : this.t('connectionOffline');
    this.setBanner('offline', online ? null : this.t('connectionOffline'), 'offline');
  }

  setRecording(state: 'on' | 'off', pendingUploads: number): void {
    if (!this.exam) return;
    this.exam.recording.className = state === 'on' ? 'dot' : 'dot idle';
    this.exam.recording.textContent =
      (state === 'on' ? this.t('recordingOn') : this.t('recordingOff')) + (pendingUploads > 0 ? ` · ${this.t('recordingPending', { count: pendingUploads })}` : '');
  }

  /** Shows a warning in plain words and announces it once. */
  warn(text: string): void {
    if (!this.exam) return;
    this.exam.warning.textContent = text;
    this.announce(text);
  }

  /** A persistent banner (fullscreen needed, camera lost, offline), optionally with a button. */
  setBanner(key: string, text: string | null, className = 'banner', action?: { name: string; label: string; run: () => void }): void {
    if (!this.exam) return;
    const existing = this.bannerEls.get(key);
    if (!text) {
      existing?.remove();
      this.bannerEls.delete(key);
      return;
    }
    if (existing) return;
    const el = h('div', { class: className, 'data-sa-banner': key }, h('span', {}, text));
    if (action) el.append(' ', this.button(action.name, action.label, action.run));
    this.exam.banners.append(el);
    this.bannerEls.set(key, el);
    this.announce(text);
  }

  addMessages(messages: MessageView[]): void {
    if (!this.exam) return;
    for (const m of messages) {
      if (this.seenMessages.has(m.id)) continue;
      this.seenMessages.add(m.id);
      if (this.exam.messages.querySelector('li.small')) this.exam.messages.replaceChildren();
      const who = m.senderRole === 'proctor' ? this.t('messageFromProctor') : this.t('messageFromYou');
      this.exam.messages.append(h('li', { class: `msg-${m.senderRole}`, 'data-sa-message': m.id }, h('strong', {}, `${who}: `), m.body));
      this.exam.messages.scrollTop = this.exam.messages.scrollHeight;
      if (m.senderRole === 'proctor') this.announce(`${who}: ${m.body}`);
    }
  }

  setDocuments(documents: DocumentView[]): void {
    if (!this.exam) return;
    if (documents.length === 0) {
      this.exam.documents.replaceChildren(h('li', { class: 'small' }, this.t('documentsEmpty')));
      return;
    }
    this.exam.documents.replaceChildren(
      ...documents.map((d) => {
        const link = h('a', { href: '#', 'data-sa-action': 'document-download', 'data-sa-document': d.id }, d.fileName);
        link.addEventListener('click', (event) => {
          event.preventDefault();
          this.downloadDocument(d);
        });
        return h('li', {}, link, ` (${Math.max(1, Math.round(d.sizeBytes / 1024))} KB, ${d.uploadedBy === 'proctor' ? this.t('messageFromProctor') : this.t('messageFromYou')})`);
      }),
    );
  }

  setDocumentStatus(text: string): void {
    if (this.exam) this.exam.docStatus.textContent = text;
  }

  showProgress(text: string, done: number, total: number): void {
    const existing = this.root.querySelector('[data-sa-role=progress]');
    if (this.screen === 'completing' && existing instanceof HTMLProgressElement) {
      existing.max = Math.max(1, total);
      existing.value = done;
      const label = this.root.querySelector('[data-sa-role=progress-text]');
      if (label) label.textContent = text;
      return;
    }
    const bar = h('progress', { 'data-sa-role': 'progress', max: String(Math.max(1, total)), value: String(done) });
    this.show('completing', this.t('examHeading'), h('p', { 'data-sa-role': 'progress-text', role: 'status' }, text), bar);
  }

  showEnded(kind: 'completed' | 'stopped' | 'expired', reason?: string): void {
    const heading = kind === 'completed' ? this.t('completedHeading') : kind === 'stopped' ? this.t('stoppedHeading') : this.t('expiredHeading');
    const text = kind === 'completed' ? this.t('completedText') : kind === 'stopped' ? this.t('stoppedText', { reason: reason ?? '' }) : this.t('expiredText');
    this.show(kind, heading, h('p', { 'data-sa-role': 'ended-text' }, text));
    this.announce(text);
  }

  showError(message: string, retry?: () => void): void {
    this.show('error', this.t('errorHeading'), h('p', { class: 'error', role: 'alert' }, message), retry ? h('div', { class: 'row' }, this.button('retry', this.t('cameraRetry'), retry)) : null);
  }

  destroy(): void {
    this.root.replaceChildren();
  }
}
