/**
 * The layer rules, as pure functions: how the fleet layer, the groups and a device's own layer merge into the
 * device's effective config, which groups select a device, and what part of a config a device's change writes
 * into its own layer.
 */

export type Config = Record<string, unknown>;

/** Keys merged entry by entry (a higher layer overrides single entries); `options` is merged at every depth. */
const MAP_KEYS = new Set(['metrics', 'labels']);
const DEEP_KEYS = new Set(['options']);

/** Where a layer sits: `fleet`, `group:<name>` or `device`. */
export type LayerName = 'fleet' | `group:${string}` | 'device';

export interface Selector {
  device_type?: string;
  /** A glob over the device id: `*` any run of characters, `?` one character. */
  device_id?: string;
  /** Operator-set tags, every one of which must match. */
  tags?: Record<string, string>;
}

/** What a selector looks at: the device's id, its reported type and its operator-set tags. */
export interface DeviceAttributes {
  device_id: string;
  device_type: string | null;
  tags: Record<string, string>;
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON text with object keys sorted, so that two values differing only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    isPlainObject(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

const sameValue = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** How deep a top-level key merges: 0 replaced whole, 1 entry by entry, Infinity at every depth. */
function mergeDepth(key: string): number {
  if (MAP_KEYS.has(key)) return 1;
  if (DEEP_KEYS.has(key)) return Infinity;
  return 0;
}

/**
 * The effective config and, per key, the layer that set it: `layers` from lowest (fleet) to highest (device).
 * Provenance keys are top-level keys, or `metrics.<name>`, `labels.<name>`, `options.<path>` for merged entries.
 */
export function mergeLayers(layers: ReadonlyArray<{ layer: LayerName; config: Config }>): {
  config: Config;
  provenance: Record<string, LayerName>;
} {
  const config: Config = {};
  const provenance: Record<string, LayerName> = {};
  // A layer stored as something else than a map (a config written as `null` before layers) sets nothing.
  for (const { layer, config: layerConfig } of layers) {
    if (!isPlainObject(layerConfig)) continue;
    for (const [key, value] of Object.entries(layerConfig)) {
      config[key] = mergeValue(config[key], value, mergeDepth(key), key, layer, provenance);
    }
  }
  return { config, provenance };
}

function mergeValue(
  lower: unknown,
  higher: unknown,
  depth: number,
  path: string,
  layer: LayerName,
  provenance: Record<string, LayerName>,
): unknown {
  if (depth <= 0 || !isPlainObject(higher) || !isPlainObject(lower)) {
    // A map replaced whole: the entries credited to lower layers are gone.
    if (isPlainObject(lower)) for (const key of Object.keys(provenance)) if (key.startsWith(`${path}.`)) delete provenance[key];
    provenance[path] = layer;
    return depth > 0 && isPlainObject(higher) ? expand(higher, depth, path, layer, provenance) : structuredClone(higher);
  }
  delete provenance[path];
  const merged: Config = { ...lower };
  for (const [key, value] of Object.entries(higher)) {
    merged[key] = mergeValue(lower[key], value, depth - 1, `${path}.${key}`, layer, provenance);
  }
  return merged;
}

/** A map a layer sets where no lower layer had one: each entry is credited to that layer. */
function expand(value: Config, depth: number, path: string, layer: LayerName, provenance: Record<string, LayerName>): Config {
  if (Object.keys(value).length === 0) return {};
  delete provenance[path];
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const innerPath = `${path}.${key}`;
      if (depth > 1 && isPlainObject(inner)) return [key, expand(inner, depth - 1, innerPath, layer, provenance)];
      provenance[innerPath] = layer;
      return [key, structuredClone(inner)];
    }),
  );
}

/**
 * The device layer after a device (or an operator through `PUT /config/{id}`) sent `wanted` as its whole config,
 * based on `effective` (the config it had): only what `wanted` changes goes into the layer. An entry whose value
 * differs from `effective` is set; an entry `wanted` leaves out is removed from the device layer (a value from the
 * fleet or a group then shows through; the device layer cannot remove those); an entry equal to `effective` keeps
 * whatever the device layer had for it.
 */
export function deviceLayerAfter(layer: Config, effective: Config, wanted: Config): Config {
  return changeLayer(layer, effective, wanted, Infinity, '') as Config;
}

