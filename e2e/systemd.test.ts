import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './helpers';

/**
 * install.sh and uninstall.sh against a temporary root (systemctl --root enables the unit there), and the units
 * they render checked by `systemd-analyze verify`, which needs the program of ExecStart= to exist: the units are
 * rendered with this repository as the working directory and this node as the interpreter.
 */
const repository = join(__dirname, '..');
const systemd = join(repository, 'deploy', 'systemd');

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'edge-metrics-root-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const unitPath = (service: string) => join(root, 'etc', 'systemd', 'system', service);
const wantsLink = (service: string) => join(root, 'etc', 'systemd', 'system', 'multi-user.target.wants', service);

function install(...args: string[]) {
  return run(join(systemd, 'install.sh'), [...args, '--root', root, '--node', process.execPath, '--working-directory', repository]);
}

describe.each([
  [
    'edge-metrics-exporter.service',
    ['exporter', '--user', 'edge-metrics', '--groups', 'i2c video', '--local-config-path', '/etc/edge-metrics/config.yaml', '--config-server-url', 'http://config.example.org:8080'],
  ],
  ['edge-metrics-config-server.service', ['config-server', '--port', '8080']],
])('%s', (service, args) => {
  test('install.sh installs and enables it under the root, and systemd-analyze verify finds nothing wrong with it', () => {
    expect(install(...args)).toMatchObject({ code: 0 });
    expect(statSync(unitPath(service)).mode & 0o777).toBe(0o644);
    expect(readlinkSync(wantsLink(service))).toBe(`/etc/systemd/system/${service}`);
    expect(run('systemd-analyze', ['verify', unitPath(service)])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  test('installing again replaces the unit; uninstall.sh disables and removes it', () => {
    expect(install(...args)).toMatchObject({ code: 0 });
    expect(install(...args)).toMatchObject({ code: 0 });
    const removed = run(join(systemd, 'uninstall.sh'), [args[0]!, '--root', root]);
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.stdout).toContain(`${service} removed; left in place: `);
    expect(() => lstatSync(unitPath(service))).toThrow(/ENOENT/);
    expect(() => lstatSync(wantsLink(service))).toThrow(/ENOENT/);
  });
});
