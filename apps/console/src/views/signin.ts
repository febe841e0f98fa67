/** Sign-in page: trades an API key for the console's HttpOnly session cookie. */
import { api, errorMessage, isAbort } from '../api.ts';
import { h } from '../dom.ts';
import { setTitle } from '../layout.ts';
import { safeNext, type ViewContext } from '../router.ts';
import { strings } from '../strings.ts';
import type { ConsoleIdentity } from '../types.ts';

const s = strings.signin;

export function signinView(ctx: ViewContext): void {
  setTitle(s.title);
  const next = safeNext(ctx.query.get('next'));

  const error = h('div', { class: 'alert', role: 'alert', testid: 'signin-error', hidden: true });
  const notice = h('p', { class: 'notice', role: 'status' }, ctx.query.has('signedout') ? s.signedOut : '');
  const input = h('input', {
    id: 'api-key',
    name: 'apiKey',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    required: true,
    'aria-describedby': 'api-key-hint',
    testid: 'signin-key',
  });
  const submit = h('button', { type: 'submit', class: 'button button-primary', testid: 'signin-submit' }, s.submit);
  const form = h(
    'form',
    { class: 'signin-form', testid: 'signin-form', novalidate: true },
    h('label', { for: 'api-key' }, s.apiKey),
    input,
    h('p', { id: 'api-key-hint', class: 'hint' }, s.apiKeyHint),
    error,
    submit,
  );

  const showError = (message: string): void => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const apiKey = input.value.trim();
    // The key lives only in this field and the request body; it is cleared whatever the outcome.
    input.value = '';
    if (!apiKey) return showError(s.empty);
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = s.submitting;
    api<ConsoleIdentity>('POST', '/api/console/login', { body: { apiKey }, redirectOnUnauthorized: false, signal: ctx.signal })
      .then(() => ctx.navigate(next, { replace: true }))
      .catch((failure: unknown) => {
        if (isAbort(failure)) return;
        showError(errorMessage(failure));
      })
      .finally(() => {
        submit.disabled = false;
        submit.textContent = s.submit;
      });
  });

  ctx.main.append(
    h(
      'div',
      { class: 'signin' },
      h('h1', {}, strings.appName),
      h('h2', { class: 'signin-title' }, s.title),
      h('p', {}, s.intro),
      notice,
      form,
    ),
  );
  input.focus();
}
