import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
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
 * The node_modules folders searched for plugins, in order of precedence: the config's `plugin_dirs`, then the one
 * core is installed in (`installDir`). Never the working folder nor the folders above it: a package planted in a
 * world-writable place such as `/tmp/node_modules` must not be found. Missing folders are left out; a folder reached
 * twice (through a link) counts once.
 */
export function pluginSearchDirs(pluginDirs: readonly string[], cwd: string, installDir = coreInstallDir()): string[] {
  const dirs = [...pluginDirs.map((dir) => resolve(cwd, dir)), ...(installDir ? [installDir] : [])];
  const seen = new Set<string>();
  return dirs.filter((dir) => {
    if (!existsSync(dir)) return false;
    const real = realPath(dir);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/**
 * The node_modules folder core is installed in: the one enclosing it (a local `npm install` in a folder, a global
 * install), else, for a workspace checkout such as this repository, the one that links to it.
 */
export function coreInstallDir(coreDir = resolve(__dirname, '..', '..')): string | undefined {
  const real = realPath(coreDir);
  const enclosing = enclosingNodeModules(real);
  if (enclosing) return enclosing;
  const name = (JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as { name: string }).name;
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (realPath(join(dir, 'node_modules', name)) === real) return join(dir, 'node_modules');
    if (dirname(dir) === dir) return undefined;
  }
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
