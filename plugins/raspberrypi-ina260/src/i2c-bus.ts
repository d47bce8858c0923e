import { access, constants } from 'node:fs/promises';
import type * as I2cBusAddon from 'i2c-bus';
import { describeError } from '@edge-metrics/core/plugin';

/**
 * The SMBus word transfers an INA260 needs. i2c-bus's promisified bus implements it on Linux's /dev/i2c-N; the
 * tests implement it with an emulated INA260.
 */
export interface I2cBus {
  /** SMBus "read word": like the Linux kernel, returns the first byte on the wire in the low byte. */
  readWord(address: number, register: number): Promise<number>;
  /** SMBus "write word": sends the low byte first. */
  writeWord(address: number, register: number, word: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens /dev/i2c-<busNumber>; rejects with an Error that says what is missing and how to fix it. */
export type OpenBus = (busNumber: number) => Promise<I2cBus>;

export type LoadI2cBusAddon = () => Pick<typeof I2cBusAddon, 'openPromisified'>;

export function busPath(busNumber: number): string {
  return `/dev/i2c-${busNumber}`;
}

/**
 * i2c-bus is a native addon and an optional dependency: it is loaded when a bus is first opened, never when this
 * package loads, so that a machine where it failed to build still runs the exporter and reports why.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, as said above
export const loadI2cBusAddon: LoadI2cBusAddon = () => require('i2c-bus') as typeof I2cBusAddon;

export function createBusOpener(loadAddon: LoadI2cBusAddon = loadI2cBusAddon): OpenBus {
  return async (busNumber) => {
    let addon: ReturnType<LoadI2cBusAddon>;
    try {
      addon = loadAddon();
    } catch (error) {
      throw new Error(describeAddonLoadError(error));
    }
    const path = busPath(busNumber);
    try {
      // i2c-bus opens the device file only at the first transfer; checking here reports a missing bus as such.
      await access(path, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new Error(describeOpenError(error, busNumber));
    }
    return addon.openPromisified(busNumber);
  };
}

function describeAddonLoadError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'MODULE_NOT_FOUND' && /'i2c-bus'/.test(message)) {
    return 'i2c-bus is not installed (it is an optional dependency, skipped when its native addon cannot be built): ' +
      'install it next to the exporter with "npm install i2c-bus" (needs g++, make and python3), then restart the exporter';
  }
  return `the i2c-bus native addon failed to load (${message.split('\n')[0]}): rebuild it with "npm rebuild i2c-bus" ` +
    '(needs g++, make and python3), then restart the exporter';
}

function describeOpenError(error: unknown, busNumber: number): string {
  const path = busPath(busNumber);
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `${path} does not exist: enable I2C ("sudo raspi-config nonint do_i2c 0", or "dtparam=i2c_arm=on" in ` +
        '/boot/firmware/config.txt, then reboot; "sudo modprobe i2c-dev" if the i2c-dev module is not loaded), ' +
        `or set option bus to one of the buses that "ls /dev/i2c-*" lists`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to open ${path}: add the exporter's user to the i2c group ("sudo usermod -aG i2c <user>", ` +
        'or SupplementaryGroups=i2c in its systemd unit), then restart the exporter';
    default:
      return `cannot open ${path}: ${describeError(error)}`;
  }
}

/** What the errno of a failed transfer means on an I2C bus, and what to check. */
export function describeTransferError(error: unknown, busNumber: number): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EREMOTEIO':
    case 'ENXIO':
      return 'no device acknowledges this address: check the wiring (SDA to pin 3, SCL to pin 5, VCC to 3.3 V, GND), ' +
        `the A0/A1 address straps and the sensor's address option; "i2cdetect -y ${busNumber}" lists the addresses that answer`;
    case 'ETIMEDOUT':
      return 'the transfer timed out: a device may hold the bus low; check the wiring and power-cycle the sensors';
    case 'EBUSY':
      return 'a kernel driver has claimed this address (such as ina2xx from a dtoverlay): remove that overlay, or read ' +
        'the sensor through hwmon instead';
    default:
      return describeError(error);
  }
}
