/**
 * A YAML text editor whose problems show beside the line of the key they name: a textarea that grows with its text
 * (so its lines stay level with the line numbers and notes beside it), and the list of problems for screen readers.
 */

import { el, replaceChildren } from './dom.js';
import { keyLines, problemLine } from './yaml-lines.js';

export interface YamlEditor {
  element: HTMLElement;
  textarea: HTMLTextAreaElement;
  /** Shows these problems at their lines (none: the text is valid). */
  showProblems(problems: string[]): void;
  setText(text: string): void;
}

/** `onEdit` runs after the operator stops typing for `debounceMs`. */
export function yamlEditor(id: string, label: string, text: string, options: { readOnly?: boolean; onEdit?: () => void; debounceMs?: number } = {}): YamlEditor {
  const textarea = el('textarea', { id, class: 'yaml', spellcheck: 'false', autocomplete: 'off', wrap: 'off', readonly: options.readOnly ?? false, 'aria-describedby': `${id}-problems` });
  const gutter = el('div', { class: 'gutter', 'aria-hidden': 'true' });
  const notes = el('div', { class: 'line-notes', 'aria-hidden': 'true' });
  const list = el('ul', { id: `${id}-problems`, class: 'problems' });
  let problems: string[] = [];

  const layout = (): void => {
    const count = textarea.value.split('\n').length;
    textarea.rows = count + 1;
    const byLine = new Map<number, string[]>();
    const unplaced: string[] = [];
    const lines = keyLines(textarea.value);
    for (const problem of problems) {
      const line = problemLine(problem, lines);
      if (line === null || line > count) unplaced.push(problem);
      else byLine.set(line, [...(byLine.get(line) ?? []), problem]);
    }
    replaceChildren(gutter, ...Array.from({ length: count }, (_, index) => el('div', { class: byLine.has(index + 1) ? 'line bad' : 'line' }, String(index + 1))));
    replaceChildren(notes, ...Array.from({ length: count }, (_, index) => el('div', { class: byLine.has(index + 1) ? 'line problem' : 'line' }, (byLine.get(index + 1) ?? []).join('; '))));
    replaceChildren(
      list,
      ...[...byLine.entries()].sort(([a], [b]) => a - b).flatMap(([line, texts]) => texts.map((problem) => el('li', { 'data-line': line }, `line ${line}: ${problem}`))),
      ...unplaced.map((problem) => el('li', {}, problem)),
    );
    textarea.setAttribute('aria-invalid', problems.length > 0 ? 'true' : 'false');
  };

  let timer: number | undefined;
  textarea.addEventListener('input', () => {
    layout();
    if (!options.onEdit) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(options.onEdit, options.debounceMs ?? 400);
  });
  textarea.value = text;
  layout();
  const element = el('div', { class: 'yaml-editor' }, el('label', { for: id }, label), el('div', { class: 'editor-lines' }, gutter, textarea, notes), el('div', { role: 'status', 'aria-live': 'polite' }, list));
  return {
    element,
    textarea,
    showProblems(next) {
      problems = next;
      layout();
    },
    setText(next) {
      textarea.value = next;
      problems = [];
      layout();
    },
  };
}
