import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Detection } from '@edge-metrics/core/plugin';
import type { JetsonOptions } from './manifest';

/** The device type a device-tree model names, e.g. `NVIDIA Jetson AGX Orin Developer Kit` → `jetson_orin`. */
export function deviceTypeFromModel(model: string): string | undefined {
  // Orin before Nano: `NVIDIA Orin Nano Developer Kit` is an Orin.
  const families: Array<[RegExp, string]> = [
    [/\bThor\b/i, 'jetson_thor'],
    [/\bOrin\b/i, 'jetson_orin'],
    [/\bXavier\b/i, 'jetson_xavier'],
    [/\bTX2\b/i, 'jetson_tx2'],
    [/\bNano\b/i, 'jetson_nano'],
  ];
  return families.find(([pattern]) => pattern.test(model))?.[1];
}

/** The device type the SoC in a device-tree `compatible` list implies (tegra210 is both Nano and TX1, so none). */
export function deviceTypeFromCompatible(compatible: string): string | undefined {
  const socs: Record<string, string> = {
    tegra264: 'jetson_thor',
    tegra234: 'jetson_orin',
    tegra194: 'jetson_xavier',
    tegra186: 'jetson_tx2',
  };
  const soc = compatible
    .split('\0')
    .map((entry) => /^nvidia,(tegra\d+)$/.exec(entry)?.[1])
    .find((name) => name !== undefined);
  return soc === undefined ? undefined : socs[soc];
}

/**
 * Looks for a Jetson: a Tegra device-tree model or `compatible` entry, `/etc/nv_tegra_release`, or tegrastats
 * (on PATH or at `tegrastats_path`). Every path goes through the options' roots. Never throws.
 */
export async function detectJetson(options: JetsonOptions, path = process.env.PATH ?? ''): Promise<Detection> {
  const model =
    (await readText(join(options.proc_root, 'device-tree', 'model'))) ??
    (await readText(join(options.sys_root, 'firmware', 'devicetree', 'base', 'model')));
  const compatible = await readText(join(options.proc_root, 'device-tree', 'compatible'));
  const release = await readText(join(options.etc_root, 'nv_tegra_release'));
  const tegrastats = await findExecutable(options.tegrastats_path, path);

  const tegraModel = model !== undefined && /jetson|tegra|nvidia/i.test(model) ? model : undefined;
  const tegraCompatible = compatible !== undefined && /nvidia,tegra/.test(compatible) ? compatible : undefined;
  const evidence = [
    tegraModel && `device-tree model '${tegraModel}'`,
    tegraCompatible && `device-tree compatible '${tegraCompatible.split('\0').filter(Boolean).join(', ')}'`,
    release !== undefined && `${join(options.etc_root, 'nv_tegra_release')} (${release.split('\n')[0]})`,
    tegrastats && `tegrastats at ${tegrastats}`,
  ].filter((item): item is string => Boolean(item));

  if (evidence.length === 0) {
    return {
      found: false,
      reason: `no Jetson found: no Tegra device-tree model under ${options.proc_root} or ${options.sys_root}, no ${join(options.etc_root, 'nv_tegra_release')}, no tegrastats '${options.tegrastats_path}'`,
    };
  }
  const deviceType =
    (tegraModel && deviceTypeFromModel(tegraModel)) ?? (tegraCompatible && deviceTypeFromCompatible(tegraCompatible)) ?? 'jetson';
  return { found: true, deviceType, reason: `found ${evidence.join('; ')}` };
}

/** A file's text without device-tree padding (trailing NUL bytes) and whitespace; undefined when unreadable. */
async function readText(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).replace(/\0+$/, '').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/** The path of an executable `command` (looked up on `path` when it has no `/`), undefined when there is none. */
async function findExecutable(command: string, path: string): Promise<string | undefined> {
  const candidates = command.includes('/') ? [command] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}
