import type { Logger } from '@edge-metrics/core/plugin';
import { busPath, describeTransferError, type I2cBus } from './i2c-bus';
import {
  decodeBusVoltageVolts,
  decodeCurrentAmps,
  decodePowerWatts,
  hexAddress,
  identificationProblem,
  REGISTER,
  swapBytes,
} from './ina260-registers';

export interface Ina260Reading {
  currentAmps: number;
  busVoltageVolts: number;
  powerWatts: number;
  /** When the reading completed (ms since the epoch), for energy integration. */
  atMs: number;
}

/**
 * One configured INA260. It is verified (identification registers) and configured before its first reading
 * and again after any failed transfer, so that a sensor that was absent, replaced or reset comes back by itself.
 */
export class Ina260Sensor {
  private ready = false;

  constructor(
    readonly name: string,
    readonly address: number,
    private readonly busNumber: number,
    private readonly configuration: number,
    private readonly logger: Logger,
  ) {}

  /** Names the sensor in messages: which one, at which address, on which bus. */
  get location(): string {
    return `INA260 '${this.name}' at ${hexAddress(this.address)} on ${busPath(this.busNumber)}`;
  }

  /** Throws unless the device at the sensor's address identifies itself as an INA260. */
  async verify(bus: I2cBus): Promise<void> {
    await this.transfer(async () => {
      const problem = identificationProblem(
        await this.readRegister(bus, REGISTER.manufacturerId),
        await this.readRegister(bus, REGISTER.dieId),
      );
      if (problem) throw new Error(`the device there is not an INA260: ${problem}; set the sensor's address to the INA260's`);
    });
  }

  /** Verifies the device and writes the configuration register. */
  async prepare(bus: I2cBus): Promise<void> {
    await this.verify(bus);
    await this.transfer(() => bus.writeWord(this.address, REGISTER.configuration, swapBytes(this.configuration)));
    this.ready = true;
    this.logger.info(`${this.location} ready (configuration register 0x${this.configuration.toString(16)})`);
  }

  async read(bus: I2cBus): Promise<Ina260Reading> {
    if (!this.ready) await this.prepare(bus);
    return this.transfer(async () => ({
      currentAmps: decodeCurrentAmps(await this.readRegister(bus, REGISTER.current)),
      busVoltageVolts: decodeBusVoltageVolts(await this.readRegister(bus, REGISTER.busVoltage)),
      powerWatts: decodePowerWatts(await this.readRegister(bus, REGISTER.power)),
      atMs: Date.now(),
    }));
  }

  private async readRegister(bus: I2cBus, register: number): Promise<number> {
    return swapBytes(await bus.readWord(this.address, register));
  }

  /** Runs I2C transfers; a failure makes the next use verify and configure the device again. */
  private async transfer<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.ready = false;
      throw new Error(`${this.location}: ${describeTransferError(error, this.busNumber)}`);
    }
  }
}
