import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * install.sh and uninstall.sh in --dry-run, which needs nothing but bash: what they would install, and what
 * they refuse. Installing into a temporary root and `systemd-analyze verify` of the result are in
 * e2e/systemd.test.ts, which needs systemd's tools.
 */
const systemd = join(__dirname, '..', 'systemd');
const repository = join(__dirname, '..', '..');

function script(name: 'install.sh' | 'uninstall.sh', args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(join(systemd, name), args, { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The unit a dry run prints between `--- <destination>` and `---`. */
function printedUnit(stdout: string): { destination: string; unit: string } {
  const match = /^--- (\S+)\n([\s\S]*?)\n---\n/m.exec(stdout);
  if (!match) throw new Error(`no unit in the output:\n${stdout}`);
  return { destination: match[1]!, unit: match[2]! };
}

const steps = (stdout: string): string[] => stdout.split('\n').filter((line) => line.startsWith('+ '));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-metrics-install-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('install.sh exporter --dry-run', () => {
  const flags = () => [
    '--user', 'root',
    '--working-directory', repository,
    '--local-config-path', join(dir, 'etc', 'edge-metrics', 'config.yaml'),
    '--config-server-url', 'http://config.example.org:8080',
    '--config-timeout', '3',
    '--groups', 'i2c video',
    '--node', process.execPath,
  ];

  test('prints the unit with every placeholder filled in and the steps, and changes nothing', () => {
    const result = script('install.sh', ['--dry-run', ...flags()]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { destination, unit } = printedUnit(result.stdout);
    expect(destination).toBe('/etc/systemd/system/edge-metrics-exporter.service');
    expect(unit).not.toContain('{{');
    const directives = unit.split('\n').filter((line) => /^[A-Z]\w*=/.test(line));
    expect(directives).toEqual(
      expect.arrayContaining([
        'User=root',
        'SupplementaryGroups=i2c video',
        `WorkingDirectory=${repository}`,
        'Environment=CONFIG_SERVER_URL=http://config.example.org:8080',
        'Environment=CONFIG_TIMEOUT=3',
        `Environment=LOCAL_CONFIG_PATH=${join(dir, 'etc', 'edge-metrics', 'config.yaml')}`,
        `ExecStart=${process.execPath} --max-semi-space-size=2 ${repository}/node_modules/@edge-metrics/core/dist/cli.js`,
        'ExecReload=/bin/kill -HUP $MAINPID',
        'Restart=on-failure',
        `ReadWritePaths=-${join(dir, 'etc', 'edge-metrics')}`,
        'WantedBy=multi-user.target',
      ]),
    );
    expect(steps(result.stdout)).toEqual([
      `+ install -d -m 0755 -o root ${join(dir, 'etc', 'edge-metrics')}`,
      '+ write /etc/systemd/system/edge-metrics-exporter.service (mode 0644)',
      '+ systemctl daemon-reload',
      '+ systemctl enable edge-metrics-exporter.service',
      '+ systemctl restart edge-metrics-exporter.service',
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('takes each value from EDGE_METRICS_<PLACEHOLDER> when no option gives it, and the option wins', () => {
    const result = script('install.sh', ['--dry-run', '--user', 'root', '--node', process.execPath], {
      EDGE_METRICS_USER: 'somebody-else',
      EDGE_METRICS_WORKING_DIRECTORY: repository,
      EDGE_METRICS_LOCAL_CONFIG_PATH: './config.yaml',
      EDGE_METRICS_CONFIG_SERVER_URL: '',
      EDGE_METRICS_SUPPLEMENTARY_GROUPS: '',
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { unit } = printedUnit(result.stdout);
    expect(unit).toContain('\nUser=root\n');
    expect(unit).toContain('\nSupplementaryGroups=\n');
    // '' is no config server: the exporter runs standalone. The default timeout is 5 s.
    expect(unit).toContain('\nEnvironment=CONFIG_SERVER_URL=\nEnvironment=CONFIG_TIMEOUT=5\n');
    // A relative config path is relative to the working directory.
    expect(unit).toContain(`\nEnvironment=LOCAL_CONFIG_PATH=${repository}/config.yaml\n`);
    expect(unit).toContain(`\nReadWritePaths=-${repository}\n`);
  });

  test('escapes % in values, which systemd would read as a specifier', () => {
    const args = flags();
    args[args.indexOf('http://config.example.org:8080')] = 'http://proxy.example.org/edge%20metrics';
    const result = script('install.sh', ['--dry-run', ...args]);
    expect(printedUnit(result.stdout).unit).toContain('\nEnvironment=CONFIG_SERVER_URL=http://proxy.example.org/edge%%20metrics\n');
  });

  test('refuses to run with placeholders left unfilled, naming each and how to fill it', () => {
    const result = script('install.sh', ['--dry-run', '--node', process.execPath, '--working-directory', repository]);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        'install.sh: edge-metrics-exporter.service has placeholders left unfilled:',
        '  {{CONFIG_SERVER_URL}}: give --config-server-url or EDGE_METRICS_CONFIG_SERVER_URL',
        '  {{LOCAL_CONFIG_PATH}}: give --local-config-path or EDGE_METRICS_LOCAL_CONFIG_PATH',
        '  {{USER}}: give --user or EDGE_METRICS_USER',
        '',
      ].join('\n'),
    });
  });

  test.each([
    ['--config-server-url', 'http://a.example.org\nExecStartPre=/bin/rm -rf /', "{{CONFIG_SERVER_URL}} must be an http:// or https:// URL, or '' for none"],
    ['--config-server-url', 'config.example.org:8080', "{{CONFIG_SERVER_URL}} must be an http:// or https:// URL, or '' for none, not 'config.example.org:8080'"],
    ['--working-directory', 'opt/edge-metrics', "{{WORKING_DIRECTORY}} must be an absolute path without spaces, not 'opt/edge-metrics'"],
    ['--user', 'edge$USER', "{{USER}} must be a user name, not 'edge$USER'"],
    ['--config-timeout', '0', '{{CONFIG_TIMEOUT}} must be above 0'],
    ['--config-timeout', 'soon', "{{CONFIG_TIMEOUT}} must be a number of seconds, not 'soon'"],
  ])('refuses %s %j', (option, given, message) => {
    const args = flags();
    args[args.indexOf(option) + 1] = given;
    const result = script('install.sh', ['--dry-run', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`install.sh: ${message}`);
    expect(result.stdout).toBe('');
  });

  test('refuses a user that does not exist, and a working directory without the exporter', () => {
    const args = flags();
    args[args.indexOf('--user') + 1] = 'no-such-user-here';
    expect(script('install.sh', ['--dry-run', ...args]).stderr).toBe(
      "install.sh: the user 'no-such-user-here' does not exist: create it (useradd --system --no-create-home --shell /usr/sbin/nologin no-such-user-here) or give --user root\n",
    );
    const elsewhere = flags();
    elsewhere[elsewhere.indexOf('--working-directory') + 1] = dir;
    expect(script('install.sh', ['--dry-run', ...elsewhere])).toMatchObject({
      code: 1,
      stderr: `install.sh: ${dir}/node_modules/@edge-metrics/core/dist/cli.js does not exist: install the packages in ${dir} first (see deploy/README.md), or give --working-directory the folder that holds them\n`,
    });
  });

  test("warns when the config's folder belongs to another user than the exporter's, who could not write there", () => {
    const args = flags();
    args[args.indexOf('--user') + 1] = 'nobody';
    args[args.indexOf('--local-config-path') + 1] = join(dir, 'config.yaml');
    const result = script('install.sh', ['--dry-run', ...args]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^install\\.sh: warning: ${dir} belongs to \\S+, so the exporter \\(user nobody\\) cannot save its config there: sudo chown -R nobody ${dir}\n$`));
  });

  test('with --root, shows the steps into that root and changes nothing there', () => {
    const result = script('install.sh', ['--dry-run', '--root', dir, ...flags()]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(printedUnit(result.stdout).destination).toBe(`${dir}/etc/systemd/system/edge-metrics-exporter.service`);
    expect(steps(result.stdout)).toEqual([
      `+ install -d -m 0755 ${dir}${join(dir, 'etc', 'edge-metrics')}`,
      `+ install -d -m 0755 ${dir}/etc/systemd/system`,
      `+ write ${dir}/etc/systemd/system/edge-metrics-exporter.service (mode 0644)`,
      `+ systemctl --root=${dir} enable edge-metrics-exporter.service`,
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an unknown option or service is a usage error', () => {
    expect(script('install.sh', ['--colour', 'blue'])).toMatchObject({ code: 2, stderr: "install.sh: unknown option '--colour' (see --help)\n" });
    expect(script('install.sh', ['prometheus'])).toMatchObject({ code: 2, stderr: "install.sh: unknown service 'prometheus': exporter or config-server (see --help)\n" });
  });
});

describe('install.sh config-server --dry-run', () => {
  test('prints the config server unit with its port', () => {
    const result = script('install.sh', ['config-server', '--dry-run', '--working-directory', repository, '--port', '8088', '--node', process.execPath]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { destination, unit } = printedUnit(result.stdout);
    expect(destination).toBe('/etc/systemd/system/edge-metrics-config-server.service');
    expect(unit).not.toContain('{{');
    expect(unit).toContain(
      `\nExecStart=${process.execPath} ${repository}/node_modules/@edge-metrics/config-server/dist/cli.js --port 8088 --db /var/lib/edge-metrics-config-server/config-server.db\n`,
    );
    expect(unit).toContain('\nDynamicUser=yes\n');
    expect(steps(result.stdout)).toEqual([
      '+ write /etc/systemd/system/edge-metrics-config-server.service (mode 0644)',
      '+ systemctl daemon-reload',
      '+ systemctl enable edge-metrics-config-server.service',
      '+ systemctl restart edge-metrics-config-server.service',
    ]);
  });

  test('puts a postgres:// URL in --db for replicas sharing one database, and refuses one with a password', () => {
    const base = ['config-server', '--dry-run', '--working-directory', repository, '--node', process.execPath];
    const shared = script('install.sh', [...base, '--db', 'postgres://ecs@db.example.org:5432/edge_metrics']);
    expect(shared).toMatchObject({ code: 0, stderr: '' });
    expect(printedUnit(shared.stdout).unit).toContain(' --port 8080 --db postgres://ecs@db.example.org:5432/edge_metrics\n');
    expect(script('install.sh', [...base, '--db', 'postgres://ecs:secret@db.example.org/edge_metrics'])).toMatchObject({
      code: 2,
      stderr:
        "install.sh: {{DB}} must be an absolute path, or a postgres:// URL without a password (put PGPASSWORD in the environment file), not 'postgres://ecs:secret@db.example.org/edge_metrics'\n",
    });
  });

  test('refuses a port out of range', () => {
    expect(script('install.sh', ['config-server', '--dry-run', '--working-directory', repository, '--port', '70000'])).toMatchObject({
      code: 2,
      stderr: "install.sh: {{PORT}} must be 1 to 65535, not '70000'\n",
    });
  });
});

describe('uninstall.sh --dry-run', () => {
  test('shows the steps and what it leaves in place, and changes nothing', async () => {
    const unitFile = join(dir, 'etc', 'systemd', 'system', 'edge-metrics-exporter.service');
    await mkdir(join(dir, 'etc', 'systemd', 'system'), { recursive: true });
    await writeFile(unitFile, '[Service]\nEnvironment=LOCAL_CONFIG_PATH=/etc/edge-metrics/config.yaml\n');
    const result = script('uninstall.sh', ['--dry-run', '--root', dir]);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'uninstall.sh: dry run, nothing is changed',
        `+ systemctl --root=${dir} disable edge-metrics-exporter.service`,
        `+ rm -f ${unitFile}`,
        'left in place: the config /etc/edge-metrics/config.yaml',
        '',
      ].join('\n'),
    });
    expect(existsSync(unitFile)).toBe(true);
  });

  test('a service that is not installed is nothing to do', () => {
    expect(script('uninstall.sh', ['config-server', '--dry-run', '--root', dir])).toEqual({
      code: 0,
      stderr: '',
      stdout: `edge-metrics-config-server.service is not installed (no ${dir}/etc/systemd/system/edge-metrics-config-server.service): nothing to do\n`,
    });
  });
});
