/**
 * Counter helpers for plugins: energy integrated from power samples, and hardware counters that wrap or reset.
 * Each instance holds the state of one series; a plugin keeps one per series and never shares them.
 */

/**
 * Integrates power samples (watts) over their real time stamps into joules, by the trapezoidal rule.
 * A gap longer than `maxGapMs` between two samples (the source was down) is not integrated: the energy used
 * while nothing was measured is unknown, and guessing it would put made-up joules into the counter.
 */
export class EnergyIntegrator {
  private joules = 0;
  private last: { watts: number; atMs: number } | undefined;

  constructor(private readonly maxGapMs = 60_000) {}

  /**
   * Adds a power sample taken at `atMs` (milliseconds, e.g. `Date.now()`); returns the total in joules. A negative
   * reading (a rail measuring backwards) counts as zero: energy used never goes down.
   */
  add(watts: number, atMs: number): number {
    if (!Number.isFinite(watts) || !Number.isFinite(atMs)) return this.joules;
    const power = Math.max(0, watts);
    const last = this.last;
    if (last && atMs <= last.atMs) return this.joules;
    if (last && atMs - last.atMs <= this.maxGapMs) {
      const total = this.joules + ((last.watts + power) / 2) * ((atMs - last.atMs) / 1000);
      if (Number.isFinite(total)) this.joules = total;
    }
    this.last = { watts: power, atMs };
    return this.joules;
  }

  get total(): number {
    return this.joules;
  }
}

/**
 * Turns a hardware counter that wraps around (RAPL's `energy_uj` at `max_energy_range_uj`) or resets (a
 * Shelly's energy total after a reboot) into a total that never goes backwards.
 */
export class MonotonicCounter {
  private sum = 0;
  private lastRaw: number | undefined;

  /**
   * @param wrapAt the value at which the hardware counter wraps to zero; without it, a smaller reading is
   *               taken as a reset to zero and counted from there.
   */
  constructor(private readonly wrapAt?: number) {}

  /**
   * Feeds the counter's current raw reading; returns the monotonic total (starting at the first reading). A reading
   * that is not a finite, non-negative number, or that would take the total past what a double holds, is ignored.
   */
  update(raw: number): number {
    if (!Number.isFinite(raw) || raw < 0) return this.sum;
    const lastRaw = this.lastRaw;
    let total: number;
    if (lastRaw === undefined) total = raw;
    else if (raw >= lastRaw) total = this.sum + (raw - lastRaw);
    else if (this.wrapAt !== undefined && Number.isFinite(this.wrapAt) && this.wrapAt > lastRaw) total = this.sum + (this.wrapAt - lastRaw + raw);
    else total = this.sum + raw;
    if (!Number.isFinite(total)) return this.sum;
    this.sum = total;
    this.lastRaw = raw;
    return this.sum;
  }

  get total(): number {
    return this.sum;
  }
}
