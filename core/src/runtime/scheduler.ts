import { describeError } from '../errors';
import type { Logger } from '../plugin-api';

/**
 * Runs `cycle` every `intervalMs`, measured from the start of one cycle to the start of the next; a cycle that
 * overruns delays the next instead of overlapping it.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private intervalMs: number,
    private readonly cycle: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  setInterval(intervalMs: number): void {
    this.intervalMs = intervalMs;
  }

  /** Stops scheduling and waits for a running cycle to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private tick(): void {
    const started = Date.now();
    this.running = this.cycle()
      .catch((error) => this.logger.error(`collection cycle failed: ${describeError(error)}`))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), Math.max(0, this.intervalMs - (Date.now() - started)));
      });
  }
}
