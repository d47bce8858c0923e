import { DatabaseBusyError } from './errors';

/**
 * Runs at most `concurrency` tasks at once and the others in their order of arrival; refuses a task
 * (DatabaseBusyError) when `maxWaiting` are waiting already, so that a database that hangs cannot pile up requests
 * without end.
 */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) {
      this.running += 1;
    } else {
      if (this.waiting.length >= this.maxWaiting) throw new DatabaseBusyError(this.waiting.length);
      // The task that ends hands its place over: `running` stays as it is.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
