/**
 * The plugin contract, apiVersion 1. A plugin is an npm package named `edge-collector-<name>` or
 * `@<scope>/edge-collector-<name>` whose main export is a `CollectorPlugin`.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const API_VERSION = 1;

export type MetricType = 'gauge' | 'counter';

/** One metric family a plugin may emit. */
export interface MetricFamily {
  /**
   * The metric name, or a name pattern whose `{placeholder}` parts stand for one or more of
   * `[a-zA-Z0-9_]`, e.g. `jetson_cpu_core{N}_usage_percent`.
   */
  name: string;
  help: string;
  type: MetricType;
  /** The unit, spelled as in the name's suffix: `watts`, `celsius`, `percent`, `joules`, `bytes`, ... */
  unit?: string;
  /** Label names the samples of this family carry (besides `device_type`, `hostname` and config labels). */
  labels?: string[];
}

/** Plain data describing a plugin; validated by core against `manifest.schema.json`. */
export interface PluginManifest {
  /** The package name, e.g. `edge-collector-jetson`. */
  name: string;
  apiVersion: number;
  /** The `device_type` values this plugin serves, e.g. `jetson_orin`. */
  deviceTypes: string[];
  metrics: MetricFamily[];
  /** JSON schema of the plugin's `options`; `default` keywords fill in missing values. */
  optionsSchema?: Record<string, unknown>;
}

export interface Sample {
  name: string;
  value: number;
  labels?: Record<string, string>;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Logs a warning the first time `key` is seen on this logger, and never again for that key. */
  warnOnce(key: string, message: string): void;
}

export interface CollectorContext {
  /** The device type this collector was created for (the config's `device_type` or a `collectors[].type`). */
  deviceType: string;
  /** The collector's instance name: unique among the collectors of one exporter. */
  collectorName: string;
  /**
   * The `name` the config gave this collector (`collectors[].name`); undefined when it gave none and core made
   * `collectorName` up from the type. A plugin may use it to label what it reads (Shelly's `plug` label).
   */
  configuredName?: string;
  /** The collection interval in seconds. */
  interval: number;
  /** A logger whose lines name this collector. */
  logger: Logger;
}

/**
 * Thrown by `collect()` when the source is down but some samples still hold, such as the plugin's own `*_up 0`:
 * core counts a failed collection (`edge_collector_up 0`, logged like any failure) and still serves `samples`.
 */
export class CollectorDownError extends Error {
  constructor(
    message: string,
    readonly samples: Sample[],
  ) {
    super(message);
    this.name = 'CollectorDownError';
  }
}

export interface Collector {
  /** Starts long-lived sources (a child process, a connection). Called once before the first `collect()`. */
  start?(): void | Promise<void>;
  /**
   * Returns the current samples. Returns `[]` while no sample is available yet (e.g. a child process has not
   * printed its first line); throws an Error whose message says what is wrong and how to fix it when the
   * source is down, or a `NoDataError` when the hardware is not there at all. Must never block on hardware for
   * longer than the interval.
   */
  collect(): Sample[] | Promise<Sample[]>;
  /** Releases everything `start()` took. Called on reload and shutdown; must be safe to call twice. */
  stop?(): void | Promise<void>;
}

export interface Detection {
  found: boolean;
  /** The precise device type found, e.g. `jetson_orin`; defaults to the manifest's first device type. */
  deviceType?: string;
  /** Why the hardware was (not) found, shown by `edge-metrics-exporter plugins` and in the logs. */
  reason?: string;
}

export interface CollectorPlugin {
  manifest: PluginManifest;
  /** `options` have been validated against `manifest.optionsSchema`, with its defaults filled in. */
  create(this: void, options: Record<string, unknown>, context: CollectorContext): Collector;
  /** Looks for the plugin's hardware, for `device_type: auto`. Must not throw and must return within a second. */
  detect?(this: void, options: Record<string, unknown>, context: CollectorContext): Detection | Promise<Detection>;
}

/**
 * Thrown by `collect()` when the hardware is absent (no sensor, no RAPL zone), as node_exporter's `ErrNoData`:
 * the collector is down, core logs the message once at info and does not count it as an error.
 */
export class NoDataError extends Error {
  override readonly name = 'NoDataError';
}

/**
 * True when `error` is an Error named `name`: also one made by another copy of core (a plugin's own install of its
 * peer), which `instanceof` would miss.
 */
function isNamed(error: unknown, name: string): error is Error {
  return typeof error === 'object' && error !== null && (error as Error).name === name;
}

/** True for a `NoDataError`, wherever it was made. */
export function isNoData(error: unknown): boolean {
  return isNamed(error, 'NoDataError');
}

/** True for a `CollectorDownError` carrying samples, wherever it was made. */
export function isCollectorDown(error: unknown): error is CollectorDownError {
  return isNamed(error, 'CollectorDownError') && Array.isArray((error as CollectorDownError).samples);
}

/**
 * The options `create()` receives for an options schema written `as const`: the schema's type, with the
 * properties that have a `default` present (core fills them in). Without a schema, no options.
 */
export type OptionsOf<Schema> = Schema extends JSONSchema ? FromSchema<Schema> : Record<string, never>;

/**
 * A plugin as its author writes it: `create()` and `detect()` receive the options typed from the manifest's schema.
 * They take no `this` (`this: void`), so a plugin's `index.ts` exports them destructured.
 */
export interface PluginDefinition<Schema> {
  manifest: PluginManifest & { optionsSchema?: Schema };
  create(this: void, options: OptionsOf<Schema>, context: CollectorContext): Collector;
  detect?(this: void, options: OptionsOf<Schema>, context: CollectorContext): Detection | Promise<Detection>;
}

/**
 * Types a plugin's options from its manifest's `optionsSchema` (declare the schema `as const`), so that no plugin
 * casts them. Core validates the options against that schema and fills in its defaults before each call.
 */
export function definePlugin<const Schema = undefined>(plugin: PluginDefinition<Schema>): CollectorPlugin & PluginDefinition<Schema> {
  return plugin as CollectorPlugin & PluginDefinition<Schema>;
}
