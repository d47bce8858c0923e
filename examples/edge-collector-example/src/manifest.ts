import { API_VERSION, type OptionsOf, type PluginManifest } from '@edge-metrics/core/plugin';

/** The options' JSON schema, `as const` so that their TypeScript type is derived from it. */
const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    proc_root: {
      type: 'string',
      minLength: 1,
      default: '/proc',
      description: 'Where procfs is mounted; the counters are read from <proc_root>/net/dev',
    },
    include: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Interface name patterns (* matches any run of characters) to report; empty: every interface',
    },
    exclude: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: ['lo'],
      description: 'Interface name patterns not to report, applied after include',
    },
    counter_bits: {
      enum: [32, 64],
      default: 64,
      description: "The width of the kernel's counters: 32 where a driver on a 32-bit kernel wraps them at 2^32",
    },
  },
} as const;

/** The options as `create()` sees them: validated against `optionsSchema`, defaults filled in. */
export type NetdevOptions = OptionsOf<typeof optionsSchema>;

const labels = ['interface'];

/** Plain data, the single source of truth: core validates it, the tests check every sample and the README against it. */
export const manifest = {
  name: 'edge-collector-example',
  apiVersion: API_VERSION,
  deviceTypes: ['netdev'],
  metrics: [
    { name: 'netdev_receive_bytes_total', help: 'Bytes received by the interface', type: 'counter', unit: 'bytes', labels },
    { name: 'netdev_transmit_bytes_total', help: 'Bytes transmitted by the interface', type: 'counter', unit: 'bytes', labels },
    { name: 'netdev_receive_packets_total', help: 'Packets received by the interface', type: 'counter', unit: 'packets', labels },
    { name: 'netdev_transmit_packets_total', help: 'Packets transmitted by the interface', type: 'counter', unit: 'packets', labels },
    { name: 'netdev_receive_errors_total', help: 'Received packets with errors, as the driver counts them', type: 'counter', labels },
    { name: 'netdev_transmit_errors_total', help: 'Packets that failed to transmit, as the driver counts them', type: 'counter', labels },
    { name: 'netdev_receive_dropped_total', help: 'Received packets dropped before they reached the network stack', type: 'counter', labels },
    { name: 'netdev_transmit_dropped_total', help: 'Packets dropped on the way out', type: 'counter', labels },
  ],
  optionsSchema,
} satisfies PluginManifest;
