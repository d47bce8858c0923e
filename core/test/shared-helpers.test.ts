import { createServer } from 'node:http';
import { finishesWithin, listen, sameDigest, secretDigest, withTimeout } from '../src/plugin';

/** The helpers that core, the plugins and the config server share through `@edge-metrics/core/plugin`. */

const never = new Promise<never>(() => undefined);

describe('finishesWithin and withTimeout: one race against a timer', () => {
  test('work done in time: true, or its value', async () => {
    await expect(finishesWithin(Promise.resolve('x'), 1000)).resolves.toBe(true);
    await expect(withTimeout(Promise.resolve('x'), 1000, 'the read')).resolves.toBe('x');
  });

  test('work still running when the time runs out: false, or an error naming it', async () => {
    await expect(finishesWithin(never, 10)).resolves.toBe(false);
    await expect(withTimeout(never, 10, 'the read')).rejects.toThrow('the read did not finish within 10 ms');
  });

  test('work that fails in time rejects with its own error', async () => {
    await expect(finishesWithin(Promise.reject(new Error('bus gone')), 1000)).rejects.toThrow('bus gone');
    await expect(withTimeout(Promise.reject(new Error('bus gone')), 1000, 'the read')).rejects.toThrow('bus gone');
  });
});

test('secrets are compared by digest: equal only for the same secret, whatever the lengths', () => {
  expect(sameDigest(secretDigest('s3cret'), secretDigest('s3cret'))).toBe(true);
  expect(sameDigest(secretDigest('s3cret'), secretDigest('s3cre'))).toBe(false);
  expect(sameDigest(secretDigest(''), secretDigest('a much longer secret than the other one'))).toBe(false);
});

describe('listen', () => {
  const servers = [createServer(), createServer()];
  afterEach(async () => {
    await Promise.all(servers.filter((server) => server.listening).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  test('resolves with the bound port; an error once listening goes to laterError instead of ending the process', async () => {
    const [server] = servers;
    const later: string[] = [];
    const counts = () => [server!.listenerCount('error'), server!.listenerCount('listening')];
    const [errorsBefore, listeningBefore] = counts();
    const address = await listen(server!, 0, '127.0.0.1', () => new Error('unexpected'), (error) => later.push(String(error.code)));
    expect(address).toMatchObject({ address: '127.0.0.1', port: expect.any(Number) });
    expect(address.port).toBeGreaterThan(0);
    expect(counts()).toEqual([errorsBefore! + 1, listeningBefore]);
    server!.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
    expect(later).toEqual(['EMFILE']);
  });

  test('a port in use, and an address not on this machine, reject with what the caller makes of them', async () => {
    const [first, second] = servers;
    const { port } = await listen(first!, 0, '127.0.0.1', () => new Error('unexpected'), () => undefined);
    const explain = (inUse: boolean, error: NodeJS.ErrnoException) => new Error(`${inUse ? 'in use' : 'failed'}: ${error.code}`);
    await expect(listen(second!, port, '127.0.0.1', explain, () => undefined)).rejects.toThrow('in use: EADDRINUSE');
    // 192.0.2.1 is TEST-NET-1: documentation only, on no interface of this machine.
    await expect(listen(createServer(), 0, '192.0.2.1', explain, () => undefined)).rejects.toThrow('failed: EADDRNOTAVAIL');
  });
});
