import { parseConfig, type ExporterConfig } from '../config/schema';
import { describeError } from '../errors';
import type { Logger } from '../plugin-api';
import { ConfigServerClient, type Fetched, type RawConfig } from './client';
import { fetchAtStart } from './config-sync';
import { mergePending, shareable, withLocalOnly } from './merge';
import type { SyncSettings } from './settings';
import { SyncState } from './state';

export interface ServerStart {
  client: ConfigServerClient;
  state: SyncState;
  /** True when the server answered at start (with a config or without one). */
  reachable?: boolean;
  /** The version the server answered with at start, if it answered. */
  fetched?: Extract<Fetched, { kind: 'config' }>;
  /** True when that version failed to apply before and was not tried again. */
  skipped?: boolean;
  /** The server's config with the device's queued changes replayed on top. */
  raw?: RawConfig;
  /** That config, validated, with the device's local-only keys: what the exporter runs when it can. */
  config?: ExporterConfig;
  /** Why the server's config is not valid, when it is not. */
  parseError?: string;
}

/**
 * The config server's part of start-up: the sync state from disk and the server's current version, fetched within
 * the timeout and checked. Anything that goes wrong is logged as a fallback to the local file.
 */
export async function serverStart(settings: SyncSettings, configPath: string, localOnly: RawConfig, logger: Logger): Promise<ServerStart> {
  const client = new ConfigServerClient(settings, { onFailover: (message) => logger.warn(message) });
  const state = await SyncState.load(SyncState.pathFor(configPath), (message) => logger.warn(message));
  const start: ServerStart = { client, state };
  const fetched = await fetchAtStart(client, settings, logger);
  start.reachable = fetched !== undefined;
  if (fetched?.kind !== 'config') return start;
  start.fetched = fetched;
  if (state.data.failedVersion === fetched.version) {
    logger.warn(`config version ${fetched.version} from the config server failed to apply before: fallback to the local config file`);
    start.skipped = true;
    return start;
  }
  start.raw = mergePending(shareable(fetched.config), fetched.updatedAt, state.data.baseMetrics, state.data.pending);
  try {
    start.config = parseConfig(withLocalOnly(start.raw, localOnly), `config server version ${fetched.version}`);
  } catch (error) {
    start.parseError = describeError(error);
    logger.error(`${start.parseError}: fallback to the local config file`);
  }
  return start;
}
