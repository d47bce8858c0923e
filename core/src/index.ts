export {
  API_VERSION,
  type Collector,
  type CollectorContext,
  type CollectorPlugin,
  type Detection,
  type Logger,
  type MetricFamily,
  type MetricType,
  type PluginManifest,
  type Sample,
} from './plugin-api';
export { EnergyIntegrator, MonotonicCounter } from './counters';
export { ExporterError, type ErrorCode } from './errors';
export { createLogger, type LogLevel } from './logger';
export { withTimeout } from './timeout';
export { checkPlugin, manifestSchema, resolveOptions } from './manifest';
export { FamilyIndex, familyNameRegExp } from './metric-names';
export { isPluginPackageName, normalizePackageName } from './plugin-names';
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
