import { API_VERSION, type OptionsOf, type PluginManifest } from '@edge-metrics/core/plugin';

/** The options' JSON schema, `as const` so that their TypeScript type is derived from it. */
const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sysfs_root: { type: 'string', minLength: 1, default: '/sys', description: 'Where sysfs is mounted' },
    hwmon: { type: 'string', pattern: '^hwmon[0-9]+$', default: 'hwmon0', description: 'The hwmon chip under <sysfs_root>/class/hwmon' },
  },
} as const;

/** The options as `create()` sees them: validated against `optionsSchema`, defaults filled in. */
export type __TYPE__Options = OptionsOf<typeof optionsSchema>;

/** Plain data, the single source of truth: core validates it, the tests check every sample and the README against it. */
export const manifest = {
  name: '__PACKAGE__',
  apiVersion: API_VERSION,
  deviceTypes: ['__PREFIX__'],
  metrics: [
    { name: '__PREFIX___power_watts', help: "The hwmon chip's power1_input", type: 'gauge', unit: 'watts' },
    { name: 'power_total_watts', help: 'Whole-device power: the power the chip measures', type: 'gauge', unit: 'watts' },
    { name: 'energy_joules_total', help: 'Energy used since the collector started, integrated from power_total_watts', type: 'counter', unit: 'joules' },
  ],
  optionsSchema,
} satisfies PluginManifest;
