import { DEVICE_ONLY_KEYS } from '../config/keys';
import type { ExporterConfig } from '../config/schema';
import type { RawConfig } from './client';
import type { PendingChange } from './state';

/**
 * Replays changes made on this device on top of the server's current config, key by key in the `metrics` map: a
 * device change wins, unless the server changed the same key (relative to `base`, the map this device last
 * received) after the device made its change. Changes to different keys on both sides all survive. A discovered
 * metric is a default: whatever value the server holds for it wins, however late the discovery.
 */
export function mergePending(
  server: RawConfig,
  serverUpdatedAt: number,
  base: Readonly<Record<string, boolean>> | undefined,
  pending: Readonly<Record<string, PendingChange>>,
): RawConfig {
  const serverMetrics = isMetricsMap(server.metrics) ? server.metrics : {};
  const metrics: Record<string, boolean> = { ...serverMetrics };
  for (const [name, change] of Object.entries(pending)) {
    const onServer = Object.hasOwn(serverMetrics, name);
    if (onServer && change.discovered) continue;
    const changedOnServer = onServer && serverMetrics[name] !== base?.[name];
    if (changedOnServer && serverUpdatedAt > change.at) continue;
    metrics[name] = change.value;
  }
  return { ...server, metrics };
}

/** The part of a local config the server gets: everything but the device-only keys (its id, secrets, server settings). */
export function shareable(config: RawConfig): RawConfig {
  const copy = { ...config };
  for (const key of DEVICE_ONLY_KEYS) delete copy[key];
  return copy;
}

export function isMetricsMap(value: unknown): value is Record<string, boolean> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A config from the server, with this device's own device-only keys put back. */
export function withLocalOnly(server: RawConfig, local: RawConfig): RawConfig {
  const merged = shareable(server);
  for (const key of DEVICE_ONLY_KEYS) {
    if (Object.hasOwn(local, key)) merged[key] = local[key];
  }
  return merged;
}

/** The local-only keys of a validated local config (none without one): what every server version is merged with. */
export function localOnlyOf(local: ExporterConfig | undefined): RawConfig {
  return Object.fromEntries(DEVICE_ONLY_KEYS.flatMap((key) => (local?.[key] === undefined ? [] : [[key, local[key]]])));
}
