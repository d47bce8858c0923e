import { definePlugin } from '@edge-metrics/core/plugin';
import { SysfsCollector } from './collector';
import { detectSensors } from './detect';
import { manifest as sysfsManifest } from './manifest';

export const { manifest, create, detect } = definePlugin({
  manifest: sysfsManifest,
  create: (options, context) => new SysfsCollector(options, context),
  detect: (options) => detectSensors(options),
});
