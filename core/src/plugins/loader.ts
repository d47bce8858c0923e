import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError } from '../errors';
import { checkPlugin } from '../manifest';
import type { CollectorPlugin } from '../plugin-api';
import type { PluginCandidate } from './discovery';

/** A discovered plugin package: usable (`plugin` set) or rejected (`problems` say why). */
export interface PluginRecord {
  packageName: string;
  version: string;
  /** Where it was loaded from; `(built in)` for core's own. */
  location: string;
  plugin?: CollectorPlugin;
  problems: string[];
}

/**
 * Loads a plugin package and checks its export. CommonJS packages load with `require`; ES modules (where
 * `require` cannot take them) with `import()`. Never throws: a package that fails is returned with its problems.
 */
export async function loadPlugin(candidate: PluginCandidate): Promise<PluginRecord> {
  const record: PluginRecord = { packageName: candidate.packageName, version: '?', location: candidate.dir, problems: [] };
  let packageJson: PackageJson;
  try {
    packageJson = JSON.parse(readFileSync(join(candidate.dir, 'package.json'), 'utf8')) as PackageJson;
    record.version = String(packageJson.version ?? '?');
  } catch (error) {
    record.problems.push(`cannot read its package.json: ${describeError(error)}`);
    return record;
  }
  let exported: unknown;
  try {
    exported = await importPackage(candidate, packageJson);
  } catch (error) {
    record.problems.push(`installed but fails to load: ${describeError(error).split('\n')[0]}`);
    return record;
  }
  const plugin = pluginExport(exported);
  record.problems.push(...checkPlugin(plugin, candidate.packageName));
  if (record.problems.length === 0) record.plugin = plugin as CollectorPlugin;
  return record;
}

interface PackageJson {
  version?: string;
  main?: string;
  exports?: unknown;
}

async function importPackage(candidate: PluginCandidate, packageJson: PackageJson): Promise<unknown> {
  const requireFrom = createRequire(join(candidate.nodeModules, 'noop.js'));
  let entry: string;
  try {
    entry = requireFrom.resolve(candidate.packageName);
  } catch {
    entry = join(candidate.dir, importEntry(packageJson));
  }
  try {
    return requireFrom(entry);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    return import(pathToFileURL(entry).href);
  }
}

/** The entry an `import` of the package reaches, for ES module packages that `require.resolve` cannot resolve. */
function importEntry(packageJson: PackageJson): string {
  let target = packageJson.exports;
  if (target && typeof target === 'object' && '.' in target) target = (target as Record<string, unknown>)['.'];
  while (target && typeof target === 'object' && !Array.isArray(target)) {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.node ?? conditions.default;
  }
  return typeof target === 'string' ? target : (packageJson.main ?? 'index.js');
}

/** A plugin is the module's named exports, or its default export (ESM `export default`, or `module.exports = {default}`). */
function pluginExport(exported: unknown): unknown {
  const module = exported as { manifest?: unknown; default?: unknown } | undefined;
  if (module && module.manifest === undefined && module.default !== undefined) return module.default;
  return module;
}
