import { API_VERSION, type OptionsOf, type PluginManifest } from '@edge-metrics/core/plugin';

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tegrastats_path: {
      type: 'string',
      minLength: 1,
      default: 'tegrastats',
      description: 'The tegrastats command: a name looked up on PATH, or a path',
    },
    interval_ms: {
      type: 'integer',
      minimum: 10,
      maximum: 3_600_000,
      description: "tegrastats' --interval in milliseconds; default the collector's interval",
    },
    sample_stale_s: {
      type: 'number',
      exclusiveMinimum: 0,
      description: 'A sample older than this is not served; default five intervals, at least 5 s',
    },
    restart_backoff_max_s: {
      type: 'number',
      minimum: 1,
      default: 60,
      description: 'The longest wait between two restarts of a failing tegrastats (the wait doubles from 1 s)',
    },
    proc_root: { type: 'string', minLength: 1, default: '/proc', description: 'Where procfs is mounted (detection)' },
    sys_root: { type: 'string', minLength: 1, default: '/sys', description: 'Where sysfs is mounted (detection)' },
    etc_root: { type: 'string', minLength: 1, default: '/etc', description: 'Where nv_tegra_release is looked for (detection)' },
  },
} as const;

/** The options as `create()` sees them: validated against `optionsSchema`, defaults filled in. */
export type JetsonOptions = OptionsOf<typeof optionsSchema>;

export const manifest = {
  name: 'edge-collector-jetson',
  apiVersion: API_VERSION,
  deviceTypes: ['jetson_orin', 'jetson_xavier', 'jetson_nano', 'jetson_tx2', 'jetson_thor', 'jetson'],
  metrics: [
    { name: 'power_total_watts', help: "The board's power draw: its input rail (VDD_IN, POM_5V_IN, VIN) where printed, else the sum of its rails", type: 'gauge', unit: 'watts' },
    { name: 'power_cpu_watts', help: 'Power of the rail that feeds the CPU (see the README for the rail per board)', type: 'gauge', unit: 'watts' },
    { name: 'power_gpu_watts', help: 'Power of the rail that feeds the GPU (see the README for the rail per board)', type: 'gauge', unit: 'watts' },
    { name: 'energy_joules_total', help: 'Energy used since the collector started, integrated from power_total_watts', type: 'counter', unit: 'joules' },
    { name: 'jetson_power_{rail}_watts', help: "A power rail's instantaneous power as printed by tegrastats", type: 'gauge', unit: 'watts' },
    { name: 'jetson_temp_{zone}_celsius', help: 'A thermal zone as printed by tegrastats', type: 'gauge', unit: 'celsius' },
    { name: 'jetson_ram_used_mb', help: 'RAM in use', type: 'gauge', unit: 'mb' },
    { name: 'jetson_ram_total_mb', help: 'RAM available to applications', type: 'gauge', unit: 'mb' },
    { name: 'jetson_ram_used_percent', help: 'RAM in use, in percent of the total', type: 'gauge', unit: 'percent' },
    { name: 'jetson_swap_used_mb', help: 'Swap in use', type: 'gauge', unit: 'mb' },
    { name: 'jetson_swap_total_mb', help: 'Swap available', type: 'gauge', unit: 'mb' },
    { name: 'jetson_cpu_avg_usage_percent', help: 'CPU load, the mean over the online cores', type: 'gauge', unit: 'percent' },
    { name: 'jetson_cpu_online_cores', help: 'CPU cores online (not printed as off)', type: 'gauge' },
    { name: 'jetson_cpu_core{N}_usage_percent', help: "An online CPU core's load (N from 0 in the printed order)", type: 'gauge', unit: 'percent' },
    { name: 'jetson_cpu_core{N}_freq_mhz', help: "An online CPU core's clock", type: 'gauge', unit: 'mhz' },
    { name: 'jetson_gpu_usage_percent', help: 'GPU (GR3D) load', type: 'gauge', unit: 'percent' },
    { name: 'jetson_gpu_freq_mhz', help: 'GPU (GR3D) clock; the highest GPC clock where one per GPC is printed', type: 'gauge', unit: 'mhz' },
    { name: 'jetson_emc_usage_percent', help: 'External memory controller load', type: 'gauge', unit: 'percent' },
    { name: 'jetson_emc_freq_mhz', help: 'External memory controller clock', type: 'gauge', unit: 'mhz' },
    { name: 'jetson_{engine}_freq_mhz', help: "An engine's clock (APE, NVENC, NVDEC, NVJPG, VIC, OFA, NVDLA, PVA...), while it is on", type: 'gauge', unit: 'mhz' },
  ],
  optionsSchema,
} satisfies PluginManifest;
