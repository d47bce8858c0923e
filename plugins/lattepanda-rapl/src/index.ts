import { definePlugin } from '@edge-metrics/core/plugin';
import { RaplCollector } from './collector';
import { detectRapl } from './detect';
import { manifest as raplManifest } from './manifest';

export const { manifest, create, detect } = definePlugin({
  manifest: raplManifest,
  create: (options, context) => new RaplCollector(options, context),
  detect: (options) => detectRapl(options),
});
