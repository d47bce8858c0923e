import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts `server` on `host`:`port` and resolves with the address bound (port 0 picks a free one). A failure rejects
 * with what `failure` makes of it; `inUse` is true when another program holds the port (EADDRINUSE), so that
 * each program can name the setting to change. Errors once listening (an accept failing with EMFILE) go to
 * `laterError`: an `error` event without a listener would end the process.
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  failure: (inUse: boolean, error: NodeJS.ErrnoException) => Error,
  laterError: (error: NodeJS.ErrnoException) => void,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(failure(error.code === 'EADDRINUSE', error));
    };
    const onListening = (): void => {
      server.off('error', onError);
      server.on('error', laterError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
