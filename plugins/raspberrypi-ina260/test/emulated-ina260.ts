import type { I2cBus } from '../src/i2c-bus';

/**
 * A TI INA260 as its registers behave (datasheet SBOS656 §8.6): power-on values, read-only identification and
 * measurement registers, a configuration register that keeps what is written and whose reset bit (15) restores
 * the power-on values. Register values are as the chip holds them, most significant byte first on the wire.
 */
export class EmulatedIna260 {
  private readonly registers = new Map<number, number>();
  /** When set, every transfer with the chip fails with this error, as an I2C fault would. */
  fault: NodeJS.ErrnoException | undefined;
  /** When set, transfers wait for this promise, as on a bus that a device holds low. */
  stall: Promise<void> | undefined;

  constructor(private readonly identification = { manufacturerId: 0x5449, dieId: 0x2270 }) {
    this.powerOn();
  }

  /** The power-on reset: configuration 6127h, measurements zero (SBOS656 §8.6.1–8.6.8). */
  powerOn(): void {
    this.registers.clear();
    this.registers.set(0x00, 0x6127);
    this.registers.set(0x01, 0x0000);
    this.registers.set(0x02, 0x0000);
    this.registers.set(0x03, 0x0000);
    this.registers.set(0x06, 0x0000);
    this.registers.set(0x07, 0x0000);
    this.registers.set(0xfe, this.identification.manufacturerId);
    this.registers.set(0xff, this.identification.dieId);
  }

  /** Sets what the ADC has measured, as raw register values (current two's complement). */
  measure(values: { current: number; busVoltage: number; power: number }): void {
    this.registers.set(0x01, values.current);
    this.registers.set(0x02, values.busVoltage);
    this.registers.set(0x03, values.power);
  }

  register(pointer: number): number {
    return this.registers.get(pointer) ?? 0;
  }

  async transfer(): Promise<void> {
    await this.stall;
    if (this.fault) throw this.fault;
  }

  write(pointer: number, value: number): void {
    if (pointer === 0x00 && value & 0x8000) return this.powerOn();
    // Only the configuration, mask/enable and alert limit registers are writable.
    if (pointer === 0x00 || pointer === 0x06 || pointer === 0x07) this.registers.set(pointer, value);
  }
}

/**
 * A Linux I2C bus with emulated devices, as i2c-bus presents it: SMBus word transfers put the first byte on the
 * wire in the low byte (i2c_smbus_read_word_data), and an address where no device acknowledges fails with the
 * errno the adapter reports (EREMOTEIO on the Raspberry Pi's i2c-bcm2835, ENXIO on some others).
 */
export class EmulatedI2cBus implements I2cBus {
  closed = false;

  constructor(
    private readonly devices: ReadonlyMap<number, EmulatedIna260>,
    private readonly nack: 'EREMOTEIO' | 'ENXIO' = 'EREMOTEIO',
  ) {}

  async readWord(address: number, register: number): Promise<number> {
    const device = await this.device(address);
    const value = device.register(register);
    const wire = [value >> 8, value & 0xff];
    return wire[0]! | (wire[1]! << 8);
  }

  async writeWord(address: number, register: number, word: number): Promise<void> {
    const device = await this.device(address);
    const wire = [word & 0xff, word >> 8];
    device.write(register, (wire[0]! << 8) | wire[1]!);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async device(address: number): Promise<EmulatedIna260> {
    if (this.closed) throw new Error('the bus is closed');
    const device = this.devices.get(address);
    if (!device) throw kernelError(this.nack);
    await device.transfer();
    return device;
  }
}

const ERRNO = {
  ENXIO: [6, 'No such device or address'],
  ETIMEDOUT: [110, 'Connection timed out'],
  EREMOTEIO: [121, 'Remote I/O error'],
  EBUSY: [16, 'Device or resource busy'],
} as const;

/** An error shaped as i2c-bus's addon makes them from errno (Nan::ErrnoException): `code`, `errno`, `syscall`. */
export function kernelError(code: keyof typeof ERRNO): NodeJS.ErrnoException {
  const [errno, text] = ERRNO[code];
  return Object.assign(new Error(`${code}, ${text}`), { code, errno, syscall: 'readWord' });
}
