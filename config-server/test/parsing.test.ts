import { parseCliArgs } from '../src/cli-args';
import { deviceIdProblem } from '../src/device-id';
import { ConfigServerError } from '../src/errors';
import { ifMatchHolds, noneMatchHits } from '../src/etag';
import { parseDeviceTokens } from '../src/tokens';

function thrownBy(action: () => unknown): ConfigServerError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigServerError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('parseCliArgs', () => {
  it('applies the defaults', () => {
    expect(parseCliArgs([])).toEqual({
      kind: 'run',
      options: { port: 8080, host: '0.0.0.0', dbPath: './config-server.db', deviceTokensFile: undefined, sessionTtlSeconds: 43_200, offlineAfterSeconds: 180 },
    });
  });

  it('reads every option', () => {
    expect(
      parseCliArgs([
        ...['--port', '9000', '--listen', '::1', '--db', '/var/lib/ecs/fleet.db', '--device-tokens', '/etc/ecs/tokens'],
        ...['--session-ttl', '30m', '--offline-after', '90', '--prometheus-url', 'http://prom:9090/', '--grafana-url', 'https://grafana.example.org'],
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        port: 9000,
        host: '::1',
        dbPath: '/var/lib/ecs/fleet.db',
        deviceTokensFile: '/etc/ecs/tokens',
        sessionTtlSeconds: 1800,
        offlineAfterSeconds: 90,
        prometheusUrl: 'http://prom:9090',
        grafanaUrl: 'https://grafana.example.org',
      },
    });
    expect(parseCliArgs(['--session-ttl', '7d'])).toMatchObject({ options: { sessionTtlSeconds: 604_800 } });
    expect(parseCliArgs(['--listen', 'config.example.org']).kind).toBe('run');
    expect(parseCliArgs(['-h', '--port', 'x'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['--version'])).toEqual({ kind: 'version' });
  });

  it('takes the database from DATABASE_URL when --db is not given, --db first', () => {
    const env = { DATABASE_URL: 'postgres://ecs@db.example.org/fleet' };
    expect(parseCliArgs([], env)).toMatchObject({ options: { dbPath: 'postgres://ecs@db.example.org/fleet' } });
    expect(parseCliArgs(['--db', '/var/lib/ecs/fleet.db'], env)).toMatchObject({ options: { dbPath: '/var/lib/ecs/fleet.db' } });
    expect(thrownBy(() => parseCliArgs([], { DATABASE_URL: '' })).message).toBe('DATABASE_URL needs a file name or a postgres:// URL');
  });

  it('reads migrate --from DB --to DB, and refuses it incomplete', () => {
    expect(parseCliArgs(['migrate', '--from', 'fleet.db', '--to', 'postgres://ecs@db/fleet'])).toEqual({ kind: 'migrate', from: 'fleet.db', to: 'postgres://ecs@db/fleet' });
    expect(thrownBy(() => parseCliArgs(['migrate', '--from', 'fleet.db'])).message).toBe('migrate needs --from DB and --to DB');
    expect(thrownBy(() => parseCliArgs(['migrate', '--from', 'a.db', '--to', 'a.db'])).message).toBe('migrate: --from and --to name the same database');
    expect(thrownBy(() => parseCliArgs(['migrate', '--port', '1'])).message).toBe("migrate: Unknown option '--port'");
  });

  it('refuses malformed values as usage errors', () => {
    for (const args of [['--port', '-1'], ['--port', '1.5'], ['--port', '123456'], ['--listen', 'a b'], ['--device-tokens', ' ']]) {
      expect([args, thrownBy(() => parseCliArgs(args)).code]).toEqual([args, 'ECS_USAGE']);
    }
    expect(thrownBy(() => parseCliArgs(['--session-ttl', '12'])).message).toBe('--session-ttl must be a duration from 1m to 30d such as 30m, 12h or 7d, not "12"');
    expect(thrownBy(() => parseCliArgs(['--session-ttl', '10s'])).message).toContain('--session-ttl must be a duration from 1m to 30d');
    expect(thrownBy(() => parseCliArgs(['--session-ttl', '31d'])).message).toContain('--session-ttl must be a duration from 1m to 30d');
    expect(thrownBy(() => parseCliArgs(['--offline-after', '0'])).message).toBe('--offline-after must be a whole number of seconds from 1, not "0"');
    expect(thrownBy(() => parseCliArgs(['--offline-after', '3m'])).message).toBe('--offline-after must be a whole number of seconds from 1, not "3m"');
    expect(thrownBy(() => parseCliArgs(['--prometheus-url', 'prom:9090'])).message).toBe('--prometheus-url must be an http:// or https:// URL, not "prom:9090"');
    expect(thrownBy(() => parseCliArgs(['--grafana-url', 'ftp://grafana'])).message).toBe('--grafana-url must be an http:// or https:// URL, not "ftp://grafana"');
  });
});

describe('parseDeviceTokens', () => {
  it('reads a file with comments, blank lines, spaces and tokens holding "="', () => {
    const text = '# fleet tokens\n\nedge-01 = c2VjcmV0LW9uZQ==\n  pi-07=tok7\n';
    expect([...parseDeviceTokens(text, '/etc/tokens', '\n')]).toEqual([
      ['edge-01', 'c2VjcmV0LW9uZQ=='],
      ['pi-07', 'tok7'],
    ]);
  });

  it('reads the comma-separated form of the environment', () => {
    expect([...parseDeviceTokens('edge-01=t1, edge-02=t2,', 'ENV', ',')]).toEqual([
      ['edge-01', 't1'],
      ['edge-02', 't2'],
    ]);
  });

  it.each([
    ['edge-01 secret-one', '/etc/tokens:1: expected device_id=token'],
    ['# ok\nedge 01=secret-one', `/etc/tokens:2: device id "edge 01" is not valid: use 1 to 64 letters, digits, '.', '_' or '-'`],
    ['edge-01=', '/etc/tokens:1: the token of edge-01 is empty'],
    ['edge-01=secret-one\nedge-01=secret-two', '/etc/tokens:2: edge-01 is listed twice'],
  ])('names the line and never the token for %j', (text, message) => {
    const error = thrownBy(() => parseDeviceTokens(text, '/etc/tokens', '\n'));
    expect(error.code).toBe('ECS_TOKENS_INVALID');
    expect(error.message).toBe(message);
  });
});

describe('entity tag conditions', () => {
  it.each([
    ['"3"', 3, true, true],
    ['"2"', 3, false, false],
    ['W/"3"', 3, true, false],
    ['"1", "3"', 3, true, true],
    ['*', 3, true, true],
    ['*', undefined, false, false],
    ['"3"', undefined, false, false],
  ])('%s against version %s: If-None-Match hits %s, If-Match holds %s', (header, version, hits, holds) => {
    expect(noneMatchHits(header, version)).toBe(hits);
    expect(ifMatchHolds(header, version)).toBe(holds);
  });

  it.each(['3', '"3', 'W/3', '"3",', "'3'"])('refuses the malformed header %s', (header) => {
    expect(() => noneMatchHits(header, 3)).toThrow(/If-None-Match must be '\*' or entity tags/);
    expect(() => ifMatchHolds(header, undefined)).toThrow(/If-Match must be '\*' or entity tags/);
  });
});

describe('deviceIdProblem', () => {
  it.each(['edge-01', 'Jetson_Orin.lab', '.x', 'x'.repeat(64)])('accepts %s', (id) => {
    expect(deviceIdProblem(id)).toBeUndefined();
  });

  it.each(['', '.', '..', '../x', 'a/b', 'édge', 'x'.repeat(65), 'edge 01', 'a\u0000b'])('refuses %j', (id) => {
    expect(deviceIdProblem(id)).toMatch(/^device id ".*" is (not valid|not allowed)/);
  });
});
