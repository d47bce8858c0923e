import { API_VERSION, type OptionsOf, type PluginManifest } from '@edge-metrics/core/plugin';
import { AVERAGING_COUNTS, CONVERSION_TIMES_US, FIRST_ADDRESS, LAST_ADDRESS } from './ina260-registers';

/** The options schema: the single source of the options, their defaults and their descriptions. */
const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bus: { type: 'integer', minimum: 0, default: 1, description: 'The I2C bus: /dev/i2c-<bus> (the header pins 3 and 5 are bus 1)' },
    sensors: {
      type: 'array',
      default: [{ address: FIRST_ADDRESS, name: 'main' }],
      description: 'The INA260s on the bus; an empty list reads only the Raspberry Pi itself',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['address', 'name'],
        properties: {
          address: {
            anyOf: [
              { type: 'integer', minimum: FIRST_ADDRESS, maximum: LAST_ADDRESS },
              { type: 'string', pattern: '^0[xX]4[0-9a-fA-F]$' },
            ],
            description: 'The I2C address set by the A0/A1 straps: 0x40 to 0x4F, as a number or a "0x4…" string',
          },
          name: { type: 'string', minLength: 1, description: 'The value of the sensor label' },
        },
      },
    },
    averaging: {
      enum: [...AVERAGING_COUNTS],
      default: 256,
      description: 'Samples averaged per reading (configuration register AVG bits)',
    },
    conversion_time: {
      enum: [...CONVERSION_TIMES_US],
      default: 1100,
      description: 'ADC conversion time in microseconds, for both current and bus voltage (VBUSCT and ISHCT bits)',
    },
    read_timeout_ms: {
      type: 'integer',
      minimum: 1,
      default: 500,
      description: 'How long the I2C reads of one collection may take before the sensors not yet read count as failed',
    },
    total_sensor: {
      type: 'string',
      minLength: 1,
      description: 'The sensor whose power is power_total_watts; default the first sensor',
    },
    sysfs_root: { type: 'string', minLength: 1, default: '/sys', description: 'Where sysfs is mounted' },
    vcgencmd_path: { type: 'string', minLength: 1, default: 'vcgencmd', description: 'The vcgencmd command' },
    vcgencmd_timeout_ms: {
      type: 'integer',
      minimum: 1,
      default: 2000,
      description: 'How long one vcgencmd run may take before it is killed',
    },
  },
} as const;

/** The options as `create()` sees them: validated against `optionsSchema`, defaults filled in. */
export type Ina260Options = OptionsOf<typeof optionsSchema>;

export const manifest = {
  name: 'edge-collector-raspberrypi-ina260',
  apiVersion: API_VERSION,
  deviceTypes: ['raspberrypi', 'ina260'],
  metrics: [
    {
      name: 'ina260_current_amps',
      help: 'Current through the INA260, negative when it flows from IN- to IN+',
      type: 'gauge',
      unit: 'amps',
      labels: ['sensor'],
    },
    { name: 'ina260_bus_voltage_volts', help: 'Bus voltage measured by the INA260 (VBUS pin)', type: 'gauge', unit: 'volts', labels: ['sensor'] },
    { name: 'ina260_power_watts', help: 'Power computed by the INA260 (always positive)', type: 'gauge', unit: 'watts', labels: ['sensor'] },
    {
      name: 'power_total_watts',
      help: "Whole-device power: the total_sensor INA260's power, or without INA260s the sum of a Raspberry Pi 5's PMIC rails",
      type: 'gauge',
      unit: 'watts',
    },
    { name: 'energy_joules_total', help: 'Energy integrated from power_total_watts', type: 'counter', unit: 'joules' },
    { name: 'raspberrypi_temp_soc_celsius', help: 'SoC temperature (thermal zone 0)', type: 'gauge', unit: 'celsius' },
    {
      name: 'raspberrypi_throttled',
      help: 'Throttling state from vcgencmd get_throttled: 1 when the flag is set (*_now: at present, *_occurred: since boot)',
      type: 'gauge',
      labels: ['flag'],
    },
    {
      name: 'raspberrypi_pmic_rail_watts',
      help: "Power of one of a Raspberry Pi 5's PMIC rails (vcgencmd pmic_read_adc current times voltage)",
      type: 'gauge',
      unit: 'watts',
      labels: ['rail'],
    },
  ],
  optionsSchema,
} satisfies PluginManifest;
