import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfigFile } from '../src/config/load';
import { parseConfig } from '../src/config/schema';
import { ExporterError } from '../src/errors';
import { tempDir } from './helpers';

/** Config errors that escape as other errors, or that span several log lines. */
describe('config errors', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let file: string;
  beforeAll(async () => {
    dir = await tempDir();
    file = join(dir.path, 'config.yaml');
  });
  afterAll(() => dir.cleanup());

  async function loadError(text: string): Promise<unknown> {
    await writeFile(file, text);
    return loadConfigFile(file).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  test.each([
    ['an alias to no anchor', 'interval: *a\n', 'Unresolved alias'],
    ['an alias bomb', 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', 'Excessive alias count'],
  ])('%s is an ExporterError naming the file', async (_name, text, reason) => {
    const error = await loadError(text);
    expect(error).toBeInstanceOf(ExporterError);
    expect((error as ExporterError).code).toBe('EME_CONFIG_PARSE');
    expect((error as ExporterError).message).toContain(file);
    expect((error as ExporterError).message).toContain(reason);
  });

  test('any text at all, aliases included, gives a config or an ExporterError naming the file', async () => {
    const yamlish = fc
      .array(fc.oneof(fc.constantFrom('interval: ', 'labels:\n  ', '- ', '&a ', '*a', '*b ', '<<: ', '"', '\n', '  ', ': ', '{', '}', '[', ']', ','), fc.string({ maxLength: 6 })), { maxLength: 30 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        const error = await loadError(text);
        if (error === undefined) return;
        expect(error).toBeInstanceOf(ExporterError);
        expect((error as ExporterError).message.startsWith(file)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  test('an error is one line whatever the keys of the config hold, so that it cannot forge log lines', () => {
    const lineBreak = fc.constantFrom('\n', '\r', '\u2028', '\u0085');
    const key = fc.tuple(fc.string({ maxLength: 5 }), lineBreak, fc.constantFrom('error: forged', 'info: [core] ok')).map((parts) => parts.join(''));
    const broken = fc.oneof(
      key.map((name) => ({ [name]: 1 })),
      key.map((name) => ({ labels: { [name]: 'x' } })),
      key.map((name) => ({ metrics: { [name]: true } })),
      key.map((name) => ({ config_server: { [name]: 1 } })),
    );
    fc.assert(
      fc.property(broken, (config) => {
        let message = '';
        try {
          parseConfig(config, 'config.yaml');
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toMatch(/^config\.yaml: /);
        expect(message).not.toMatch(/[\n\r\u2028\u0085]/);
      }),
      { numRuns: 300 },
    );
  });
});
