import type { Logger } from '@edge-metrics/core/plugin';
import { describeError } from './errors';
import type { Store } from './store-api';

/** How long to wait before trying a step again when the database refused it (e.g. locked by a backup). */
const RETRY_MS = 5000;

/**
 * Steps the running rollouts when their wait is over. The state lives in the store, so after a restart `start()`
 * picks up every running rollout where it stood (a step whose time passed while the server was down runs at once).
 */
export class RolloutTimer {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Schedules every running rollout (again: a rollout already scheduled keeps one timer). */
  async start(): Promise<void> {
    for (const { id, next_step_at: at } of await this.store.runningRollouts()) this.schedule(id, at);
  }

  /** (Re)schedules the check of rollout `id` at `atMs`. */
  schedule(id: number, atMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(id));
    const timer = setTimeout(() => void this.advance(id), Math.max(0, atMs - Date.now()));
    this.timers.set(id, timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async advance(id: number): Promise<void> {
    this.timers.delete(id);
    if (this.stopped) return;
    try {
      const state = await this.store.advanceRollout(id, Date.now());
      if (!state) return;
      if (state.state === 'running' && state.next_step_at) this.schedule(id, Date.parse(state.next_step_at));
      if (state.state === 'halted') this.logger.warn(`rollout ${id} of ${state.layer} halted: ${state.reason}`);
      if (state.state === 'completed') this.logger.info(`rollout ${id} of ${state.layer} completed`);
      if (state.state === 'running') this.logger.info(`rollout ${id} of ${state.layer} reached step ${state.step} of ${state.steps.length}`);
    } catch (error) {
      this.logger.error(`rollout ${id}: the next step failed, retrying in ${RETRY_MS / 1000} s: ${describeError(error)}`);
      this.schedule(id, Date.now() + RETRY_MS);
    }
  }
}
