import { ExporterError } from '../errors';
import { hostPlugin } from '../host/plugin';
import { FamilyIndex } from '../metric-names';
import type { CollectorPlugin } from '../plugin-api';
import { PLUGIN_PREFIX, firstPartyDeviceTypes, firstPartyPackageFor, isFirstPartyPackage } from '../plugin-names';
import { findPluginPackages, pluginSearchDirs, type PluginCandidate } from './discovery';
import { loadPlugin, type PluginRecord } from './loader';

const CORE_VERSION = (require('../../package.json') as { version: string }).version;

/** A plugin that passed every check, with its families indexed. */
export interface UsablePlugin {
  record: PluginRecord;
  plugin: CollectorPlugin;
  families: FamilyIndex;
}

/**
 * The plugins a config can use: the built-in host collector and the plugin packages found in the search folders. A
 * package's code runs (it is loaded) only when it is needed: for the `device_type` or a `collectors[].type` it
 * serves, for `device_type: auto` (every package's detection), or to list them all (`loadAll`).
 */
export class PluginCatalog {
  private readonly builtIn: UsablePlugin;
  private readonly loading = new Map<string, Promise<void>>();
  private readonly loaded = new Map<string, { record: PluginRecord; usable?: UsablePlugin }>();

  private constructor(private readonly candidates: PluginCandidate[]) {
    const record: PluginRecord = {
      packageName: hostPlugin.manifest.name,
      version: CORE_VERSION,
      location: '(built in to @edge-metrics/core)',
      plugin: hostPlugin,
      problems: [],
    };
    this.builtIn = usableOf(record)!;
  }

  /** Finds the plugin packages in `plugin_dirs` and the folder core is installed in (`installDir`); loads none. */
  static async discover(pluginDirs: readonly string[], cwd: string, installDir?: string): Promise<PluginCatalog> {
    return new PluginCatalog(findPluginPackages(pluginSearchDirs(pluginDirs, cwd, installDir)));
  }

  /** The built-in host collector, then every package loaded so far (usable or rejected), in search order. */
  get records(): PluginRecord[] {
    return [this.builtIn.record, ...this.candidates.flatMap((candidate) => this.loaded.get(candidate.packageName)?.record ?? [])];
  }

  /** The usable plugins among those loaded so far, the built-in host collector first. */
  get usable(): UsablePlugin[] {
    return [this.builtIn, ...this.candidates.flatMap((candidate) => this.loaded.get(candidate.packageName)?.usable ?? [])];
  }

  /** Loads every package found (for auto-detection and `edge-metrics-exporter plugins`); returns the usable ones. */
  async loadAll(): Promise<UsablePlugin[]> {
    await Promise.all(this.candidates.map((candidate) => this.load(candidate)));
    return this.usable;
  }

  /**
   * The plugin serving `deviceType`, loading only what may serve it, one at a time until one does: its first-party
   * package, then a package named after it (`edge-collector-<type>`, `@scope/edge-collector-<type>`), then the other
   * packages that are no first-party one (a third party's type in a package of another name). When none serves it,
   * the error tells an operator whether the plugin is not installed (and which package to install) or installed but
   * rejected (and why).
   */
  async forDeviceType(deviceType: string, where: string): Promise<UsablePlugin> {
    const firstParty = firstPartyPackageFor(deviceType);
    const serves = (usable: UsablePlugin) => usable.plugin.manifest.deviceTypes.includes(deviceType);
    if (serves(this.builtIn)) return this.builtIn;
    const order = new Set([
      ...this.candidates.filter((candidate) => candidate.packageName === firstParty),
      ...this.candidates.filter((candidate) => candidate.packageName.endsWith(`${PLUGIN_PREFIX}${deviceType}`)),
      ...this.candidates.filter((candidate) => !isFirstPartyPackage(candidate.packageName)),
    ]);
    for (const candidate of order) {
      await this.load(candidate);
      const usable = this.loaded.get(candidate.packageName)?.usable;
      if (usable && serves(usable)) return usable;
    }
    const rejected = this.records.filter((record) => !record.plugin);
    const rejectedFirstParty = rejected.find((record) => record.packageName === firstParty);
    if (rejectedFirstParty) {
      throw new ExporterError(
        'EME_PLUGIN_LOAD_FAILED',
        `${where}: device type '${deviceType}' needs ${firstParty}, which is installed at ${rejectedFirstParty.location} but was rejected: ${rejectedFirstParty.problems.join('; ')}`,
      );
    }
    const known = new Set(this.usable.flatMap((usable) => usable.plugin.manifest.deviceTypes));
    // First-party packages found but not loaded: their device types are known without running them.
    for (const type of firstPartyDeviceTypes()) if (this.candidates.some((candidate) => candidate.packageName === firstPartyPackageFor(type))) known.add(type);
    const advice = firstParty ? `install it with: npm install ${firstParty}` : 'install the edge-collector-* package that serves it';
    const rejectedNote = rejected.length > 0 ? ` (rejected plugins: ${rejected.map((record) => record.packageName).join(', ')}; see 'edge-metrics-exporter plugins')` : '';
    throw new ExporterError(
      'EME_PLUGIN_NOT_INSTALLED',
      `${where}: no installed plugin serves device type '${deviceType}'; ${advice}. Device types available: ${[...known].join(', ')}, auto${rejectedNote}`,
    );
  }

  private load(candidate: PluginCandidate): Promise<void> {
    let loading = this.loading.get(candidate.packageName);
    if (!loading) {
      loading = loadPlugin(candidate).then((record) => void this.loaded.set(candidate.packageName, { record, usable: usableOf(record) }));
      this.loading.set(candidate.packageName, loading);
    }
    return loading;
  }
}

function usableOf(record: PluginRecord): UsablePlugin | undefined {
  return record.plugin ? { record, plugin: record.plugin, families: new FamilyIndex(record.plugin.manifest.metrics) } : undefined;
}
