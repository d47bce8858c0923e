/**
 * `@edge-metrics/core/plugin`: what a plugin (and the config server) builds against, and nothing of the host.
 * This module and everything it imports must load neither express, chokidar nor cosmiconfig
 * (`test/plugin-entry.test.ts` holds it to that); the host lives behind `@edge-metrics/core`.
 */
export {
  API_VERSION,
  CollectorDownError,
  NoDataError,
  definePlugin,
  type OptionsOf,
  type PluginDefinition,
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
export { ExporterError, describeError, type ErrorCode } from './errors';
export { createLogger, type LogLevel } from './logger';
export { finishesWithin, withTimeout } from './timeout';
export { listen } from './listen';
export { sameDigest, secretDigest } from './secret';
export { checkPlugin, manifestSchema, resolveOptions } from './manifest';
export { FamilyIndex, familyNameRegExp } from './metric-names';
export { isPluginPackageName, normalizePackageName } from './plugin-names';
export { configProblems, configSchema } from './config/schema';
export {
  describeReadFailure,
  isPermissionFailure,
  listSysfsDir,
  readSysfsFile,
  type ReadFailure,
  type ReadFailureAdvice,
} from './sysfs';
