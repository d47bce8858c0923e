import { describeError, EnergyIntegrator, finishesWithin, type Collector, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import { busPath, type I2cBus, type OpenBus } from './i2c-bus';
import { encodeConfiguration } from './ina260-registers';
import { Ina260Sensor, type Ina260Reading } from './ina260-sensor';
import type { Ina260Options } from './manifest';
import { sensorSpecs } from './sensor-specs';
import { readSocTemperatureCelsius } from './raspberrypi-sysfs';
import { VcgencmdReader } from './vcgencmd';

type SensorResults = Map<Ina260Sensor, Ina260Reading | Error>;

/** Where no INA260 is attached (a Raspberry Pi 5 measured by its PMIC), the default sensor at 0x40 is in the way. */
const ALONE_HINT = ' (with no INA260 attached, set option sensors to [] to report the Raspberry Pi alone)';

/**
 * Reads the INA260s on one I2C bus and the Raspberry Pi's own SoC temperature, throttling flags and PMIC rails.
 * The collector is down (collect() throws) when INA260s are configured and none of them can be read; a sensor that
 * fails while others work is logged once and left out.
 */
export class Ina260Collector implements Collector {
  private readonly sensors: Ina260Sensor[];
  private readonly totalSensor: Ina260Sensor | undefined;
  private readonly vcgencmd: VcgencmdReader;
  private readonly energy = new EnergyIntegrator();
  private bus: Promise<I2cBus> | undefined;
  /** The I2C work still running, so that a hanging bus is not given more while it hangs. */
  private busy: Promise<void> | undefined;

  constructor(
    private readonly options: Ina260Options,
    private readonly context: CollectorContext,
    private readonly openBus: OpenBus,
  ) {
    const configuration = encodeConfiguration(options.averaging, options.conversion_time);
    this.sensors = sensorSpecs(options).map(
      ({ name, address }) => new Ina260Sensor(name, address, options.bus, configuration, context.logger),
    );
    this.totalSensor = this.sensors.find((sensor) => sensor.name === options.total_sensor) ?? this.sensors[0];
    this.vcgencmd = new VcgencmdReader(options.vcgencmd_path, options.vcgencmd_timeout_ms, context.logger);
  }

  /**
   * Verifies and configures each INA260 (what fails is tried again, and reported, by collect()) and starts the first
   * vcgencmd run without waiting for it: its metrics appear from the collection after it answers.
   */
  async start(): Promise<void> {
    void this.vcgencmd.refresh();
    await this.onBus(async (bus) => {
      for (const sensor of this.sensors) await sensor.prepare(bus).catch(() => undefined);
    }).catch(() => undefined);
  }

  async collect(): Promise<Sample[]> {
    const samples: Sample[] = [];
    let total: { watts: number; atMs: number } | undefined;
    if (this.sensors.length > 0) {
      const results = await this.readSensors();
      for (const [sensor, result] of results) {
        if (result instanceof Error) continue;
        const labels = { sensor: sensor.name };
        samples.push(
          { name: 'ina260_current_amps', value: result.currentAmps, labels },
          { name: 'ina260_bus_voltage_volts', value: result.busVoltageVolts, labels },
          { name: 'ina260_power_watts', value: result.powerWatts, labels },
        );
        if (sensor === this.totalSensor) total = { watts: result.powerWatts, atMs: result.atMs };
      }
    }
    samples.push(...(await this.raspberryPiSamples()));
    const rails = this.vcgencmd.pmicRails;
    if (this.sensors.length === 0 && rails && rails.value.length > 0) {
      const watts = rails.value.reduce((sum, rail) => sum + rail.watts, 0);
      // Finite rails can still add up to Infinity; such a sum is no reading.
      if (Number.isFinite(watts)) total = { watts, atMs: rails.atMs };
    }
    if (total) {
      samples.push(
        { name: 'power_total_watts', value: total.watts },
        { name: 'energy_joules_total', value: this.energy.add(total.watts, total.atMs) },
      );
    }
    return samples;
  }

  async stop(): Promise<void> {
    this.vcgencmd.stop();
    const bus = this.bus;
    this.bus = undefined;
    await bus?.then((opened) => opened.close()).catch(() => undefined);
  }

  /**
   * Reads every sensor, within read_timeout_ms. Throws when none could be read (or the bus cannot be opened);
   * otherwise logs each failed sensor once and returns the results.
   */
  private async readSensors(): Promise<SensorResults> {
    const results: SensorResults = new Map();
    await this.onBus(async (bus) => {
      for (const sensor of this.sensors) results.set(sensor, await sensor.read(bus).catch((error: Error) => error));
    });
    const snapshot: SensorResults = new Map(this.sensors.map((sensor) => [
      sensor,
      results.get(sensor) ?? new Error(`${sensor.location}: no answer within ${this.options.read_timeout_ms} ms (option read_timeout_ms)`),
    ]));
    const failures = [...snapshot.values()].filter((result): result is Error => result instanceof Error);
    if (failures.length === this.sensors.length) throw new Error(`${failures.map((failure) => failure.message).join('; ')}${ALONE_HINT}`);
    for (const failure of failures) this.context.logger.warnOnce(failure.message, `${failure.message} (the other sensors go on)`);
    return snapshot;
  }

  /**
   * Runs I2C work on the opened bus and waits for it at most read_timeout_ms; work that outlasts that goes on in
   * the background, and the bus is not given more work until it ends. Rejects when the bus cannot be opened.
   */
  private async onBus(work: (bus: I2cBus) => Promise<void>): Promise<void> {
    if (this.sensors.length === 0) return;
    if (this.busy) {
      throw new Error(`the I2C transfers on ${busPath(this.options.bus)} started by an earlier collection have still not ` +
        'finished: the bus or a sensor hangs; check the wiring and power-cycle the sensors');
    }
    const running = this.openedBus().then(work);
    this.busy = running.catch(() => undefined).finally(() => {
      this.busy = undefined;
    });
    await finishesWithin(running, this.options.read_timeout_ms);
  }

  private async openedBus(): Promise<I2cBus> {
    this.bus ??= this.openBus(this.options.bus);
    try {
      return await this.bus;
    } catch (error) {
      this.bus = undefined;
      throw new Error(`${describeError(error)}${ALONE_HINT}`);
    }
  }

  /** The SoC temperature read now, the vcgencmd results from the cache; then a refresh for the next collection. */
  private async raspberryPiSamples(): Promise<Sample[]> {
    const samples: Sample[] = [];
    try {
      samples.push({ name: 'raspberrypi_temp_soc_celsius', value: await readSocTemperatureCelsius(this.options.sysfs_root) });
    } catch (error) {
      this.context.logger.warnOnce('soc temperature', `raspberrypi_temp_soc_celsius is not reported: ${describeError(error)}`);
    }
    for (const [flag, set] of Object.entries(this.vcgencmd.throttled?.value ?? {})) {
      samples.push({ name: 'raspberrypi_throttled', value: set ? 1 : 0, labels: { flag } });
    }
    for (const { rail, watts } of this.vcgencmd.pmicRails?.value ?? []) {
      samples.push({ name: 'raspberrypi_pmic_rail_watts', value: watts, labels: { rail } });
    }
    void this.vcgencmd.refresh();
    return samples;
  }
}
