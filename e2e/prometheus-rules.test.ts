import { join } from 'node:path';
import { run } from './helpers';

/** promtool, from Debian's prometheus package, on the files in deploy/prometheus as an operator would copy them. */
const prometheus = join(__dirname, '..', 'deploy', 'prometheus');
const promtool = (...args: string[]) => run('promtool', args, { cwd: prometheus });

test('promtool check rules accepts alerts.yml and recording.yml', () => {
  const result = promtool('check', 'rules', 'alerts.yml', 'recording.yml');
  expect(result).toMatchObject({ code: 0 });
  expect(result.stdout.match(/^ {2}SUCCESS: \d+ rules found$/gm)).toHaveLength(2);
});

test('promtool test rules: each alert fires and stays quiet where alerts.test.yml says, and the recording rules add up', () => {
  const result = promtool('test', 'rules', 'alerts.test.yml');
  expect(result).toMatchObject({ code: 0 });
  expect(result.stdout).toContain('Unit Testing:  alerts.test.yml\n  SUCCESS\n');
});

test('promtool check config accepts prometheus.yml and the rule files it loads', () => {
  const result = promtool('check', 'config', 'prometheus.yml');
  expect(result).toMatchObject({ code: 0 });
  expect(result.stdout).toContain('SUCCESS: prometheus.yml is valid prometheus config file syntax');
  expect(result.stdout).toContain('SUCCESS: 2 rule files found');
});
