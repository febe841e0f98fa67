/**
 * DOM building without innerHTML: every piece of data becomes a text node or an attribute value, so
 * nothing a candidate typed (a name, a chat message, a file name) can turn into markup.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Handler<K extends keyof HTMLElementEventMap> = (event: HTMLElementEventMap[K]) => void;

export interface Attrs {
  /** Space-separated class names. */
  class?: string;
  /** `data-testid`, the stable hook of browser tests. */
  testid?: string;
  /** `data-*` attributes, without the prefix. */
  data?: Record<string, string>;
  /** Event listeners, e.g. `{ click: () => … }`. */
  on?: { [K in keyof HTMLElementEventMap]?: Handler<K> };
  /** Any other attribute; `false`, `null` and `undefined` leave it out, `true` sets it empty. */
  [name: string]: unknown;
}

/**
 * Creates an element. `h('a', { href: '/x', class: 'link' }, 'Text')`.
 * @example h('li', { testid: 'row', data: { id } }, h('strong', {}, name), ' (', email, ')')
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = String(value);
    else if (name === 'testid') element.dataset.testid = String(value);
    else if (name === 'data') Object.assign(element.dataset, value);
    else if (name === 'on') {
      for (const [type, listener] of Object.entries(value as Record<string, EventListener>)) element.addEventListener(type, listener);
    } else if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

/** Appends children (strings become text nodes; null/false are skipped; arrays are flattened). */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...(child as Child[]));
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** Sets the text of a status line (an `aria-live` region) and marks it as an error or not. */
export function setStatus(region: HTMLElement, text: string, kind: 'info' | 'error' | 'success' = 'info'): void {
  region.textContent = text;
  region.dataset.kind = kind;
}
