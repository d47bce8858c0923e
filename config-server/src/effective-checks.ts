import { configProblems } from '@edge-metrics/core/plugin';
import { isPlainObject, type Config } from './layers';

/** Why a device could not run `config`, as far as the server can tell: the schema and the size limits. */
export function effectiveProblems(config: Config): string[] {
  return configProblems(config);
}

/**
 * What the server cannot check about a change and says so: whether a device has a plugin for a device type or a
 * collector type it did not run before (plugins are installed on the device, which reports its outcome after).
 */
export function effectiveWarnings(before: Config, after: Config, reportedType: string | null): string[] {
  const warnings: string[] = [];
  const type = after.device_type;
  if (typeof type === 'string' && type !== 'auto' && type !== before.device_type && type !== reportedType) {
    warnings.push(`device_type ${type}: the server cannot tell whether the device has a plugin serving it${reportedType ? ` (it reports ${reportedType})` : ''}`);
  }
  const collectorTypes = (config: Config): Set<string> =>
    new Set((Array.isArray(config.collectors) ? config.collectors : []).flatMap((c) => (isPlainObject(c) && typeof c.type === 'string' ? [c.type] : [])));
  const known = collectorTypes(before);
  const added = [...collectorTypes(after)].filter((t) => !known.has(t) && t !== reportedType);
  if (added.length > 0) warnings.push(`collectors ${added.join(', ')}: the server cannot tell whether the device has plugins serving them`);
  return warnings;
}
