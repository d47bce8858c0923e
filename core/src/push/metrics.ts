import type { Registry } from 'prom-client';
import Counter from 'prom-client/lib/counter';
import Gauge from 'prom-client/lib/gauge';
import type { DropReason } from './queue';

/** Why samples never reached a receiver: the queue's reasons, and `rejected` (a 4xx answer other than 429). */
export type DroppedReason = DropReason | 'rejected';

/** What one receiver's queue holds right now, read when the self-metrics are rendered. */
export interface PendingState {
  pendingSamples: number;
  pendingBytes: number;
  oldestPendingTimestamp: number | undefined;
}

/** The push path's self-metrics, labelled by `receiver`. */
export class PushMetrics {
  private readonly appended: Counter;
  private readonly sent: Counter;
  private readonly retried: Counter;
  private readonly dropped: Counter;
  private readonly lastSuccess: Gauge;
  private readonly sources = new Map<string, PendingState>();

  constructor(registry: Registry) {
    const registers = [registry];
    const receiver = ['receiver'];
    this.appended = new Counter({ name: 'edge_remote_write_samples_appended_total', help: 'Samples appended to the receiver\'s on-disk queue', labelNames: receiver, registers });
    this.sent = new Counter({ name: 'edge_remote_write_samples_sent_total', help: 'Samples the receiver acknowledged', labelNames: receiver, registers });
    this.retried = new Counter({ name: 'edge_remote_write_samples_retried_total', help: 'Samples sent again after a 5xx, a 429, a timeout or a connection error', labelNames: receiver, registers });
    this.dropped = new Counter({
      name: 'edge_remote_write_samples_dropped_total',
      help: 'Samples given up: rejected (a 4xx answer), max_disk, max_age, write_error (the disk failed), buffer_full (the disk is too slow)',
      labelNames: ['receiver', 'reason'],
      registers,
    });
    this.lastSuccess = new Gauge({ name: 'edge_remote_write_last_success_timestamp_seconds', help: 'When the receiver last acknowledged a batch (Unix time)', labelNames: receiver, registers });
    const sources = this.sources;
    const pendingGauge = (name: string, help: string, read: (state: PendingState, now: number) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: receiver,
        registers,
        collect() {
          this.reset();
          const now = Date.now();
          for (const [name, state] of sources) {
            const value = read(state, now);
            if (value !== undefined) this.set({ receiver: name }, value);
          }
        },
      });
    pendingGauge('edge_remote_write_pending_samples', 'Samples in the queue not yet acknowledged', (state) => state.pendingSamples);
    pendingGauge('edge_remote_write_pending_bytes', 'Bytes of the queue not yet acknowledged', (state) => state.pendingBytes);
    pendingGauge('edge_remote_write_oldest_pending_age_seconds', 'Age of the oldest sample not yet acknowledged (0 when none is pending)', (state, now) =>
      state.oldestPendingTimestamp === undefined ? 0 : Math.max(0, (now - state.oldestPendingTimestamp) / 1000),
    );
  }

  /** Starts the series of a receiver (its counters at 0), its pending figures read from `state`. */
  add(receiver: string, state: PendingState): void {
    this.sources.set(receiver, state);
    this.appended.inc({ receiver }, 0);
    this.sent.inc({ receiver }, 0);
    this.retried.inc({ receiver }, 0);
    this.dropped.inc({ receiver, reason: 'rejected' }, 0);
  }

  /** Forgets a receiver that a reload removed. */
  remove(receiver: string): void {
    this.sources.delete(receiver);
    for (const metric of [this.appended, this.sent, this.retried, this.lastSuccess]) metric.remove({ receiver });
    for (const reason of ['rejected', 'max_disk', 'max_age', 'write_error', 'buffer_full'] satisfies DroppedReason[]) this.dropped.remove({ receiver, reason });
  }

  recordAppended(receiver: string, samples: number): void {
    this.appended.inc({ receiver }, samples);
  }

  recordSent(receiver: string, samples: number, atMs: number): void {
    this.sent.inc({ receiver }, samples);
    this.lastSuccess.set({ receiver }, atMs / 1000);
  }

  recordRetried(receiver: string, samples: number): void {
    this.retried.inc({ receiver }, samples);
  }

  recordDropped(receiver: string, reason: DroppedReason, samples: number): void {
    this.dropped.inc({ receiver, reason }, samples);
  }
}
