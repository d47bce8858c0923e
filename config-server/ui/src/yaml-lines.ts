/**
 * Where a problem sits in the YAML text the operator edits: the line of the key it names. The server's problems
 * name a key path (`metrics.jetson_temp_cpu_celsius: must be a boolean`, `collectors[0]: unknown key 'foo'`,
 * `unknown key 'colour'`) or, for YAML it cannot parse, a line (`line 3, column 5: ...`).
 */

import { parentPath } from './key-paths.js';

interface Frame {
  indent: number;
  path: string;
  isItem: boolean;
  items: number;
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#{[\-?][^#]*?|-[^\s#][^#]*?)\s*:(?:\s|$)/;

/** The line (1-based) of every key and list item of a block-style YAML document, by key path. */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: Frame[] = [];
  const root: Frame = { indent: -1, path: '', isItem: false, items: 0 };
  text.split('\n').forEach((line, index) => {
    let indent = line.length - line.trimStart().length;
    let rest = line.slice(indent);
    if (rest === '' || rest.startsWith('#') || rest.startsWith('---')) return;
    while (rest === '-' || rest.startsWith('- ')) {
      while (stack.length > 0 && (stack.at(-1)!.indent > indent || (stack.at(-1)!.indent === indent && stack.at(-1)!.isItem))) stack.pop();
      const parent = stack.at(-1) ?? root;
      const item: Frame = { indent, path: `${parent.path}[${parent.items++}]`, isItem: true, items: 0 };
      stack.push(item);
      if (!lines.has(item.path)) lines.set(item.path, index + 1);
      const after = rest.slice(1);
      const gap = after.length - after.trimStart().length;
      indent += 1 + gap;
      rest = after.trimStart();
    }
    const key = KEY.exec(rest)?.[1];
    if (key === undefined) return;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1) ?? root;
    const name = unquote(key.trimEnd());
    const path = parent.path === '' ? name : `${parent.path}.${name}`;
    stack.push({ indent, path, isItem: false, items: 0 });
    if (!lines.has(path)) lines.set(path, index + 1);
  });
  return lines;
}

function unquote(key: string): string {
  if (key.startsWith('"')) {
    try {
      return String(JSON.parse(key));
    } catch {
      return key.slice(1, -1);
    }
  }
  if (key.startsWith("'")) return key.slice(1, -1).replaceAll("''", "'");
  return key;
}

/** The key path a problem sentence names, or null when it names none. */
export function problemPath(problem: string): string | null {
  const unknown = /^(?:([^\s:]+): )?unknown key '(.*)'/.exec(problem);
  if (unknown) return unknown[1] ? `${unknown[1]}.${unknown[2]}` : unknown[2]!;
  return /^([A-Za-z0-9_.\-[\]]+): /.exec(problem)?.[1] ?? null;
}

/** The line a problem belongs to in `text`: the line it names, else the line of its key or of the nearest key above; null when none. */
export function problemLine(problem: string, lines: Map<string, number>): number | null {
  const named = /\bline (\d+), column \d+/.exec(problem);
  if (named) return Number(named[1]);
  for (let path = problemPath(problem) ?? ''; path !== ''; path = parentPath(path)) {
    const line = lines.get(path);
    if (line !== undefined) return line;
  }
  return null;
}
