import { join } from 'node:path';
import { isPermissionFailure, MonotonicCounter, NoDataError, type Collector, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import type { RaplOptions } from './manifest';
import { describeFailure, noZonesMessage } from './messages';
import { readPowercap } from './powercap';
import { cpuZones, wholeDeviceZones } from './totals';
import { parseZones, seriesLabels, type RaplZone } from './zones';

/** One series' counter across reads. */
interface ZoneState {
  counter: MonotonicCounter;
  totalUj: number;
  atMs: number;
}

/** A zone as read this cycle: its series' labels, its monotonic total and, from its second read on, the energy and power since. */
interface ZoneReading extends RaplZone {
  labels: { zone: string; package: string };
  joules: number;
  deltaJoules?: number;
  watts?: number;
}

/**
 * Reads every RAPL zone once per `collect()`. Energy comes from the hardware counters, kept monotonic across
 * their wraparound at `max_energy_range_uj`; power is the energy delta over the real time between two reads.
 */
export class RaplCollector implements Collector {
  private readonly states = new Map<string, ZoneState>();
  private energyJoules = 0;

  constructor(
    private readonly options: RaplOptions,
    private readonly context: CollectorContext,
  ) {}

  async collect(): Promise<Sample[]> {
    const atMs = performance.now();
    const snapshot = await readPowercap(this.options.sysfs_root);
    if (snapshot.zoneCount === 0) throw new NoDataError(noZonesMessage(snapshot.dir));
    const { zones, problems } = parseZones(snapshot.files, (dir, file) => join(snapshot.dir, dir, file));
    if (zones.length === 0) {
      const denied = snapshot.failures.find(isPermissionFailure);
      if (denied) throw new Error(describeFailure(denied));
      const reasons = [...snapshot.failures.map(describeFailure), ...problems.map((problem) => problem.message)];
      throw new Error(`no RAPL zone under ${snapshot.dir} could be read: ${reasons.join('; ')}`);
    }
    const { logger } = this.context;
    for (const failure of snapshot.failures) logger.warnOnce(`read:${failure.file}`, describeFailure(failure));
    for (const problem of problems) logger.warnOnce(`parse:${problem.file}`, `${problem.message}; skipping this zone`);
    const labels = seriesLabels(zones);
    return this.samples(zones.map((zone) => this.update(zone, labels.get(zone.dir)!, atMs)));
  }

  /**
   * Feeds a zone's counter to the state of its series. The state belongs to the series' labels, not to the zone's
   * directory, so that a series never goes backwards when the kernel numbers the zones differently from one read
   * to the next (the driver reloaded, a zone gone and back).
   */
  private update(zone: RaplZone, labels: ZoneReading['labels'], atMs: number): ZoneReading {
    const key = JSON.stringify([labels.zone, labels.package]);
    const state = this.states.get(key);
    if (!state) {
      const counter = new MonotonicCounter(zone.maxEnergyRangeUj);
      const totalUj = counter.update(zone.energyUj);
      this.states.set(key, { counter, totalUj, atMs });
      return { ...zone, labels, joules: totalUj / 1e6 };
    }
    const totalUj = state.counter.update(zone.energyUj);
    const deltaJoules = (totalUj - state.totalUj) / 1e6;
    const seconds = (atMs - state.atMs) / 1000;
    Object.assign(state, { totalUj, atMs });
    return { ...zone, labels, joules: totalUj / 1e6, deltaJoules, watts: seconds > 0 ? deltaJoules / seconds : undefined };
  }

  private samples(readings: readonly ZoneReading[]): Sample[] {
    const samples: Sample[] = [];
    for (const reading of readings) {
      samples.push({ name: 'rapl_energy_joules_total', value: reading.joules, labels: reading.labels });
      if (reading.watts !== undefined) samples.push({ name: 'rapl_power_watts', value: reading.watts, labels: reading.labels });
    }
    const whole = wholeDeviceZones(readings);
    this.energyJoules += whole.reduce((sum, reading) => sum + (reading.deltaJoules ?? 0), 0);
    pushSum(samples, 'power_total_watts', whole);
    pushSum(samples, 'power_cpu_watts', cpuZones(readings));
    if (whole.length > 0) samples.push({ name: 'energy_joules_total', value: this.energyJoules });
    return samples;
  }
}

/** Adds the sum of the zones' power, once every one of them has a power reading. */
function pushSum(samples: Sample[], name: string, readings: readonly ZoneReading[]): void {
  if (readings.length === 0 || readings.some((reading) => reading.watts === undefined)) return;
  samples.push({ name, value: readings.reduce((sum, reading) => sum + reading.watts!, 0) });
}
