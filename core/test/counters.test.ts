import { EnergyIntegrator, MonotonicCounter } from '../src/counters';

describe('EnergyIntegrator', () => {
  test('integrates by the trapezoidal rule over real time stamps', () => {
    const energy = new EnergyIntegrator();
    expect(energy.add(10, 1_000)).toBe(0);
    expect(energy.add(20, 2_000)).toBe(15); // (10 + 20) / 2 W × 1 s
    expect(energy.add(20, 2_500)).toBe(25); // + 20 W × 0.5 s
  });

  test('skips a gap longer than maxGapMs, and ignores non-finite or out-of-order samples', () => {
    const energy = new EnergyIntegrator(5_000);
    energy.add(10, 0);
    expect(energy.add(10, 60_000)).toBe(0);
    expect(energy.add(Number.NaN, 61_000)).toBe(0);
    expect(energy.add(10, 59_000)).toBe(0);
    expect(energy.add(10, 61_000)).toBe(10);
  });
});

describe('MonotonicCounter', () => {
  test('follows a hardware counter across its wraparound', () => {
    const counter = new MonotonicCounter(1_000);
    expect(counter.update(900)).toBe(900);
    expect(counter.update(950)).toBe(950);
    expect(counter.update(50)).toBe(1_050); // 50 up to the wrap, 50 after it
  });

  test('counts a reset (no wrap point known) from zero, never backwards', () => {
    const counter = new MonotonicCounter();
    counter.update(500);
    expect(counter.update(20)).toBe(520);
    expect(counter.update(30)).toBe(530);
    expect(counter.update(-1)).toBe(530);
  });
});
