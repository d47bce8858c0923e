import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Loader } from 'cosmiconfig';
import { ExporterError, describeError } from '../errors';
import { checkConfigSize, ConfigFile } from './file';
import { parseConfig, type ExporterConfig } from './schema';
import { parseYamlDocument } from './yaml';

export const MODULE_NAME = 'edge-metrics';

export type ConfigSource = 'server' | 'local' | 'defaults';

export interface LoadedConfig {
  config: ExporterConfig;
  source: ConfigSource;
  /** The file's text; undefined when there is no file. */
  text?: string;
}

/**
 * Which file is this exporter's config: `--config`, else `LOCAL_CONFIG_PATH` (empty means unset, as a systemd
 * `Environment=` line leaves it), else `./config.yaml`; when no file was named and `./config.yaml` does not exist,
 * cosmiconfig's search for an `edge-metrics` config (`.edge-metricsrc.yaml`, `edge-metrics.config.yaml`,
 * `~/.config/edge-metrics/config.yaml`, …). Returns the chosen path (where changes are written, created on the
 * first change), whether it exists, and what named it, if the user did.
 */
export async function locateConfig(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ path: string; exists: boolean; namedBy?: '--config' | 'LOCAL_CONFIG_PATH' }> {
  const namedBy = explicitPath !== undefined ? '--config' : env.LOCAL_CONFIG_PATH ? 'LOCAL_CONFIG_PATH' : undefined;
  const path = resolve(cwd, explicitPath ?? (env.LOCAL_CONFIG_PATH || 'config.yaml'));
  if (existsSync(path)) return { path, exists: true, ...(namedBy ? { namedBy } : {}) };
  // A file the user named and that is missing is theirs to fix (the caller decides), not a reason to look elsewhere.
  if (namedBy) return { path, exists: false, namedBy };
  const found = await explorer().search(cwd);
  return found ? { path: found.filepath, exists: true } : { path, exists: false };
}

/**
 * Reads and validates the config at `path`. A missing file gives the built-in defaults, which enable every
 * discovered metric so that a first run shows everything.
 */
export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  const text = await new ConfigFile(path).readText();
  if (text === undefined) return { config: parseConfig({}, 'built-in defaults', true), source: 'defaults' };
  return { config: parseConfig(parseYaml(text, path), path), source: 'local', text };
}

/** Parses YAML (a superset of JSON) with the same parser that writes the file, so both agree on its content. */
export function parseYaml(text: string, where: string): unknown {
  const { document, problem } = parseYamlDocument(text);
  if (problem) {
    throw new ExporterError('EME_CONFIG_PARSE', `${where}${problem.line ? `:${problem.line}:${problem.col}` : ''}: not valid YAML: ${problem.message}`);
  }
  try {
    return document.toJS() ?? {};
  } catch (error) {
    // An alias to no anchor, or an alias bomb past yaml's alias limit.
    throw new ExporterError('EME_CONFIG_PARSE', `${where}: not valid YAML: ${describeError(error)}`);
  }
}

const yamlLoader: Loader = (filepath, content) => {
  checkConfigSize(filepath, Buffer.byteLength(content));
  return parseYaml(content, filepath);
};

/** cosmiconfig, loaded only when a search is needed: an exporter with its config.yaml never loads it. */
function explorer() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const { cosmiconfig } = require('cosmiconfig') as typeof import('cosmiconfig');
  return cosmiconfig(MODULE_NAME, {
    searchStrategy: 'global',
    // YAML and JSON only: a config the exporter writes back to must be data, not code.
    searchPlaces: [
      `.${MODULE_NAME}rc`,
      `.${MODULE_NAME}rc.yaml`,
      `.${MODULE_NAME}rc.yml`,
      `.${MODULE_NAME}rc.json`,
      `${MODULE_NAME}.config.yaml`,
      `${MODULE_NAME}.config.yml`,
      `${MODULE_NAME}.config.json`,
      `.config/${MODULE_NAME}rc.yaml`,
      `.config/${MODULE_NAME}rc.yml`,
    ],
    loaders: { '.yaml': yamlLoader, '.yml': yamlLoader, '.json': yamlLoader, noExt: yamlLoader },
  });
}
