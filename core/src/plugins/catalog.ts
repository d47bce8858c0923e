import { ExporterError } from '../errors';
import { hostPlugin } from '../host/plugin';
import { FamilyIndex } from '../metric-names';
import type { CollectorPlugin } from '../plugin-api';
import { firstPartyPackageFor } from '../plugin-names';
import { findPluginPackages, pluginSearchDirs } from './discovery';
import { loadPlugin, type PluginRecord } from './loader';

const CORE_VERSION: string = require('../../package.json').version;

/** A plugin that passed every check, with its families indexed. */
export interface UsablePlugin {
  record: PluginRecord;
  plugin: CollectorPlugin;
  families: FamilyIndex;
}

/** The plugins found at start: the built-in host collector first, then every discovered package. */
export class PluginCatalog {
  readonly usable: UsablePlugin[];

  private constructor(readonly records: PluginRecord[]) {
    this.usable = records.flatMap((record) =>
      record.plugin ? [{ record, plugin: record.plugin, families: new FamilyIndex(record.plugin.manifest.metrics) }] : [],
    );
  }

  static async discover(pluginDirs: readonly string[], cwd: string): Promise<PluginCatalog> {
    const candidates = findPluginPackages(pluginSearchDirs(pluginDirs, cwd));
    const builtIn: PluginRecord = {
      packageName: hostPlugin.manifest.name,
      version: CORE_VERSION,
      location: '(built in to @edge-metrics/core)',
      plugin: hostPlugin,
      problems: [],
    };
    return new PluginCatalog([builtIn, ...(await Promise.all(candidates.map(loadPlugin)))]);
  }

  /**
   * The plugin serving `deviceType`. When none does, the error tells an operator whether the plugin is not
   * installed (and which package to install) or installed but rejected (and why).
   */
  forDeviceType(deviceType: string, where: string): UsablePlugin {
    const found = this.usable.find((usable) => usable.plugin.manifest.deviceTypes.includes(deviceType));
    if (found) return found;
    const rejected = this.records.filter((record) => !record.plugin);
    const firstParty = firstPartyPackageFor(deviceType);
    const rejectedFirstParty = rejected.find((record) => record.packageName === firstParty);
    if (rejectedFirstParty) {
      throw new ExporterError(
        'EME_PLUGIN_LOAD_FAILED',
        `${where}: device type '${deviceType}' needs ${firstParty}, which is installed at ${rejectedFirstParty.location} but was rejected: ${rejectedFirstParty.problems.join('; ')}`,
      );
    }
    const known = this.usable.flatMap((usable) => usable.plugin.manifest.deviceTypes);
    const advice = firstParty ? `install it with: npm install ${firstParty}` : 'install the edge-collector-* package that serves it';
    const rejectedNote = rejected.length > 0 ? ` (rejected plugins: ${rejected.map((record) => record.packageName).join(', ')}; see 'edge-metrics-exporter plugins')` : '';
    throw new ExporterError(
      'EME_PLUGIN_NOT_INSTALLED',
      `${where}: no installed plugin serves device type '${deviceType}'; ${advice}. Device types available: ${known.join(', ')}, auto${rejectedNote}`,
    );
  }
}
