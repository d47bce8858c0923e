import { definePlugin } from '@edge-metrics/core/plugin';
import { __TYPE__Collector } from './collector';
import { manifest as pluginManifest } from './manifest';

/** The plugin: core reads `manifest` and `create` (and `detect`, where there is one) from this module, and nothing else. */
export const { manifest, create } = definePlugin({
  manifest: pluginManifest,
  create: (options, context) => new __TYPE__Collector(options, context),
});