function changeLayer(layer: unknown, effective: unknown, wanted: unknown, depth: number, key: string): unknown {
  if (!isPlainObject(wanted) || !isPlainObject(effective) || depth === 0) {
    return sameValue(wanted, effective) ? layer : structuredClone(wanted);
  }
  const result: Config = isPlainObject(layer) ? { ...layer } : {};
  for (const name of new Set([...Object.keys(wanted), ...Object.keys(effective)])) {
    if (!Object.hasOwn(wanted, name)) {
      delete result[name];
      continue;
    }
    const innerDepth = depth === Infinity ? (key === '' ? mergeDepth(name) : depth) : depth - 1;
    const next = changeLayer(result[name], effective[name], wanted[name], innerDepth, name);
    if (next === undefined) delete result[name];
    else result[name] = next;
  }
  // Nothing changed under a key the layer did not set: it stays unset rather than become an empty map.
  return !isPlainObject(layer) && Object.keys(result).length === 0 ? layer : result;
}

/**
 * Moves the metrics a device reports for the first time (absent from `base`, the config the change was based on, and
 * sent as `false`) out of its layer into `discovered`, which merges below the fleet layer: a discovery is a default,
 * so a fleet or group value for that metric still reaches the device; a toggle the device makes is its own choice and
 * stays on top. A discovered metric that `wanted` leaves out, or that the device layer now sets, is dropped.
 */
export function splitDiscovered(
  layer: Config,
  before: { layer: Config; discovered: Record<string, boolean> },
  base: Config,
  wanted: Config,
): { layer: Config; discovered: Record<string, boolean> } {
  const mapOf = (value: unknown): Record<string, unknown> => (isPlainObject(value) ? value : {});
  const [wantedMetrics, baseMetrics, ownBefore] = [mapOf(wanted.metrics), mapOf(base.metrics), mapOf(before.layer.metrics)];
  const metrics = isPlainObject(layer.metrics) ? { ...layer.metrics } : undefined;
  const discovered = Object.fromEntries(
    Object.entries(before.discovered).filter(([name]) => Object.hasOwn(wantedMetrics, name) && !Object.hasOwn(metrics ?? {}, name)),
  );
  for (const [name, value] of Object.entries(metrics ?? {})) {
    if (value !== false || Object.hasOwn(baseMetrics, name) || Object.hasOwn(ownBefore, name)) continue;
    discovered[name] = false;
    delete metrics![name];
  }
  if (!metrics) return { layer, discovered };
  const { metrics: _old, ...rest } = layer;
  return { layer: Object.keys(metrics).length > 0 || isPlainObject(before.layer.metrics) ? { ...rest, metrics } : rest, discovered };
}

/** `*` and `?` glob over a device id, as a regular expression matching the whole id. */
export function globRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

export function selects(selector: Selector, device: DeviceAttributes): boolean {
  if (selector.device_type !== undefined && selector.device_type !== device.device_type) return false;
  if (selector.device_id !== undefined && !globRegExp(selector.device_id).test(device.device_id)) return false;
  return Object.entries(selector.tags ?? {}).every(([tag, value]) => device.tags[tag] === value);
}

/**
 * Groups in the order they are merged: lower priority first, so that a higher priority wins; equal priorities by
 * name, so that of two groups with the same priority the one whose name sorts last wins.
 */
export function mergeOrder<T extends { name: string; priority: number }>(groups: readonly T[]): T[] {
  return [...groups].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Per key of two effective configs (in provenance notation), what changed: `[key, before, after]`, absent as undefined. */
export function configDiff(before: Config, after: Config): Array<{ key: string; before?: unknown; after?: unknown }> {
  const changes: Array<{ key: string; before?: unknown; after?: unknown }> = [];
  const walk = (a: unknown, b: unknown, depth: number, path: string): void => {
    // A map on one side only (labels added where there were none) is listed entry by entry too.
    const left = a === undefined && isPlainObject(b) ? {} : a;
    const right = b === undefined && isPlainObject(a) ? {} : b;
    if (depth > 0 && isPlainObject(left) && isPlainObject(right)) {
      for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) walk(left[key], right[key], depth - 1, `${path}.${key}`);
      return;
    }
    if (sameValue(a, b)) return;
    changes.push({ key: path, ...(a === undefined ? {} : { before: a }), ...(b === undefined ? {} : { after: b }) });
  };
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    walk(before[key], after[key], mergeDepth(key), key);
  }
  return changes;
}

export const sameConfig = sameValue;
