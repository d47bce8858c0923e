export * from './plugin';
export {
  configProblems,
  configSchema,
  parseConfig,
  type CollectorConfig,
  type ConfigServerSettings,
  type ExporterConfig,
} from './config/schema';
export { MAX_CONFIG_BYTES, MAX_CONFIG_ENTRIES, MAX_METRICS } from './config/limits';
export { parseYamlDocument, type YamlProblem } from './config/yaml';
export { hasTotalSuffixOnNonCounter } from './metrics/promtool-names';
export { Exporter, type ExporterSettings, type ReloadResult } from './exporter';
export { serve, type Listening } from './http/server';
export { hostPlugin } from './host/plugin';
