import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../config/atomic-write';
import { describeError } from '../errors';

export interface PendingChange {
  value: boolean;
  /** When the change was made on this device (ms since the epoch). */
  at: number;
  /** A metric seen for the first time, at `new_metrics_default`: a default, not a choice made on the device. */
  discovered?: true;
}

export interface SyncStateData {
  /** Metric toggles made on this device that the server has not stored yet. */
  pending: Record<string, PendingChange>;
  /** The newest version received from the server. */
  receivedVersion?: number;
  /** The newest version applied: the config this device runs when its source is the server. */
  appliedVersion?: number;
  /** A version that failed to apply: it is not applied again. */
  failedVersion?: number;
  /** The `metrics` map of the newest version received, to tell which keys the server changed since. */
  baseMetrics?: Record<string, boolean>;
  /**
   * Every metric name the server has held for this device: one that a later version leaves out was dropped by an
   * operator, and is not sent back as newly discovered.
   */
  serverMetrics?: string[];
}

/**
 * What the sync must not forget across a restart, in a small JSON file beside the config
 * (`.config.yaml.sync.json`), written atomically and one write at a time.
 */
export class SyncState {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly data: SyncStateData,
  ) {}

  static pathFor(configPath: string): string {
    return join(dirname(configPath), `.${basename(configPath)}.sync.json`);
  }

  /** Reads the state; a missing file is a fresh start, an unreadable one is reported through `warn` and set aside. */
  static async load(path: string, warn: (message: string) => void): Promise<SyncState> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`${path}: cannot read the sync state (${describeError(error)}); starting without it`);
      return new SyncState(path, { pending: {} });
    }
    try {
      const data = JSON.parse(text) as SyncStateData;
      if (typeof data !== 'object' || data === null || typeof data.pending !== 'object' || data.pending === null) throw new Error('not a sync state');
      return new SyncState(path, data);
    } catch (error) {
      warn(`${path}: the sync state is damaged (${describeError(error)}); starting without it`);
      return new SyncState(path, { pending: {} });
    }
  }

  get pendingCount(): number {
    return Object.keys(this.data.pending).length;
  }

  /** Writes the state as it is when the write starts; writes queue behind each other. */
  save(): Promise<void> {
    const run = this.queue.then(() => writeFileAtomic(this.path, JSON.stringify(this.data, null, 2) + '\n'));
    this.queue = run.catch(() => undefined);
    return run;
  }
}
