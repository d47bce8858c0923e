/** Why a held long-poll ends. */
export type WakeReason = 'changed' | 'timeout' | 'closing' | 'aborted';

type Waker = (reason: WakeReason) => void;

/** Holds long-poll requests per device until its config changes, their time is up, the client leaves or the server closes. */
export class ChangeNotifier {
  private readonly wakers = new Map<string, Set<Waker>>();
  /** Changes notified per device: a request that read the store at one generation sees a change made since. */
  private readonly generations = new Map<string, number>();
  private held = 0;
  private closing = false;

  /** How many requests are held now. */
  get size(): number {
    return this.held;
  }

  /** How many changes of `deviceId` were notified so far; read it before reading the store, then pass it to `wait`. */
  generation(deviceId: string): number {
    return this.generations.get(deviceId) ?? 0;
  }

  /**
   * Resolves at the next change of `deviceId`, after `timeoutMs`, when `signal` aborts, or when `closeAll()` runs.
   * With `since` (a `generation()` read before the store was), a change notified in between resolves it at once:
   * the store is read asynchronously, and a change may land between that read and this wait.
   */
  wait(deviceId: string, timeoutMs: number, signal: AbortSignal, since?: number): Promise<WakeReason> {
    if (this.closing) return Promise.resolve('closing');
    if (signal.aborted) return Promise.resolve('aborted');
    if (since !== undefined && this.generation(deviceId) !== since) return Promise.resolve('changed');
    return new Promise((resolve) => {
      const wakers = this.wakers.get(deviceId) ?? new Set<Waker>();
      this.wakers.set(deviceId, wakers);
      const wake: Waker = (reason) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        wakers.delete(wake);
        if (wakers.size === 0 && this.wakers.get(deviceId) === wakers) this.wakers.delete(deviceId);
        this.held -= 1;
        resolve(reason);
      };
      const onAbort = (): void => wake('aborted');
      const timer = setTimeout(() => wake('timeout'), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      wakers.add(wake);
      this.held += 1;
    });
  }

  /** Wakes every request held for `deviceId`. */
  notify(deviceId: string): void {
    this.generations.set(deviceId, this.generation(deviceId) + 1);
    for (const wake of [...(this.wakers.get(deviceId) ?? [])]) wake('changed');
  }

  /** Wakes the requests held for every device, so that each looks at the store again (a change may have been missed). */
  notifyWaiting(): void {
    for (const deviceId of [...this.wakers.keys()]) this.notify(deviceId);
  }

  /** Wakes every held request and answers later ones at once: the server is shutting down. */
  closeAll(): void {
    this.closing = true;
    for (const wakers of [...this.wakers.values()]) for (const wake of [...wakers]) wake('closing');
  }
}
