import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FamilyIndex } from '@edge-metrics/core/plugin';
import { manifest } from '../src/manifest';
import { jetsonSamples } from '../src/metrics';
import { parseTegrastatsLine, TegrastatsLineError } from '../src/tegrastats';
import { FIXTURES } from './helpers';

/**
 * The tegrastats parser on damaged and hostile lines: random bytes, real lines cut short, their numbers replaced
 * by huge, negative or non-numeric ones, their fields shuffled or doubled. It throws nothing but
 * TegrastatsLineError, and the samples it leads to are finite, declared in the manifest and each named once.
 */

const recorded = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => readFileSync(join(FIXTURES, entry.name, 'tegrastats.txt'), 'utf8').trimEnd());
const families = new FamilyIndex(manifest.metrics);

const hostileNumber = fc.oneof(
  fc.constantFrom('9'.repeat(400), `-${'9'.repeat(400)}`, '0', '-0', '-1', 'NaN', 'Infinity', '-Infinity', '1e400', '0x10', '', '.', '-', '00000000000000000001'),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.stringMatching(/^-?\d{1,30}(\.\d{1,30})?$/),
);
const line = fc.constantFrom(...recorded);
const damaged = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.tuple(line, fc.nat()).map(([text, cut]) => text.slice(0, cut % (text.length + 1))),
  fc.tuple(line, fc.infiniteStream(hostileNumber)).map(([text, numbers]) => text.replace(/-?\d+(\.\d+)?/g, () => numbers.next().value)),
  fc.tuple(line, fc.infiniteStream(fc.boolean())).map(([text, keep]) => text.split(' ').filter(() => keep.next().value).join(' ')),
  fc.tuple(line, fc.nat(), fc.string({ unit: 'binary', maxLength: 20 })).map(([text, at, noise]) => text.slice(0, at % text.length) + noise + text.slice(at % text.length)),
  fc.tuple(line, line).map(([a, b]) => `${a} ${b}`),
  fc.tuple(fc.shuffledSubarray(recorded.flatMap((text) => text.split(' ')), { minLength: 1, maxLength: 40 })).map(([words]) => `RAM 1/2MB ${words.join(' ')}`),
  fc.array(fc.constantFrom('RAM', 'SWAP', 'CPU', '[', ']', '%@', '@', 'mW', '/', 'C', ' ', ',', 'off', 'VDD_IN', 'GR3D_FREQ', '(lfb', ')', 'MB', 'kB'), { maxLength: 40 }).map((parts) => parts.join('')),
);

describe('the tegrastats parser on damaged and hostile lines', () => {
  test('has recorded lines to start from', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(8);
  });

  test('5000 lines: only TegrastatsLineError is thrown; every sample is finite, declared and unique', () => {
    fc.assert(
      fc.property(damaged, (text) => {
        let reading;
        try {
          reading = parseTegrastatsLine(text);
        } catch (error) {
          expect(error).toBeInstanceOf(TegrastatsLineError);
          return;
        }
        const samples = jetsonSamples(reading);
        expect(samples.filter((sample) => !Number.isFinite(sample.value) || families.find(sample.name) === undefined)).toEqual([]);
        expect(new Set(samples.map((sample) => sample.name)).size).toBe(samples.length);
      }),
      { numRuns: 5000 },
    );
  });
});
