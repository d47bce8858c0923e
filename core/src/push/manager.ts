import type { ExporterConfig } from '../config/schema';
import { describeError } from '../errors';
import type { ExpositionFamily } from '../metrics/exposition';
import type { SelfMetrics } from '../metrics/self-metrics';
import type { Logger } from '../plugin-api';
import type { CycleListener } from '../runtime/collection-runtime';
import { withTimeout } from '../timeout';
import type { CycleEncoder } from './encode';
import type { PushMetrics } from './metrics';
import type { Sender } from './sender';
import { resolveReceivers, type ReceiverSettings } from './settings';

/**
 * The job name pushed series carry, as deploy/prometheus/prometheus.yml names the scrape job, so that the dashboards
 * and alerts that select `job="edge-power"` see pushed devices too.
 */
const PUSH_JOB = 'edge-power';
const STOP_TIMEOUT_MS = 5000;

/** What `configure` puts in force: the receivers and the identity labels every pushed series carries. */
export interface PushPlan {
  receivers: ReceiverSettings[];
  identity: Array<[string, string]>;
}

/**
 * The push path beside `/metrics`: one sender (and on-disk queue) per `remote_write:` receiver. Each cycle's samples
 * are encoded once and appended to every queue; a reload starts, stops and restarts only the receivers it changed.
 */
/**
 * What pushing needs beyond checking a config: loaded with the first receiver, so that a scrape-only exporter never
 * loads protobufjs, snappyjs or node:https.
 */
interface PushParts {
  encode: typeof import('./encode');
  Sender: typeof Sender;
  metrics: PushMetrics;
}

export class PushManager {
  private loaded: PushParts | undefined;
  private readonly senders = new Map<string, { sender: Sender; key: string }>();
  /** Made for the identity in force: its cache of encoded series holds that identity's labels. */
  private encoder: CycleEncoder | undefined;
  private identity: Array<[string, string]> = [];
  private unsubscribe: (() => void) | undefined;

  /**
   * `subscribe` adds a listener of every collection cycle and returns its removal: the manager listens only while it
   * has receivers, since a cycle listener makes the self-metrics be gathered every cycle rather than on a scrape.
   */
  constructor(
    private readonly self: SelfMetrics,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv,
    private readonly subscribe: (listener: CycleListener) => () => void,
  ) {}

  /**
   * Checks the receivers of `config` without starting anything; throws an ExporterError naming the entry when one
   * cannot be used. Pushed series carry `instance` (the device id: `DEVICE_ID`, else `device_id`) and `job`, unless
   * the samples carry labels of those names.
   */
  plan(config: ExporterConfig, configPath: string): PushPlan {
    return { receivers: resolveReceivers(config, configPath), identity: [['instance', this.env.DEVICE_ID || config.device_id], ['job', PUSH_JOB]] };
  }

  async configure(plan: PushPlan): Promise<void> {
    if (JSON.stringify(plan.identity) !== JSON.stringify(this.identity)) this.encoder = undefined;
    this.identity = plan.identity;
    const wanted = new Map(plan.receivers.map((receiver) => [receiver.name, receiver]));
    for (const [name, running] of this.senders) {
      const next = wanted.get(name);
      if (next && keyOf(next) === running.key) continue;
      this.senders.delete(name);
      await running.sender.stop();
      if (!next) this.parts().metrics.remove(name);
    }
    for (const [name, receiver] of wanted) {
      if (this.senders.has(name)) continue;
      try {
        const { Sender, metrics } = this.parts();
        this.senders.set(name, { sender: await Sender.start(receiver, metrics, this.logger), key: keyOf(receiver) });
        this.logger.info(`remote_write ${name}: pushing to ${receiver.url.origin}${receiver.url.pathname}, queue in ${receiver.queueDir}`);
      } catch (error) {
        // A queue folder that cannot be made: this receiver waits for the next reload; collection goes on.
        this.logger.error(`remote_write ${name}: not started: ${describeError(error)}`);
      }
    }
    this.listen(this.senders.size > 0);
  }

  private parts(): PushParts {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see PushParts */
    this.loaded ??= {
      encode: require('./encode') as typeof import('./encode'),
      Sender: (require('./sender') as typeof import('./sender')).Sender,
      metrics: this.self.register((registry) => new (require('./metrics') as typeof import('./metrics')).PushMetrics(registry)),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    return this.loaded;
  }

  private listen(wanted: boolean): void {
    if (wanted && !this.unsubscribe) {
      this.unsubscribe = this.subscribe((cycle) => this.append(cycle.families, cycle.timestampMs));
    } else if (!wanted && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
      this.encoder = undefined;
    }
  }

  /** Appends one cycle's samples, collected at `timestampMs`, to every receiver's queue; never waits. */
  append(families: readonly ExpositionFamily[], timestampMs: number): void {
    if (this.senders.size === 0) return;
    let payload: Buffer;
    let samples: number;
    try {
      const { encode } = this.parts();
      this.encoder ??= new encode.CycleEncoder(this.identity);
      const cycle = this.encoder.encode(families, timestampMs);
      payload = encode.compressBlock(cycle.writeRequest);
      samples = cycle.samples;
    } catch (error) {
      this.logger.warnOnce('remote_write\u0000encode', `remote_write: a cycle could not be encoded and is not pushed: ${describeError(error)}`);
      return;
    }
    for (const { sender } of this.senders.values()) sender.append(payload, samples, timestampMs);
  }

  /** Stops every sender and writes what their queues buffer; a disk that hangs is given up after 5 s. */
  async stop(): Promise<void> {
    const running = [...this.senders.values()];
    this.senders.clear();
    this.listen(false);
    await withTimeout(Promise.all(running.map(({ sender }) => sender.stop())), STOP_TIMEOUT_MS, 'stopping the remote_write senders').catch((error) =>
      this.logger.warn(`${describeError(error)}: the cycles not yet on disk are lost`),
    );
  }
}

/** What a running sender is built from: when it is unchanged, a reload keeps the sender (and its connection). */
function keyOf(receiver: ReceiverSettings): string {
  return JSON.stringify({ ...receiver, url: receiver.url.href });
}
