import type { ExporterConfig } from '../config/schema';
import { ExporterError, describeError } from '../errors';
import { HOST_DEVICE_TYPE } from '../host/plugin';
import type { createLogger } from '../logger';
import { resolveOptions } from '../manifest';
import type { Collector, CollectorContext } from '../plugin-api';
import type { PluginCatalog, UsablePlugin } from '../plugins/catalog';
import { withTimeout } from '../timeout';

type RootLogger = ReturnType<typeof createLogger>;

/** A collector instance; its health between cycles is kept by `collection.ts`. */
export interface ActiveCollector {
  readonly name: string;
  readonly deviceType: string;
  readonly usable: UsablePlugin;
  readonly collector: Collector;
}

export interface CollectorPlan {
  /** The `device_type` label: the config's, or what `auto` detected. */
  deviceType: string;
  collectors: ActiveCollector[];
}

const DETECT_TIMEOUT_MS = 1000;

/**
 * Creates the collectors a config asks for: the one for `device_type` (or, for `auto`, every plugin whose
 * detection finds its hardware, else the host collector) and one per `collectors[]` entry. Throws an
 * ExporterError naming the field when a device type has no plugin or options are invalid.
 */
export async function planCollectors(
  config: ExporterConfig,
  catalog: PluginCatalog,
  logger: RootLogger,
  where: string,
): Promise<CollectorPlan> {
  const wanted: Array<{ usable: UsablePlugin; deviceType: string; options: Record<string, unknown>; name?: string }> = [];
  let deviceType = config.device_type;
  if (deviceType === 'auto') {
    const detected = await detectHardware(config, catalog, logger);
    if (detected.length === 0) {
      logger.info(`device_type auto: no plugin found its hardware; using the built-in host collector (log_level debug says why)`);
      const host = await catalog.forDeviceType(HOST_DEVICE_TYPE, where);
      detected.push({ usable: host, deviceType: HOST_DEVICE_TYPE, options: resolveOptions(host.plugin.manifest, {}, 'options') });
    }
    deviceType = detected[0]!.deviceType;
    wanted.push(...detected);
  } else {
    const usable = await catalog.forDeviceType(deviceType, `${where}: device_type`);
    wanted.push({ usable, deviceType, options: resolveOptions(usable.plugin.manifest, config.options, `${where}: options`) });
  }
  for (const [index, extra] of config.collectors.entries()) {
    const usable = await catalog.forDeviceType(extra.type, `${where}: collectors[${index}].type`);
    const options = resolveOptions(usable.plugin.manifest, extra.options, `${where}: collectors[${index}].options`);
    wanted.push({ usable, deviceType: extra.type, options, ...(extra.name ? { name: extra.name } : {}) });
  }

  const names = new Set<string>();
  const collectors = wanted.map(({ usable, deviceType: type, options, name }) => {
    const collectorName = uniqueName(name ?? type, names, name !== undefined, where);
    const context = { ...collectorContext(type, collectorName, config.interval, logger), ...(name !== undefined ? { configuredName: name } : {}) };
    let collector: Collector;
    try {
      collector = usable.plugin.create(options, context);
    } catch (error) {
      throw new ExporterError('EME_OPTIONS_INVALID', `${where}: ${usable.record.packageName} could not create collector '${collectorName}': ${describeError(error)}`);
    }
    return { name: collectorName, deviceType: type, usable, collector };
  });
  return { deviceType, collectors };
}

function uniqueName(wanted: string, taken: Set<string>, explicit: boolean, where: string): string {
  let name = wanted;
  if (taken.has(name) && explicit) {
    throw new ExporterError('EME_CONFIG_INVALID', `${where}: collectors: the name '${name}' is used twice; give each collector its own name`);
  }
  for (let n = 2; taken.has(name); n++) name = `${wanted}-${n}`;
  taken.add(name);
  return name;
}

function collectorContext(deviceType: string, collectorName: string, interval: number, logger: RootLogger): CollectorContext {
  return { deviceType, collectorName, interval, logger: logger.child(collectorName) };
}

/**
 * Runs every plugin's `detect()` at once, each bounded by a second; a detection that throws finds nothing. Each
 * gets the config's `options` where they are valid for it, else its defaults.
 */
async function detectHardware(config: ExporterConfig, catalog: PluginCatalog, logger: RootLogger) {
  const candidates = (await catalog.loadAll()).filter((usable) => usable.plugin.detect && !usable.plugin.manifest.deviceTypes.includes(HOST_DEVICE_TYPE));
  const results = await Promise.all(
    candidates.map(async (usable) => {
      const manifest = usable.plugin.manifest;
      let options: Record<string, unknown>;
      try {
        options = resolveOptions(manifest, config.options, 'options');
      } catch {
        options = resolveOptions(manifest, {}, 'options');
      }
      const context = collectorContext(manifest.deviceTypes[0]!, `detect:${manifest.name}`, config.interval, logger);
      try {
        const detection = await withTimeout(Promise.resolve(usable.plugin.detect!(options, context)), DETECT_TIMEOUT_MS, `${manifest.name} detect()`);
        // Absent hardware is the normal case of auto-detection: its explanation is for debugging only.
        if (!detection.found) {
          logger.debug(`device_type auto: ${manifest.name} did not find its hardware${detection.reason ? `: ${detection.reason}` : ''}`);
          return undefined;
        }
        logger.info(`device_type auto: ${manifest.name} found its hardware${detection.reason ? `: ${detection.reason}` : ''}`);
        const deviceType = detection.deviceType && manifest.deviceTypes.includes(detection.deviceType) ? detection.deviceType : manifest.deviceTypes[0]!;
        return { usable, deviceType, options };
      } catch (error) {
        logger.warn(`device_type auto: ${manifest.name} detect() failed: ${describeError(error)}`);
        return undefined;
      }
    }),
  );
  return results.filter((result) => result !== undefined);
}
