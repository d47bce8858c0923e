import { join } from 'node:path';
import {
  describeReadFailure,
  EnergyIntegrator,
  listSysfsDir,
  NoDataError,
  readSysfsFile,
  type Collector,
  type CollectorContext,
  type ReadFailure,
  type Sample,
} from '@edge-metrics/core/plugin';
import type { __TYPE__Options } from './manifest';
import { parseMicrowatts } from './power';

const ADVICE = {
  permission: 'run the exporter as a user that may read it',
  vanished: 'the chip was unplugged or its driver unloaded',
};

/** Reads the chip's power at every collection and integrates it over real time into `energy_joules_total`. */
export class __TYPE__Collector implements Collector {
  private readonly energy: EnergyIntegrator;
  private readonly dir: string;

  constructor(options: __TYPE__Options, context: CollectorContext) {
    this.dir = join(options.sysfs_root, 'class', 'hwmon', options.hwmon);
    // A gap of a few intervals means the source was down: the energy used meanwhile is unknown, not integrated.
    this.energy = new EnergyIntegrator(Math.max(60_000, 3 * context.interval * 1000));
  }

  async collect(): Promise<Sample[]> {
    const atMs = performance.now();
    // No chip at all is no data (the collector is down, not failing); a chip that cannot be read is a fault.
    if ((await listSysfsDir(this.dir)).length === 0) throw new NoDataError(`no hwmon chip at ${this.dir}: set options.hwmon`);
    const failures: ReadFailure[] = [];
    const file = join(this.dir, 'power1_input');
    const text = await readSysfsFile(file, failures);
    if (text === undefined) throw new Error(describeReadFailure(failures[0]!, ADVICE));
    const watts = parseMicrowatts(text, file);
    return [
      { name: '__PREFIX___power_watts', value: watts },
      { name: 'power_total_watts', value: watts },
      { name: 'energy_joules_total', value: this.energy.add(watts, atMs) },
    ];
  }
}
