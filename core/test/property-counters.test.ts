import fc from 'fast-check';
import { EnergyIntegrator, MonotonicCounter } from '../src/counters';

/** The counter helpers on any sequence of readings: a counter never goes backwards and never stops being finite. */
describe('counter helpers on arbitrary readings', () => {
  const anyNumber = fc.oneof(fc.double(), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, -0, 1e308, -1e308, Number.MAX_VALUE));

  test('EnergyIntegrator: the total never decreases and stays finite, whatever the power readings', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyNumber, fc.integer({ min: 0, max: 120_000 })), { maxLength: 50 }), (readings) => {
        const energy = new EnergyIntegrator();
        let atMs = 1_000_000;
        let previous = energy.total;
        for (const [watts, stepMs] of readings) {
          atMs += stepMs;
          const total = energy.add(watts, atMs);
          expect(Number.isFinite(total)).toBe(true);
          expect(total).toBeGreaterThanOrEqual(previous);
          previous = total;
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('MonotonicCounter: the total never decreases and stays finite, whatever the raw readings and wrap point', () => {
    fc.assert(
      fc.property(fc.option(anyNumber), fc.array(anyNumber, { maxLength: 50 }), (wrapAt, raws) => {
        const counter = new MonotonicCounter(wrapAt ?? undefined);
        let previous = counter.total;
        for (const raw of raws) {
          const total = counter.update(raw);
          expect(Number.isFinite(total)).toBe(true);
          expect(total).toBeGreaterThanOrEqual(previous);
          previous = total;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
