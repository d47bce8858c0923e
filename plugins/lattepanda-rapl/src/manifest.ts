import type { OptionsOf, PluginManifest } from '@edge-metrics/core/plugin';

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sysfs_root: {
      type: 'string',
      minLength: 1,
      default: '/sys',
      description: 'Where sysfs is mounted; the zones are read from <sysfs_root>/class/powercap/intel-rapl:*',
    },
  },
} as const;

/** The options as `create()` sees them: validated against `optionsSchema`, defaults filled in. */
export type RaplOptions = OptionsOf<typeof optionsSchema>;

export const manifest = {
  name: 'edge-collector-lattepanda-rapl',
  apiVersion: 1,
  deviceTypes: ['lattepanda', 'intel_rapl'],
  metrics: [
    {
      name: 'rapl_energy_joules_total',
      help: 'Energy used by a RAPL zone since the exporter started reading it (the energy_uj counter, kept monotonic across its wraparound)',
      type: 'counter',
      unit: 'joules',
      labels: ['zone', 'package'],
    },
    {
      name: 'rapl_power_watts',
      help: 'Average power of a RAPL zone between the last two reads (energy delta over real time delta)',
      type: 'gauge',
      unit: 'watts',
      labels: ['zone', 'package'],
    },
    {
      name: 'power_total_watts',
      help: 'Whole-device power: the psys zone where present, else the sum of the packages and their dram zones',
      type: 'gauge',
      unit: 'watts',
    },
    {
      name: 'power_cpu_watts',
      help: "CPU power: each package's core zone, or the package where it has no core zone",
      type: 'gauge',
      unit: 'watts',
    },
    {
      name: 'energy_joules_total',
      help: 'Whole-device energy used since the exporter started, from the RAPL counters of the zones power_total_watts sums',
      type: 'counter',
      unit: 'joules',
    },
  ],
  optionsSchema,
} satisfies PluginManifest;
