/** Documents exchanged with the candidate: download links, and an upload form for the proctor. */
import { api, errorMessage } from '../api.ts';
import { h, replace, setStatus } from '../dom.ts';
import { formatBytes, formatShort } from '../format.ts';
import { strings } from '../strings.ts';
import type { DocumentMeta } from '../types.ts';

const s = strings.detail;
/** What the server accepts (it checks the bytes; this only narrows the file picker). */
const ACCEPT = '.pdf,.png,.jpg,.jpeg,.webp,.txt,application/pdf,image/png,image/jpeg,image/webp,text/plain';

export class DocumentsPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly file: HTMLInputElement;
  private readonly upload: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly form: HTMLFormElement;
  private documents: DocumentMeta[] = [];

  constructor(
    private readonly sessionId: string,
    private readonly signal: AbortSignal,
  ) {
    this.list = h('ul', { class: 'documents', testid: 'documents-list' });
    this.empty = h('p', { class: 'empty' }, s.documentsEmpty);
    this.file = h('input', { id: 'document-file', name: 'file', type: 'file', accept: ACCEPT, testid: 'document-file' });
    this.upload = h('button', { type: 'submit', class: 'button', testid: 'document-upload' }, s.upload);
    this.status = h('p', { class: 'status-line', role: 'status', testid: 'document-status' });
    this.form = h('form', { class: 'document-form' }, h('label', { for: 'document-file' }, s.uploadLabel), this.file, this.upload, this.status);
    this.element = h('div', { class: 'documents-panel' }, this.list, this.empty, this.form);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  async load(): Promise<void> {
    const answer = await api<{ documents: DocumentMeta[] }>('GET', this.base(), { signal: this.signal });
    this.documents = [];
    for (const document of answer.documents) this.add(document);
    this.render();
  }

  add(document: DocumentMeta): void {
    if (this.documents.some((known) => known.id === document.id)) return;
    this.documents.push(document);
    this.render();
  }

  setOpen(open: boolean): void {
    this.form.hidden = !open;
  }

  private render(): void {
    replace(
      this.list,
      this.documents.map((doc) =>
        h(
          'li',
          { data: { documentId: doc.id } },
          h('a', { href: `${this.base()}/${encodeURIComponent(doc.id)}`, download: doc.fileName, testid: 'document-link' }, doc.fileName),
          h('div', { class: 'sub' }, `${formatBytes(doc.sizeBytes)} · ${doc.uploadedBy === 'candidate' ? s.byCandidate : s.byProctor} · ${formatShort(doc.createdAt)}`),
        ),
      ),
    );
    this.empty.hidden = this.documents.length > 0;
  }

  private async submit(): Promise<void> {
    const file = this.file.files?.[0];
    if (!file) {
      setStatus(this.status, s.chooseFile, 'error');
      this.file.focus();
      return;
    }
    const body = new FormData();
    body.append('file', file, file.name);
    this.upload.disabled = true;
    setStatus(this.status, s.uploading);
    try {
      const meta = await api<DocumentMeta>('POST', this.base(), { body, signal: this.signal });
      this.add(meta);
      this.file.value = '';
      setStatus(this.status, s.uploaded(meta.fileName), 'success');
    } catch (error) {
      setStatus(this.status, errorMessage(error), 'error');
    } finally {
      this.upload.disabled = false;
    }
  }

  private base(): string {
    return `/api/widget/sessions/${encodeURIComponent(this.sessionId)}/documents`;
  }
}
