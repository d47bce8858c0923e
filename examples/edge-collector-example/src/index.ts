import { definePlugin } from '@edge-metrics/core/plugin';
import { NetdevCollector } from './collector';
import { manifest as netdevManifest } from './manifest';

/**
 * The plugin: core reads `manifest` and `create` from this module, and nothing else. There is no `detect()`:
 * every Linux machine has /proc/net/dev, so `device_type: auto` would pick this add-on over the device's own
 * plugin. It is configured by name, under `collectors:`.
 */
export const { manifest, create } = definePlugin({
  manifest: netdevManifest,
  create: (options, context) => new NetdevCollector(options, context.logger),
});
