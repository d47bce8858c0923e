import { DEVICE_ID_PATTERN } from './schema-patterns';

/**
 * Why `id` cannot name a device, or undefined when it can. `.` and `..` match the pattern but are refused:
 * HTTP clients resolve them as path steps, so such a device could never be reached by its URL.
 */
export function deviceIdProblem(id: string): string | undefined {
  const shown = JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id);
  if (!DEVICE_ID_PATTERN.test(id)) {
    return `device id ${shown} is not valid: use 1 to 64 letters, digits, '.', '_' or '-'`;
  }
  if (id === '.' || id === '..') return `device id ${shown} is not allowed: it is a path step`;
  return undefined;
}
