import type { OptionsOf, PluginManifest } from '@edge-metrics/core/plugin';

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sysfs_root: {
      type: 'string',
      minLength: 1,
      default: '/sys',
      description: 'Where sysfs is mounted; sensors are read from <sysfs_root>/class/{hwmon,power_supply,thermal}',
    },
    total_sensor: {
      type: 'string',
      default: '',
      description: 'The sensor whose power is power_total_watts, e.g. "ina219/power1"; empty: the input power supply',
    },
    include: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Sensor name patterns (* and ?) to expose; empty: every sensor',
    },
    exclude: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Sensor name patterns (* and ?) not to expose',
    },
  },
} as const;

/** The options as `create()` sees them: validated against `optionsSchema`, defaults filled in. */
export type SysfsOptions = OptionsOf<typeof optionsSchema>;

export const manifest = {
  name: 'edge-collector-orangepi-sysfs',
  apiVersion: 1,
  deviceTypes: ['orangepi', 'sysfs'],
  metrics: [
    {
      name: 'sysfs_power_watts',
      help: 'Power of a hwmon channel or power supply (V×I where the sensor reports voltage and current but no power)',
      type: 'gauge',
      unit: 'watts',
      labels: ['sensor'],
    },
    {
      name: 'sysfs_voltage_volts',
      help: 'Voltage of a hwmon channel or power supply',
      type: 'gauge',
      unit: 'volts',
      labels: ['sensor'],
    },
    {
      name: 'sysfs_current_amps',
      help: 'Current of a hwmon channel or power supply, with the sign the driver gives it',
      type: 'gauge',
      unit: 'amps',
      labels: ['sensor'],
    },
    {
      name: 'sysfs_temp_celsius',
      help: 'Temperature of a thermal zone',
      type: 'gauge',
      unit: 'celsius',
      labels: ['zone'],
    },
    {
      name: 'power_total_watts',
      help: 'Whole-device power: the sensor the option total_sensor names, else the input power supply',
      type: 'gauge',
      unit: 'watts',
    },
    {
      name: 'energy_joules_total',
      help: 'Whole-device energy since the exporter started, integrated from power_total_watts over real time',
      type: 'counter',
      unit: 'joules',
    },
  ],
  optionsSchema,
} satisfies PluginManifest;
