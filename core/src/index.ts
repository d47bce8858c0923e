export * from './plugin';
export {
  configProblems,
  configSchema,
  parseConfig,
  type CollectorConfig,
  type ConfigServerSettings,
  type ExporterConfig,
} from './config/schema';
export { Exporter, type ExporterSettings, type ReloadResult } from './exporter';
export { serve, type Listening } from './http/server';
export { hostPlugin } from './host/plugin';
