import { configProblems } from '@edge-metrics/core/plugin';
import { isPlainObject, type Config, type Selector } from './layers';
import { rolloutPlanProblems } from './rollout-plan';
import { DEVICE_TYPE_PATTERN } from './schema-patterns';
import type { LayerBody, RolloutPlan } from './store-api';

/** Group names and tag names: what fits in a URL path segment and a label-like key. */
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const TAG_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const MAX_TAG_VALUE = 256;
const MAX_TAGS = 64;
/** The characters of a device id plus the glob's `*` and `?`. */
const DEVICE_GLOB_PATTERN = /^[A-Za-z0-9._*?-]{1,64}$/;
const MAX_PRIORITY = 1_000_000;

export interface ParsedLayerChange {
  body: LayerBody;
  rollout?: RolloutPlan;
}

/** A fleet layer `PUT` body: the layer's config, with an optional `rollout` beside its keys. */
export function fleetBodyProblems(raw: unknown): { problems: string[]; parsed?: ParsedLayerChange } {
  if (!isPlainObject(raw)) return { problems: ['the fleet layer must be an object of config keys'] };
  const { rollout, ...config } = raw;
  const problems = [...layerConfigProblems(config, ''), ...(rollout === undefined ? [] : rolloutPlanProblems(rollout))];
  return problems.length > 0 ? { problems } : { problems, parsed: { body: { config }, ...(rollout ? { rollout: rollout as RolloutPlan } : {}) } };
}

/** A group `PUT` body: `{"selector": {...}, "priority": N, "config": {...}, "rollout"?: {...}}`. */
export function groupBodyProblems(raw: unknown): { problems: string[]; parsed?: ParsedLayerChange } {
  if (!isPlainObject(raw)) return { problems: ['a group must be an object {"selector": {...}, "priority": N, "config": {...}}'] };
  const problems = Object.keys(raw)
    .filter((key) => !['selector', 'priority', 'config', 'rollout'].includes(key))
    .map((key) => `unknown key '${key}' (a group has selector, priority, config and optionally rollout)`);
  const { selector = {}, priority = 0, config = {}, rollout } = raw;
  problems.push(...selectorProblems(selector));
  if (!Number.isInteger(priority) || Math.abs(priority as number) > MAX_PRIORITY) {
    problems.push(`priority: must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
  }
  if (!isPlainObject(config)) problems.push('config: must be an object of config keys');
  else problems.push(...layerConfigProblems(config, 'config'));
  if (rollout !== undefined) problems.push(...rolloutPlanProblems(rollout));
  if (problems.length > 0) return { problems };
  return {
    problems,
    parsed: {
      body: { selector: selector as Selector, priority: priority as number, config: config as Config },
      ...(rollout ? { rollout: rollout as RolloutPlan } : {}),
    },
  };
}

/** A device layer written directly (`PUT /config/{id}/layer`): only the keys this device overrides. */
export function deviceLayerProblems(raw: unknown, deviceId: string): string[] {
  if (!isPlainObject(raw)) return ['the device layer must be an object of config keys'];
  const problems = configProblems(raw);
  if (typeof raw.device_id === 'string' && raw.device_id !== deviceId) {
    problems.push(`device_id: ${JSON.stringify(raw.device_id)} is not the device in the URL (${deviceId})`);
  }
  return problems;
}

/** The tags of `PUT /devices/{id}/tags`: `{"tags": {"name": "value"}}`. */
export function tagsProblems(raw: unknown): { problems: string[]; tags?: Record<string, string> } {
  if (!isPlainObject(raw)) return { problems: ['the body must be {"tags": {"name": "value", ...}}'] };
  const problems = Object.keys(raw).filter((key) => key !== 'tags').map((key) => `unknown key '${key}'`);
  problems.push(...tagMapProblems(raw.tags, 'tags'));
  return problems.length > 0 ? { problems } : { problems, tags: raw.tags as Record<string, string> };
}

function tagMapProblems(tags: unknown, field: string): string[] {
  if (!isPlainObject(tags)) return [`${field}: must be an object of tag names and string values`];
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) return [`${field}: ${entries.length} tags, more than the limit of ${MAX_TAGS}`];
  return entries.flatMap(([name, value]) => [
    ...(TAG_NAME_PATTERN.test(name) ? [] : [`${field}.${name}: a tag name must match ${TAG_NAME_PATTERN.source}`]),
    ...(typeof value === 'string' && value.length <= MAX_TAG_VALUE ? [] : [`${field}.${name}: must be a string of at most ${MAX_TAG_VALUE} characters`]),
  ]);
}

function selectorProblems(raw: unknown): string[] {
  if (!isPlainObject(raw)) return ['selector: must be an object with device_type, device_id and/or tags'];
  const problems = Object.keys(raw)
    .filter((key) => !['device_type', 'device_id', 'tags'].includes(key))
    .map((key) => `selector: unknown key '${key}' (a group selects by device_type, device_id and tags)`);
  const { device_type: deviceType, device_id: deviceId, tags } = raw;
  if (deviceType !== undefined && !(typeof deviceType === 'string' && DEVICE_TYPE_PATTERN.test(deviceType))) {
    problems.push(`selector.device_type: must match ${DEVICE_TYPE_PATTERN.source}`);
  }
  if (deviceId !== undefined && !(typeof deviceId === 'string' && DEVICE_GLOB_PATTERN.test(deviceId))) {
    problems.push("selector.device_id: must be a glob of 1 to 64 letters, digits, '.', '_', '-', '*' or '?'");
  }
  if (tags !== undefined) problems.push(...tagMapProblems(tags, 'selector.tags'));
  return problems;
}

/** A fleet or group layer's config: a partial config, checked with the exporter's schema, without a device's id. */
function layerConfigProblems(config: Config, prefix: string): string[] {
  const named = (problem: string): string => (prefix === '' ? problem : problem.startsWith('unknown key') ? `${prefix}: ${problem}` : `${prefix}.${problem}`);
  const problems = configProblems(config).map(named);
  if (config.device_id !== undefined) problems.push(named("device_id: belongs to a device's own layer, not to a layer shared by devices"));
  return problems;
}
