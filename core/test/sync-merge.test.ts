import { mergePending, shareable, withLocalOnly } from '../src/sync/merge';

describe('merging changes made on the device into the server config', () => {
  const base = { a: false, b: false, c: true };
  const server = { device_type: 'jetson_orin', metrics: { a: false, b: true, c: true } }; // b changed on the server
  const serverStoredAt = 2_000;

  test('changes to different keys on both sides all survive', () => {
    expect(mergePending(server, serverStoredAt, base, { a: { value: true, at: 1_000 } }).metrics).toEqual({ a: true, b: true, c: true });
  });

  test('for the same key, the later change wins', () => {
    expect(mergePending(server, serverStoredAt, base, { b: { value: false, at: 1_000 } }).metrics).toEqual(server.metrics);
    expect(mergePending(server, serverStoredAt, base, { b: { value: false, at: 3_000 } }).metrics).toEqual({ a: false, b: false, c: true });
  });

  test('a discovered metric takes the value the server holds for it, even when discovered after the server changed it', () => {
    const discovered = { b: { value: false, at: 3_000, discovered: true as const }, d: { value: false, at: 3_000, discovered: true as const } };
    expect(mergePending(server, serverStoredAt, base, discovered).metrics).toEqual({ a: false, b: true, c: true, d: false });
  });

  test('a key the server did not change takes the device value, whenever it was made', () => {
    expect(mergePending(server, serverStoredAt, base, { c: { value: false, at: 1 } }).metrics).toEqual({ a: false, b: true, c: false });
  });

  test('a metric new to both sides is added; keys other than metrics are the server’s', () => {
    const merged = mergePending(server, serverStoredAt, undefined, { d: { value: true, at: 1 } });
    expect(merged).toEqual({ device_type: 'jetson_orin', metrics: { a: false, b: true, c: true, d: true } });
  });

  test('secrets and server settings never leave the device, and stay on it', () => {
    const local = { device_type: 'x', management_token: 't', config_server: { url: 'http://s', token: 'k' } };
    expect(shareable(local)).toEqual({ device_type: 'x' });
    expect(withLocalOnly({ device_type: 'y', management_token: 'from-server' }, local)).toEqual({
      device_type: 'y',
      management_token: 't',
      config_server: { url: 'http://s', token: 'k' },
    });
  });

  test("the device's id is its own: not sent to the server, and a server's version cannot change it", () => {
    const local = { device_type: 'x', device_id: 'edge-01' };
    expect(shareable(local)).toEqual({ device_type: 'x' });
    expect(withLocalOnly({ device_type: 'y', device_id: 'edge-02' }, local)).toEqual({ device_type: 'y', device_id: 'edge-01' });
  });

  test('remote_write receivers and their credentials never leave the device, and a server version cannot replace them', () => {
    const receivers = [{ url: 'https://vm.example/api/v1/write', bearer_token: 'secret' }];
    expect(shareable({ device_type: 'x', remote_write: receivers })).toEqual({ device_type: 'x' });
    expect(withLocalOnly({ device_type: 'y', remote_write: [{ url: 'https://elsewhere/' }] }, { remote_write: receivers })).toEqual({ device_type: 'y', remote_write: receivers });
  });
});
