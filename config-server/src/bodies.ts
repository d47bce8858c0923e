import { parseYamlDocument } from '@edge-metrics/core';
import { describeError, HttpError } from './errors';
import { DEVICE_TYPE_PATTERN } from './schema-patterns';

export type BodyFormat = 'json' | 'yaml';

/** Deeper than any config; a body nested deeper would exhaust the stack of the recursive checks that follow. */
const MAX_BODY_DEPTH = 64;

/** The value in a request body; 400 naming the format and the parser's complaint when it is empty, malformed or nested too deep. */
export function parseBody(text: string, format: BodyFormat): unknown {
  const formatName = format === 'json' ? 'JSON' : 'YAML';
  if (text.trim() === '') throw new HttpError(400, `the request body is empty: send the ${formatName} document`);
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new HttpError(400, `the request body is not valid ${formatName}: ${describeError(error)}`);
  }
  if (nestsDeeperThan(value, MAX_BODY_DEPTH)) {
    throw new HttpError(400, `the request body nests objects or lists more than ${MAX_BODY_DEPTH} levels deep`);
  }
  return value;
}

/** A YAML body's value, parsed in linear time (yaml's own duplicate-key check is quadratic); throws the first problem. */
function parseYaml(text: string): unknown {
  const { document, problem } = parseYamlDocument(text);
  if (problem) throw new Error(`${problem.line ? `line ${problem.line}, column ${problem.col}: ` : ''}${problem.message}`);
  return document.toJS();
}

/** Whether objects and arrays in `value` nest more than `limit` levels deep; walks without recursion. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [inner, depth] = next;
    if (typeof inner !== 'object' || inner === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(inner)) pending.push([child, depth + 1]);
  }
  return false;
}

/** What a device reports about itself: where Prometheus can scrape it, and how applying a config version went. */
export interface StatusReport {
  version?: number;
  status?: 'applied' | 'failed';
  error?: string;
  metrics_port?: number;
  address?: string;
  device_type?: string;
}

const REPORT_KEYS = new Set(['version', 'status', 'error', 'metrics_port', 'address', 'device_type']);
const ADDRESS_PATTERN = /^[A-Za-z0-9._:-]{1,253}$/;
const MAX_ERROR_LENGTH = 4096;

/** The problems of a status report as sentences naming the field; empty when it is a valid `StatusReport`. */
export function statusReportProblems(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['the report must be a JSON object'];
  const report = raw as Record<string, unknown>;
  const problems = Object.keys(report)
    .filter((key) => !REPORT_KEYS.has(key))
    .map((key) => `unknown key '${key}'`);
  const { version, status, error, metrics_port: port, address, device_type: deviceType } = report;
  if (version !== undefined && !(Number.isInteger(version) && (version as number) >= 1)) {
    problems.push('version: must be a positive integer');
  }
  if (status !== undefined && status !== 'applied' && status !== 'failed') {
    problems.push('status: must be "applied" or "failed"');
  }
  if ((version === undefined) !== (status === undefined)) {
    problems.push('version and status: give both (the outcome of applying that version) or neither');
  }
  if (error !== undefined) {
    if (typeof error !== 'string' || error.length > MAX_ERROR_LENGTH) {
      problems.push(`error: must be a string of at most ${MAX_ERROR_LENGTH} characters`);
    } else if (status !== 'failed') {
      problems.push('error: only goes with status "failed"');
    }
  }
  if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) {
    problems.push('metrics_port: must be an integer from 1 to 65535');
  }
  if (address !== undefined && !(typeof address === 'string' && ADDRESS_PATTERN.test(address))) {
    problems.push('address: must be a host name or an IP address (without port or brackets)');
  }
  if (deviceType !== undefined && !(typeof deviceType === 'string' && DEVICE_TYPE_PATTERN.test(deviceType))) {
    problems.push(`device_type: must match ${DEVICE_TYPE_PATTERN.source}`);
  }
  return problems;
}
