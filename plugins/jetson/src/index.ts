import { definePlugin } from '@edge-metrics/core/plugin';
import { JetsonCollector } from './collector';
import { detectJetson } from './detect';
import { manifest as jetsonManifest } from './manifest';

export const { manifest, create, detect } = definePlugin({
  manifest: jetsonManifest,
  create: (options, context) => new JetsonCollector(options, context),
  detect: (options) => detectJetson(options),
});
