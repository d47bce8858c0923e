/**
 * A mock Shelly on a real HTTP server (127.0.0.1, port 0) that answers with recorded device JSON, and checks
 * credentials the way the devices do: HTTP basic on Gen1, HTTP digest SHA-256 on Gen2+ (every path except
 * `/shelly`, which the devices leave open). Plus the two ways a plug can be dead: nothing listening, and a
 * socket that is accepted and never answered.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, 'fixtures');

/** The text of a fixture file, e.g. `fixture('gen1-plug', 'status.json')`. */
export function fixture(name: string, file: string): string {
  return readFileSync(join(FIXTURES, name, file), 'utf8');
}

/** The routes of a Gen1 device: the Plug S's `/shelly`, and `/status` from `statusCase`. */
export function gen1Routes(statusCase = 'gen1-plug'): Record<string, string> {
  return { '/shelly': fixture('gen1-plug-s', 'shelly.json'), '/status': fixture(statusCase, 'status.json') };
}

/** The routes of a Gen2+ device, both from the fixture `name`. */
export function gen2Routes(name: string): Record<string, string> {
  return { '/shelly': fixture(name, 'shelly.json'), '/rpc/Shelly.GetStatus': fixture(name, 'status.json') };
}

export interface MockAuth {
  scheme: 'basic' | 'digest';
  password: string;
  /** The digest realm; Shelly uses the device id, e.g. `shellyplusplugs-e86beaeaa000`. */
  realm?: string;
}

export interface MockShellyOptions {
  /** Path → body; change `routes` later to make the device answer something else. */
  routes: Record<string, string>;
  auth?: MockAuth;
  /** Answers only after this many ms (a slow plug). */
  delayMs?: number;
}

export class MockShelly {
  readonly routes: Map<string, string>;
  /** Every request as `METHOD path`, in order. */
  readonly requests: string[] = [];
  /** How many digest challenges (401 with a fresh nonce) the mock has sent. */
  challenges = 0;
  private readonly nonces = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly options: MockShellyOptions,
  ) {
    this.routes = new Map(Object.entries(options.routes));
  }

  static async start(options: MockShellyOptions): Promise<MockShelly> {
    const server = createServer();
    const mock = new MockShelly(server, options);
    server.on('request', (request, response) => mock.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return mock;
  }

  /** `127.0.0.1:port`, as a user writes `host:`. */
  get host(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('mock Shelly is not listening');
    return `127.0.0.1:${address.port}`;
  }

  count(path: string): number {
    return this.requests.filter((request) => request === `GET ${path}`).length;
  }

  /** Forgets every nonce it issued, as a rebooted device does. */
  forgetNonces(): void {
    this.nonces.clear();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '/';
    this.requests.push(`${request.method} ${path}`);
    const answer = (): void => {
      this.timers.delete(timer);
      if (path !== '/shelly' && !this.authorized(request, response)) return;
      const body = this.routes.get(path);
      if (body === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    };
    const timer = setTimeout(answer, this.options.delayMs ?? 0);
    this.timers.add(timer);
  }

  /** Checks the request's credentials; answers 401 (with a challenge) and returns false when they are wrong. */
  private authorized(request: IncomingMessage, response: ServerResponse): boolean {
    const auth = this.options.auth;
    if (!auth) return true;
    const header = request.headers.authorization ?? '';
    if (auth.scheme === 'basic') {
      if (header === `Basic ${Buffer.from(`admin:${auth.password}`).toString('base64')}`) return true;
      response.writeHead(401, { 'www-authenticate': 'Basic realm="shelly"' }).end('401 Unauthorized');
      return false;
    }
    const realm = auth.realm ?? 'shelly';
    if (this.digestValid(header, request.url ?? '', realm, auth.password)) return true;
    const nonce = randomBytes(4).toString('hex');
    this.nonces.set(nonce, 0);
    this.challenges += 1;
    response
      .writeHead(401, { 'www-authenticate': `Digest qop="auth", realm="${realm}", nonce="${nonce}", algorithm=SHA-256` })
      .end();
    return false;
  }

  /**
   * Recomputes the digest response as Shelly's authentication page describes it (HA1 = SHA256(user:realm:
   * password)) and RFC 7616 completes it, and accepts a nonce it issued only with a nonce count that goes up.
   */
  private digestValid(header: string, uri: string, realm: string, password: string): boolean {
    if (!header.startsWith('Digest ')) return false;
    const fields = Object.fromEntries(
      [...header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)].map(([, key, quoted, token]) => [key, quoted ?? token]),
    );
    const lastCount = this.nonces.get(fields.nonce ?? '');
    const count = Number.parseInt(fields.nc ?? '', 16);
    if (lastCount === undefined || !(count > lastCount)) return false;
    if (fields.username !== 'admin' || fields.realm !== realm || fields.uri !== uri) return false;
    if (fields.qop !== 'auth' || fields.algorithm !== 'SHA-256') return false;
    const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
    const ha1 = sha256(['admin', realm, password].join(':'));
    const ha2 = sha256(`GET:${uri}`);
    const expected = sha256(`${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:auth:${ha2}`);
    if (fields.response !== expected) return false;
    this.nonces.set(fields.nonce!, count);
    return true;
  }
}

/** A port on which nothing listens: connections are refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<{ host: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    host: `127.0.0.1:${address.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
