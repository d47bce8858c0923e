/**
 * The vector selectors of a PromQL expression (`power_total_watts{hostname="$hostname"}`,
 * `{__name__=~"jetson_temp_.+_celsius"}`): enough of PromQL to tell metric names from function names, keywords,
 * label lists and strings, for checking that dashboards and rules query metrics that exist.
 */

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  /** The metric name before the braces; absent for `{__name__=~"..."}`. */
  name?: string;
  matchers: Matcher[];
}

const TOKEN =
  /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])?|[a-zA-Z_:][a-zA-Z0-9_:]*|=~|!~|!=|==|<=|>=|[{}()[\],=<>+\-*/%^]/y;
/** Words that are operators or modifiers, never metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Keywords followed by a parenthesised list of label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Grafana's interval variables, which stand where PromQL has a duration. */
const GRAFANA_DURATIONS = /\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}/g;

export function tokenize(expr: string): string[] {
  const source = expr.replace(GRAFANA_DURATIONS, '5m');
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (!match) throw new Error(`cannot read PromQL at ${JSON.stringify(source.slice(at, at + 20))} in ${JSON.stringify(expr)}`);
    if (match[0].trim() !== '') tokens.push(match[0]);
  }
  return tokens;
}

export function vectorSelectors(expr: string): Selector[] {
  const tokens = tokenize(expr);
  const selectors: Selector[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '{') {
      const { matchers, end } = readMatchers(tokens, i, expr);
      selectors.push({ matchers });
      i = end;
    } else if (/^[a-zA-Z_:]/.test(token)) {
      const next = tokens[i + 1];
      if (LABEL_LISTS.has(token) && next === '(') i = tokens.indexOf(')', i);
      // A keyword, a function call, or an aggregation with its grouping first: `sum by (hostname) (...)`.
      if (KEYWORDS.has(token) || next === '(' || next === 'by' || next === 'without') continue;
      if (next === '{') {
        const { matchers, end } = readMatchers(tokens, i + 1, expr);
        selectors.push({ name: token, matchers });
        i = end;
      } else {
        selectors.push({ name: token, matchers: [] });
      }
    }
  }
  return selectors;
}

/** Reads `{label op "value", ...}` starting at the `{` at `start`; returns the matchers and the index of `}`. */
function readMatchers(tokens: string[], start: number, expr: string): { matchers: Matcher[]; end: number } {
  const matchers: Matcher[] = [];
  let i = start + 1;
  while (tokens[i] !== '}') {
    const [label, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (!label || !op || !['=', '!=', '=~', '!~'].includes(op) || !value || !/^["'`]/.test(value)) {
      throw new Error(`a label matcher in ${JSON.stringify(expr)} is not label op "value"`);
    }
    matchers.push({ label, op: op as Matcher['op'], value: JSON.parse(value.startsWith('"') ? value : JSON.stringify(value.slice(1, -1))) });
    i += 3;
    if (tokens[i] === ',') i++;
  }
  return { matchers, end: i };
}
