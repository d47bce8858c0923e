import type { ConfigKey, ExporterConfig } from './schema';

/**
 * How a changed key takes effect once the new config is in force (a file reload, a version from the config server):
 * `live` from the next cycle or request, `collectors` by rebuilding the collectors (running ones keep going when no
 * such key changed), `restart` at the next start only, which a warning says.
 */
export type KeyEffect = 'live' | 'collectors' | 'restart';

export interface KeyRule {
  applies: KeyEffect;
  /**
   * Stays on the device: never sent to the config server, never taken from it (the device's identity, secrets, and
   * its own hardening, which no version from the server may change or remove).
   */
  deviceOnly?: true;
}

/**
 * Every top-level config key and how it applies: the one table that the apply, the collector rebuild and the sync
 * read, checked against the schema by the compiler (a row per schema key) and against core/README.md by a test.
 */
export const CONFIG_KEYS: Readonly<Record<ConfigKey, KeyRule>> = {
  device_type: { applies: 'collectors' },
  device_id: { applies: 'restart', deviceOnly: true },
  interval: { applies: 'collectors' },
  port: { applies: 'restart' },
  reload_port: { applies: 'restart' },
  listen_address: { applies: 'restart', deviceOnly: true },
  labels: { applies: 'live' },
  metrics: { applies: 'live' },
  enabled_metrics: { applies: 'live' },
  new_metrics_default: { applies: 'live' },
  options: { applies: 'collectors' },
  collectors: { applies: 'collectors' },
  plugin_dirs: { applies: 'collectors' },
  management_token: { applies: 'live', deviceOnly: true },
  log_level: { applies: 'restart' },
  config_server: { applies: 'restart', deviceOnly: true },
  remote_write: { applies: 'live', deviceOnly: true },
};

/** The keys a parsed config holds: all but `enabled_metrics`, which `parseConfig` turns into the `metrics` map. */
const PARSED_KEYS = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((key): key is ConfigKey & keyof ExporterConfig => key !== 'enabled_metrics');

function keysWhere(test: (rule: KeyRule) => boolean): ReadonlyArray<ConfigKey & keyof ExporterConfig> {
  return PARSED_KEYS.filter((key) => test(CONFIG_KEYS[key]));
}

/** Keys whose change rebuilds the collectors. */
export const COLLECTOR_KEYS = keysWhere((rule) => rule.applies === 'collectors');

/** Keys whose change takes effect at the next restart. */
export const RESTART_KEYS = keysWhere((rule) => rule.applies === 'restart');

/** Keys that stay on the device. */
export const DEVICE_ONLY_KEYS = keysWhere((rule) => rule.deviceOnly === true);

/** What the collectors are built from: when none of it changes, a reload keeps them running. */
export function collectorInputs(config: Readonly<ExporterConfig>): string {
  return JSON.stringify(COLLECTOR_KEYS.map((key) => config[key]));
}

/** The restart keys whose value differs between two configs. */
export function restartKeysChanged(current: Readonly<ExporterConfig>, next: Readonly<ExporterConfig>): Array<keyof ExporterConfig> {
  return RESTART_KEYS.filter((key) => JSON.stringify(current[key]) !== JSON.stringify(next[key]));
}
