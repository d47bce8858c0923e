import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, type CollectorPlugin, type PluginManifest } from './plugin-api';
import { ExporterError, describeError } from './errors';
import { describeAjvErrors, validatorFor } from './validation';

/** The manifest JSON schema that plugins build against (also published as `@edge-metrics/core/schemas/manifest.schema.json`). */
export const manifestSchema = JSON.parse(
  readFileSync(join(__dirname, '..', 'schemas', 'manifest.schema.json'), 'utf8'),
) as Record<string, unknown>;

/**
 * Checks a plugin module's export: the manifest against the schema, the apiVersion, that the manifest names
 * the package it ships in, that family names are unique, that the options schema compiles, and that
 * `create` is a function. Returns the problems as sentences; an empty list means the plugin is usable.
 */
export function checkPlugin(candidate: unknown, packageName?: string): string[] {
  if (typeof candidate !== 'object' || candidate === null) return ['the module exports no plugin object'];
  const plugin = candidate as Partial<CollectorPlugin>;
  if (plugin.manifest === undefined) return ["the module exports no 'manifest'"];
  const validate = validatorFor(manifestSchema);
  if (!validate(plugin.manifest)) return describeAjvErrors(validate.errors, 'manifest');
  const manifest = plugin.manifest as PluginManifest;
  const problems: string[] = [];
  if (manifest.apiVersion !== API_VERSION) {
    problems.push(`manifest.apiVersion ${manifest.apiVersion} is not supported by this core (it supports ${API_VERSION}); install a core release that supports it or a plugin release for apiVersion ${API_VERSION}`);
  }
  if (packageName !== undefined && manifest.name !== packageName) {
    problems.push(`manifest.name '${manifest.name}' is not the package name '${packageName}'`);
  }
  const seen = new Set<string>();
  for (const family of manifest.metrics) {
    if (seen.has(family.name)) problems.push(`manifest.metrics: '${family.name}' is declared twice`);
    if (family.type === 'counter' && !family.name.endsWith('_total')) problems.push(`manifest.metrics: counter '${family.name}' must end in _total`);
    seen.add(family.name);
  }
  if (manifest.optionsSchema !== undefined) {
    try {
      validatorFor(manifest.optionsSchema);
    } catch (error) {
      problems.push(`manifest.optionsSchema does not compile: ${describeError(error)}`);
    }
  }
  if (typeof plugin.create !== 'function') problems.push("the module exports no 'create' function");
  if (plugin.detect !== undefined && typeof plugin.detect !== 'function') problems.push("'detect' is not a function");
  return problems;
}

/**
 * Validates a collector's options against its plugin's options schema and returns a copy with the schema's
 * defaults filled in. `where` names the options in errors, e.g. `config.yaml: collectors[1].options`.
 */
export function resolveOptions(manifest: PluginManifest, options: unknown, where: string): Record<string, unknown> {
  const copy = structuredClone(options ?? {}) as Record<string, unknown>;
  if (manifest.optionsSchema === undefined) return copy;
  const validate = validatorFor(manifest.optionsSchema);
  if (!validate(copy)) {
    const problems = describeAjvErrors(validate.errors, where);
    throw new ExporterError('EME_OPTIONS_INVALID', `invalid options for ${manifest.name}: ${problems.join('; ')}`);
  }
  return copy;
}
