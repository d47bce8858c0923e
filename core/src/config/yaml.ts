import { isCollection, isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** What is wrong with a YAML text: the first syntax error or repeated key, with its line and column when known. */
export interface YamlProblem {
  line?: number;
  col?: number;
  message: string;
}

/**
 * Parses YAML in time linear in its size. yaml's own duplicate-key check compares each key of a mapping with every
 * key before it (20,000 keys take seconds, 40,000 most of a minute, with the event loop blocked): it is off, and
 * `repeatedKey` does the same job with one Set per mapping.
 */
export function parseYamlDocument(text: string): { document: Document.Parsed; problem?: YamlProblem } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter });
  const error = document.errors[0];
  if (error) {
    const position = error.linePos?.[0];
    // yaml's message ends with the position and a code frame on the following lines: the position is reported apart.
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { document, problem: { ...(position ? { line: position.line, col: position.col } : {}), message } };
  }
  return { document, problem: repeatedKey(document, lineCounter) };
}

/** The first key that a mapping repeats (which YAML forbids), found without recursion so that depth cannot exhaust the stack. */
function repeatedKey(document: Document.Parsed, lineCounter: LineCounter): YamlProblem | undefined {
  const pending: unknown[] = [document.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!isCollection(node)) continue;
    if (!isMap(node)) {
      for (const item of node.items) pending.push(item);
      continue;
    }
    const seen = new Set<string>();
    for (const { key, value } of node.items) {
      // Keys `1` and `"1"` are different YAML but the same key once loaded: compare what loading makes of them.
      const name = isScalar(key) ? String(key.value) : JSON.stringify((key as Node | null)?.toJSON() ?? null);
      if (seen.has(name)) {
        const { line, col } = lineCounter.linePos((key as Node).range?.[0] ?? 0);
        return { line, col, message: `Map keys must be unique (key ${JSON.stringify(name)} appears twice in one mapping)` };
      }
      seen.add(name);
      pending.push(key, value);
    }
  }
  return undefined;
}
