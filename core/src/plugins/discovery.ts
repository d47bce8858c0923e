import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isPluginPackageName } from '../plugin-names';

export interface PluginCandidate {
  packageName: string;
  /** The package's folder. */
  dir: string;
  /** The node_modules folder it was found in. */
  nodeModules: string;
}

/**
 * The node_modules folders searched for plugins, in order of precedence: the config's `plugin_dirs`, those from
 * `cwd` upwards, then the one core itself is installed in (so that a global install of core finds globally
 * installed plugins). Missing folders are left out; a folder reached twice (through a link) counts once.
 */
export function pluginSearchDirs(
  pluginDirs: readonly string[],
  cwd: string,
  coreDir = resolve(__dirname, '..', '..'),
): string[] {
  const dirs: string[] = pluginDirs.map((dir) => resolve(cwd, dir));
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') dirs.push(join(dir, 'node_modules'));
    if (dirname(dir) === dir) break;
  }
  const coreNodeModules = enclosingNodeModules(realPath(coreDir));
  if (coreNodeModules) dirs.push(coreNodeModules);
  const seen = new Set<string>();
  return dirs.filter((dir) => {
    if (!existsSync(dir)) return false;
    const real = realPath(dir);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** Every `edge-collector-*` and `@scope/edge-collector-*` package in `dirs`; the first found of a name wins. */
export function findPluginPackages(dirs: readonly string[]): PluginCandidate[] {
  const found = new Map<string, PluginCandidate>();
  const add = (packageName: string, dir: string, nodeModules: string): void => {
    if (isPluginPackageName(packageName) && !found.has(packageName)) found.set(packageName, { packageName, dir, nodeModules });
  };
  for (const nodeModules of dirs) {
    for (const entry of listDir(nodeModules)) {
      if (entry.startsWith('@')) {
        for (const scoped of listDir(join(nodeModules, entry))) add(`${entry}/${scoped}`, join(nodeModules, entry, scoped), nodeModules);
      } else {
        add(entry, join(nodeModules, entry), nodeModules);
      }
    }
  }
  return [...found.values()];
}

/** The node_modules folder a package folder sits in (`…/node_modules/@scope/pkg` or `…/node_modules/pkg`). */
function enclosingNodeModules(dir: string): string | undefined {
  for (let current = dir; dirname(current) !== current; current = dirname(current)) {
    if (basename(current) === 'node_modules') return current;
  }
  return undefined;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
