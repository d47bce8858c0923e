/** Checks a layer change without storing it (`?dry_run=true`): the problems to show and the preview of what it changes. */

import { ApiError, call } from './api.js';
import type { Preview } from './types.js';

export interface Check {
  problems: string[];
  preview: Preview | null;
}

/**
 * PUT `yaml` to `path` as a dry run. A body the server refuses gives its problems (or its error); a body that would
 * make a device invalid gives that device's problems, prefixed with its id when the change reaches several.
 */
export async function dryRun(path: string, yaml: string): Promise<Check> {
  try {
    const { body } = await call<Preview>(`${path}?dry_run=true`, { method: 'PUT', yaml });
    const invalid = body.devices.filter((device) => !device.valid);
    const several = body.devices.length > 1;
    return { problems: invalid.flatMap((device) => device.problems.map((problem) => (several ? `${device.device_id}: ${problem}` : problem))), preview: body };
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) return { problems: error.problems.length > 0 ? error.problems : [error.message], preview: null };
    throw error;
  }
}
