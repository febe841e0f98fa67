/**
 * A modal confirmation built on `<dialog>` (focus stays inside, Escape cancels). Resolves to the field
 * values on confirm, or null on cancel.
 */
import { h } from './dom.ts';
import { strings } from './strings.ts';

export interface ConfirmOptions {
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  /** An optional text field, e.g. a stop reason or the word the user must type. */
  field?: { label: string; name: string; maxLength?: number; required?: string; testid?: string };
  testid?: string;
}

export function confirmDialog(options: ConfirmOptions): Promise<string | null> {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const input = options.field
      ? h('input', {
          id: `${titleId}-field`,
          name: options.field.name,
          type: 'text',
          autocomplete: 'off',
          maxlength: options.field.maxLength ? String(options.field.maxLength) : undefined,
          testid: options.field.testid,
        })
      : null;
    const confirm = h('button', { type: 'submit', class: `button ${options.danger ? 'button-danger' : 'button-primary'}`, testid: 'dialog-confirm' }, options.confirmLabel);
    const cancel = h('button', { type: 'button', class: 'button', testid: 'dialog-cancel' }, strings.detail.cancel);
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: titleId }, options.title),
      h('p', {}, options.body),
      input && options.field ? h('div', { class: 'field' }, h('label', { for: input.id }, options.field.label), input) : null,
      h('div', { class: 'dialog-buttons' }, cancel, confirm),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, testid: options.testid }, form);

    const required = options.field?.required;
    const sync = (): void => {
      if (required !== undefined && input) confirm.disabled = input.value.trim() !== required;
    };
    input?.addEventListener('input', sync);
    sync();

    let result: string | null = null;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (confirm.disabled) return;
      result = input ? input.value.trim() : '';
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      const opener = lastFocus;
      dialog.remove();
      opener?.focus();
      resolve(result);
    });

    const lastFocus = document.activeElement as HTMLElement | null;
    document.body.append(dialog);
    dialog.showModal();
    (input ?? cancel).focus();
  });
}
