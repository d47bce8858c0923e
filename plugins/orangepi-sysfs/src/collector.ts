import { join } from 'node:path';
import { EnergyIntegrator, NoDataError, type Collector, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import type { SysfsOptions } from './manifest';
import { describeFailure, nothingFoundMessage } from './messages';
import { parseSnapshot, type Kind, type PowerSupply, type Reading } from './sensors';
import { classDirs, readSysfs } from './sysfs';
import { inputSensor, sensorFilter } from './total';

const METRIC: Record<Kind, string> = { power: 'sysfs_power_watts', voltage: 'sysfs_voltage_volts', current: 'sysfs_current_amps' };

/**
 * Reads the hwmon, power supply and thermal classes once per `collect()`, and integrates the whole-device power
 * over real time into `energy_joules_total`.
 */
export class SysfsCollector implements Collector {
  private readonly energy: EnergyIntegrator;
  private readonly exposed: (sensor: string) => boolean;
  private integrating = false;
  /** The sensors and zones of the last read, to notice one that is gone. */
  private seen = new Set<string>();

  constructor(
    private readonly options: SysfsOptions,
    private readonly context: CollectorContext,
  ) {
    // A gap of a few intervals means the source was down: the energy used meanwhile is unknown, not integrated.
    this.energy = new EnergyIntegrator(Math.max(60_000, 3 * context.interval * 1000));
    this.exposed = sensorFilter(options.include, options.exclude);
  }

  async collect(): Promise<Sample[]> {
    const atMs = performance.now();
    const snapshot = await readSysfs(this.options.sysfs_root);
    const dirs = classDirs(this.options.sysfs_root);
    const parsed = parseSnapshot(snapshot, {
      hwmon: (dir, file) => join(dirs.hwmon, dir, file),
      supply: (dir, file) => join(dirs.supply, dir, file),
      zone: (dir, file) => join(dirs.zone, dir, file),
    });
    const { logger } = this.context;
    for (const failure of snapshot.failures) logger.warnOnce(`read:${failure.file}`, describeFailure(failure));
    for (const problem of parsed.problems) logger.warnOnce(`parse:${problem.file}`, `${problem.message}; skipping it`);
    if (parsed.readings.length === 0 && parsed.temperatures.length === 0) {
      const message = nothingFoundMessage(this.options.sysfs_root, snapshot.failures);
      // No sensor at all is absent hardware; sensors that cannot be read are a fault to fix.
      throw snapshot.failures.length === 0 ? new NoDataError(message) : new Error(message);
    }
    this.noticeGone([
      ...parsed.readings.map((reading) => `${reading.kind} sensor '${reading.sensor}'`),
      ...parsed.temperatures.map((temperature) => `thermal zone '${temperature.zone}'`),
    ]);
    const samples: Sample[] = [
      ...parsed.readings
        .filter((reading) => this.exposed(reading.sensor))
        .map((reading) => ({ name: METRIC[reading.kind], value: reading.value, labels: { sensor: reading.sensor } })),
      ...parsed.temperatures.map(({ zone, celsius }) => ({ name: 'sysfs_temp_celsius', value: celsius, labels: { zone } })),
    ];
    const total = this.totalPower(snapshot.supplies, parsed.readings);
    if (total !== undefined) {
      samples.push({ name: 'power_total_watts', value: total });
      this.energy.add(total, atMs);
      this.integrating = true;
    }
    if (this.integrating) samples.push({ name: 'energy_joules_total', value: this.energy.total });
    return samples;
  }

  /** Warns once about each sensor or zone that was read before and is gone now (unplugged, driver unloaded). */
  private noticeGone(present: readonly string[]): void {
    const now = new Set(present);
    for (const gone of [...this.seen].filter((item) => !now.has(item))) {
      this.context.logger.warnOnce(`gone:${gone}`, `the ${gone} is gone since the last read (unplugged, or its driver unloaded); its series stop until it is back`);
    }
    this.seen = now;
  }

  /** The power of the configured `total_sensor`, or of the input supply when none is configured. */
  private totalPower(supplies: readonly PowerSupply[], readings: readonly Reading[]): number | undefined {
    const powers = readings.filter((reading) => reading.kind === 'power');
    const { logger } = this.context;
    const configured = this.options.total_sensor;
    if (configured !== '') {
      const reading = powers.find((power) => power.sensor === configured);
      if (!reading) {
        const known = powers.map((power) => power.sensor).join(', ') || 'none';
        logger.warnOnce(`total:${configured}`, `total_sensor '${configured}' reports no power; sensors with power: ${known}`);
      }
      return reading?.value;
    }
    const { sensor, candidates } = inputSensor(supplies, readings);
    if (candidates.length > 1) {
      logger.warnOnce('total:ambiguous', `several input power supplies (${candidates.join(', ')}): set the option total_sensor to the one that feeds the board`);
    }
    return powers.find((power) => power.sensor === sensor)?.value;
  }
}
