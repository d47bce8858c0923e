import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts `server` on `host`:`port` and resolves with the address bound (port 0 picks a free one). A failure rejects
 * with what `failure` makes of it; `inUse` is true when another program holds the port (EADDRINUSE), so that
 * each program can name the setting to change.
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  failure: (inUse: boolean, error: NodeJS.ErrnoException) => Error,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(failure(error.code === 'EADDRINUSE', error));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
