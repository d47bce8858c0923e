import {
  decodeBusVoltageVolts,
  decodeCurrentAmps,
  decodePowerWatts,
  encodeConfiguration,
  identificationProblem,
  parseAddress,
  swapBytes,
} from '../src/ina260-registers';

// Register values against the INA260 datasheet (TI SBOS656): §8.6.2 current, two's complement, 1.25 mA/LSB;
// §8.6.3 bus voltage, 1.25 mV/LSB; §8.6.4 power, 10 mW/LSB; §8.5.1 "the returned value for negative currents
// (currents flowing from IN- to IN+) is represented in two's complement format. Returned values for power will
// always be positive even when the current is negative." The same scaling is in Adafruit_INA260.cpp
// (readCurrent = (int16_t)raw * 1.25 mA, readBusVoltage = raw * 1.25 mV, readPower = raw * 10 mW).
describe('INA260 register conversions (SBOS656 §8.6.2–8.6.4)', () => {
  it.each([
    ['0x0000', 0],
    ['0x0001', 0.00125], // one LSB
    ['0x1F40', 10], // 8000 LSB
    ['0x2EE0', 15], // 12000 LSB: the ±15 A continuous rating
    ['0x7FFF', 40.95875], // largest positive register value
    ['0xFFFF', -0.00125], // minus one LSB
    ['0xE0C0', -10], // -8000 in two's complement: 10 A flowing from IN- to IN+
    ['0x8000', -40.96], // most negative register value
  ])('current register %s is %d A', (register, amps) => {
    expect(decodeCurrentAmps(Number(register))).toBeCloseTo(amps, 10);
  });

  it.each([
    ['0x0000', 0],
    ['0x0FA0', 5], // 4000 LSB: a 5 V rail
    ['0x2580', 12], // 9600 LSB
    ['0x7080', 36], // 28800 LSB: the 36 V common-mode maximum
    ['0x7FFF', 40.95875], // full scale
  ])('bus voltage register %s is %d V', (register, volts) => {
    expect(decodeBusVoltageVolts(Number(register))).toBeCloseTo(volts, 10);
  });

  it.each([
    ['0x0000', 0],
    ['0x01F4', 5], // 500 LSB
    ['0x2EE0', 120], // 12000 LSB: 10 A at 12 V
    ['0xFFFF', 655.35], // unsigned: the top bit is not a sign
  ])('power register %s is %d W', (register, watts) => {
    expect(decodePowerWatts(Number(register))).toBeCloseTo(watts, 10);
  });
});

describe('decimal readings', () => {
  it('are the nearest doubles to the decimal values, as exposed to Prometheus', () => {
    expect(decodeBusVoltageVolts(4080)).toBe(5.1);
    expect(decodeCurrentAmps(480)).toBe(0.6);
    expect(decodePowerWatts(306)).toBe(3.06);
  });
});

describe('byte order', () => {
  it('swaps a Linux SMBus word into the big-endian register value and back', () => {
    // The manufacturer ID "TI" (0x5449) arrives as 0x54 then 0x49; the kernel's word read puts 0x54 in the low byte.
    expect(swapBytes(0x4954)).toBe(0x5449);
    expect(swapBytes(0x5449)).toBe(0x4954);
    expect(swapBytes(swapBytes(0xe0c0))).toBe(0xe0c0);
  });
});

describe('configuration register (SBOS656 §8.6.1)', () => {
  it.each([
    // The power-on value 6127h: averaging 1, both conversion times 1.1 ms, continuous mode.
    [1, 1100, '0x6127'],
    // Linux's ina2xx driver programs INA260_CONFIG_DEFAULT 0x6527 "/* averages=16 */" (drivers/hwmon/ina2xx.c).
    [16, 1100, '0x6527'],
    // AVG 101, VBUSCT 100, ISHCT 100, MODE 111.
    [256, 1100, '0x6B27'],
    // Every field at its largest and smallest code.
    [1024, 8244, '0x6FFF'],
    [1, 140, '0x6007'],
  ] as const)('averaging %d with conversion time %d µs is %s', (averaging, conversionTime, word) => {
    expect(encodeConfiguration(averaging, conversionTime)).toBe(Number(word));
  });

  it('refuses values the datasheet does not list', () => {
    expect(() => encodeConfiguration(8 as never, 1100)).toThrow('averaging 8 is not one of 1, 4, 16, 64, 128, 256, 512, 1024');
    expect(() => encodeConfiguration(1, 1000 as never)).toThrow('conversion_time 1000 µs is not one of');
  });
});

describe('identification (SBOS656 §8.6.7–8.6.8)', () => {
  it('accepts TI\'s manufacturer ID with the INA260 device ID in any die revision', () => {
    expect(identificationProblem(0x5449, 0x2270)).toBeUndefined();
    expect(identificationProblem(0x5449, 0x2271)).toBeUndefined();
  });

  it('names what was read when it is another TI part, such as an INA226 (die ID 2260h, SBOS547 register map)', () => {
    expect(identificationProblem(0x5449, 0x2260)).toBe('die ID 0x2260 (register 0xFF), an INA260 reads 0x2270 to 0x227f');
  });

  it('names what was read when the manufacturer is not TI', () => {
    expect(identificationProblem(0x0000, 0x2270)).toBe('manufacturer ID 0x0000 (register 0xFE), an INA260 reads 0x5449 ("TI")');
  });
});

describe('addresses', () => {
  it.each([
    [0x40, 0x40],
    [0x4f, 0x4f],
    ['0x40', 0x40],
    ['0x4F', 0x4f],
    ['0x4a', 0x4a],
  ])('accepts %s', (input, address) => {
    expect(parseAddress(input)).toBe(address);
  });

  it.each([0x3f, 0x50, 64.5, '64', '0x50', '40', ''])('refuses %s', (input) => {
    expect(parseAddress(input)).toBeUndefined();
  });
});
