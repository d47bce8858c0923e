/**
 * Small DOM helpers. Every string reaches the page through `textContent` or an attribute, never as HTML, so what a
 * device reports or an operator typed is shown as text.
 */

export type Child = Node | string | null | undefined | false;

export interface Attributes {
  [name: string]: string | number | boolean | undefined | null;
}

/** An element with its attributes (`true` sets a boolean attribute, `false`/null/undefined leaves it out) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

/** Appends children; strings become text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Sets `textContent` only when it changes, so that a poll that changes nothing touches nothing. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** A `<label>` and its control, tied by id. */
export function labelled(text: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return el('span', { class: 'field' }, el('label', { for: id }, text), control);
}

/** A `<select>` with (value, text) options. */
export function select(options: Array<[string, string]>, value = ''): HTMLSelectElement {
  const element = el('select');
  for (const [optionValue, text] of options) element.append(el('option', { value: optionValue }, text));
  element.value = value;
  return element;
}

/** A message line whose changes screen readers announce. */
export function statusLine(className = 'status'): HTMLElement {
  return el('p', { class: className, role: 'status', 'aria-live': 'polite' });
}

/** `#/devices/<id>` and the like, each part encoded. */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

/** A time stamp as the browser's local date and time, or a dash. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
