import { API_VERSION, type OptionsOf, type PluginManifest } from '@edge-metrics/core/plugin';

const channelNumber = { type: 'integer', minimum: 0, maximum: 255 } as const;
const SERIES_LABELS = ['plug', 'channel', 'phase'];
const CHANNEL_LABELS = ['plug', 'channel'];

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: {
      type: 'string',
      minLength: 1,
      description: 'The Shelly: an IP address or host name, host:port, or an http(s) URL',
    },
    name: { type: 'string', minLength: 1, description: "The value of the 'plug' label; default the collector's name, else the host" },
    generation: {
      enum: ['auto', 1, 2],
      default: 'auto',
      description: "The API: 1 (Gen1 HTTP), 2 (Gen2+ RPC, also for Gen3 and Gen4), or 'auto' to ask the device",
    },
    channel: {
      oneOf: [channelNumber, { type: 'array', items: channelNumber, minItems: 1, uniqueItems: true }],
      default: 0,
      description: 'The channel (relay or meter index) to report, or a list of them',
    },
    username: { type: 'string', minLength: 1, default: 'admin', description: 'Gen1: the login user; Gen2+ always use admin' },
    password: { type: 'string', description: 'The password, when the Shelly has authentication enabled' },
    timeout_ms: {
      type: 'integer',
      minimum: 100,
      maximum: 60000,
      default: 1500,
      description: 'How long one poll may take; capped at 90% of the collection interval',
    },
    total: {
      type: 'boolean',
      default: false,
      description: 'Also report power_total_watts and energy_joules_total: the Shelly measures the whole device',
    },
  },
} as const;

/** The options of one collector instance (one Shelly), complete after core filled in the schema's defaults. */
export type ShellyOptions = OptionsOf<typeof optionsSchema>;

export const manifest = {
  name: 'edge-collector-shelly',
  apiVersion: API_VERSION,
  deviceTypes: ['shelly'],
  metrics: [
    { name: 'shelly_up', help: 'Whether the Shelly answered the last poll (1) or not (0)', type: 'gauge', labels: ['plug'] },
    {
      name: 'shelly_power_watts',
      help: 'Active power measured by the Shelly (per phase on three-phase meters, phase label absent for the channel sum)',
      type: 'gauge',
      unit: 'watts',
      labels: SERIES_LABELS,
    },
    { name: 'shelly_voltage_volts', help: 'Mains voltage measured by the Shelly', type: 'gauge', unit: 'volts', labels: SERIES_LABELS },
    { name: 'shelly_current_amps', help: 'Current measured by the Shelly', type: 'gauge', unit: 'amps', labels: SERIES_LABELS },
    {
      name: 'shelly_energy_joules_total',
      help: "Energy from the Shelly's own energy counter, in joules; never goes backwards across a device counter reset",
      type: 'counter',
      unit: 'joules',
      labels: SERIES_LABELS,
    },
    { name: 'shelly_relay_on', help: 'Whether the Shelly output relay is on (1) or off (0)', type: 'gauge', labels: CHANNEL_LABELS },
    {
      name: 'shelly_temperature_celsius',
      help: "The Shelly's internal temperature",
      type: 'gauge',
      unit: 'celsius',
      labels: CHANNEL_LABELS,
    },
    {
      name: 'shelly_overtemperature',
      help: 'Whether the Shelly reports overheating (1) or not (0)',
      type: 'gauge',
      labels: CHANNEL_LABELS,
    },
    {
      name: 'power_total_watts',
      help: 'Whole-device power draw, from the Shelly the device is plugged into (option total: true)',
      type: 'gauge',
      unit: 'watts',
      labels: ['plug'],
    },
    {
      name: 'energy_joules_total',
      help: "Whole-device energy used, from the Shelly's energy counter (option total: true)",
      type: 'counter',
      unit: 'joules',
      labels: ['plug'],
    },
  ],
  optionsSchema,
} satisfies PluginManifest;
