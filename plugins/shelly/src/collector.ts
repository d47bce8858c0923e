import { CollectorDownError, describeError, MonotonicCounter, type Collector, type CollectorContext, type Logger, type Sample } from '@edge-metrics/core/plugin';
import { baseUrlOf, ShellyHttp } from './http';
import type { ShellyOptions } from './manifest';
import { ENERGY_METRIC, POWER_METRIC, generationOf, readGen1Status, readGen2Status, type Generation } from './readers';

/** Part of the interval a poll may use at most, so that collect() always returns within the cycle. */
const INTERVAL_SHARE = 0.9;

/**
 * Polls one Shelly per collect(). A Shelly that does not answer in time, refuses the password or answers
 * garbage fails the collection (so core reports the collector down and logs the reason when it changes) with
 * `shelly_up 0` still served, and no stale readings.
 */
export class ShellyCollector implements Collector {
  private readonly plug: string;
  private readonly channels: number[];
  private readonly timeoutMs: number;
  private readonly http: ShellyHttp;
  private readonly logger: Logger;
  /** The detected API generation; forgotten after a failed poll, since the device may have been swapped. */
  private detected: Generation | undefined;
  /** One counter per energy series (channel and phase), so that a device reset never makes it go backwards. */
  private readonly energy = new Map<string, { counter: MonotonicCounter; channelSum: boolean }>();

  constructor(
    private readonly options: ShellyOptions,
    context: CollectorContext,
  ) {
    this.plug = options.name ?? context.configuredName ?? options.host;
    this.channels = Array.isArray(options.channel) ? options.channel : [options.channel];
    this.timeoutMs = Math.min(options.timeout_ms, context.interval * 1000 * INTERVAL_SHARE);
    this.http = new ShellyHttp(baseUrlOf(options.host), { username: options.username, password: options.password });
    this.logger = context.logger;
  }

  async collect(): Promise<Sample[]> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return [...(await this.poll(signal)), this.up(1)];
    } catch (error) {
      this.detected = undefined;
      const reason = signal.aborted ? `did not answer within ${this.timeoutMs} ms` : describeError(error);
      throw new CollectorDownError(`Shelly '${this.plug}' at ${this.http.where} is down: ${reason}`, [this.up(0)]);
    }
  }

  private async poll(signal: AbortSignal): Promise<Sample[]> {
    const generation = await this.generation(signal);
    const samples =
      generation === 1
        ? readGen1Status(await this.http.getJson('/status', 'basic', signal), this.plug, this.channels)
        : readGen2Status(await this.http.getJson('/rpc/Shelly.GetStatus', 'digest', signal), this.plug, this.channels);
    this.warnMissingChannels(samples, generation);
    const counted = samples.map((sample) => (sample.name === ENERGY_METRIC ? this.countEnergy(sample) : sample));
    return this.options.total ? [...counted, ...this.deviceTotals(counted)] : counted;
  }

  private async generation(signal: AbortSignal): Promise<Generation> {
    if (this.options.generation !== 'auto') return this.options.generation;
    if (this.detected === undefined) {
      const info = await this.http.getJson('/shelly', 'none', signal);
      const generation = generationOf(info);
      if (generation === undefined) {
        throw new Error('answered GET /shelly without a Shelly generation (no gen, no type): is this a Shelly?');
      }
      this.detected = generation;
    }
    return this.detected;
  }

  /** Feeds the device's energy reading to its series' counter and reports the counter's total instead. */
  private countEnergy(sample: Sample): Sample {
    const key = `${sample.labels?.channel}/${sample.labels?.phase ?? ''}`;
    let series = this.energy.get(key);
    if (!series) {
      series = { counter: new MonotonicCounter(), channelSum: sample.labels?.phase === undefined };
      this.energy.set(key, series);
    }
    return { ...sample, value: series.counter.update(sample.value) };
  }

  /**
   * The whole-device figures: power summed over the channels read now, energy summed over every channel counter
   * (each never goes backwards, so neither does their sum, even when a channel is missing from one answer).
   */
  private deviceTotals(samples: Sample[]): Sample[] {
    const labels = { plug: this.plug };
    const channelPower = samples.filter((sample) => sample.name === POWER_METRIC && sample.labels?.phase === undefined);
    const channelEnergy = [...this.energy.values()].filter((series) => series.channelSum);
    const totals: Sample[] = [];
    // Finite readings can still add up to Infinity; such a sum is left out like any non-finite reading.
    const power = sum(channelPower.map((sample) => sample.value));
    if (channelPower.length > 0 && Number.isFinite(power)) totals.push({ name: 'power_total_watts', value: power, labels });
    const energy = sum(channelEnergy.map((series) => series.counter.total));
    if (channelEnergy.length > 0 && Number.isFinite(energy)) totals.push({ name: 'energy_joules_total', value: energy, labels });
    return totals;
  }

  private warnMissingChannels(samples: Sample[], generation: Generation): void {
    const present = new Set(samples.map((sample) => sample.labels?.channel));
    for (const channel of this.channels) {
      if (present.has(String(channel))) continue;
      const where = generation === 1 ? 'relays[], meters[] or emeters[] of GET /status' : 'switch, pm1, em1 or em components';
      this.logger.warnOnce(
        `channel ${channel}`,
        `Shelly '${this.plug}' at ${this.http.where} has no channel ${channel} (nothing at index ${channel} in its ${where}): check options.channel`,
      );
    }
  }

  private up(value: 0 | 1): Sample {
    return { name: 'shelly_up', value, labels: { plug: this.plug } };
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
