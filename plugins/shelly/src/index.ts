import { definePlugin } from '@edge-metrics/core/plugin';
import { ShellyCollector } from './collector';
import { manifest as shellyManifest } from './manifest';

/** One collector per Shelly: `collectors: [{type: shelly, name: desk-plug, options: {host: 192.168.1.20}}]`. */
export const { manifest, create } = definePlugin({
  manifest: shellyManifest,
  create: (options, context) => new ShellyCollector(options, context),
});
