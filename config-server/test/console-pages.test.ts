import { readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOTS, type ConsoleRoots } from '../src/console-assets';
import { CONSOLE_HEADERS } from '../src/console-routes';
import { cleanUp, request, startServer, tempDir, type Reply } from './helpers';

afterEach(cleanUp);

const ADMIN = 'admin-pages-0c6e2b8f41d7';
const SECRET = 'a file outside the console folders';
const INDEX = '<!doctype html><title>console</title><script type="module" src="assets/app.js"></script>';

/** Console folders in a temp dir, with a file beside them that must never be served. */
async function consoleRoots(): Promise<ConsoleRoots> {
  const dir = await tempDir();
  const roots: ConsoleRoots = { public: join(dir, 'public'), scripts: join(dir, 'scripts'), signIn: PACKAGE_ROOTS.signIn };
  await mkdir(roots.public);
  await mkdir(roots.scripts);
  await mkdir(join(roots.public, 'folder.css'));
  await writeFile(join(dir, 'secret.txt'), SECRET);
  await writeFile(join(roots.public, 'index.html'), INDEX);
  await writeFile(join(roots.public, 'app.css'), 'body { margin: 0 }');
  await writeFile(join(roots.public, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(roots.public, 'notes.md'), '# not served');
  await writeFile(join(roots.public, '.hidden.css'), 'hidden');
  await writeFile(join(roots.public, 'stale.js'), 'stale: the compiled code comes from the scripts folder');
  await symlink(join(dir, 'secret.txt'), join(roots.public, 'link.txt'));
  await writeFile(join(roots.scripts, 'app.js'), 'export const app = 1;');
  await writeFile(join(roots.scripts, 'app.js.map'), '{"version":3}');
  return roots;
}

async function consoleServer(options: Parameters<typeof startServer>[0] = {}) {
  return startServer({ adminToken: ADMIN, consoleRoots: await consoleRoots(), ...options });
}

async function adminCookie(base: string): Promise<string> {
  const reply = await request(base, '/ui/sign-in', { method: 'POST', body: `token=${ADMIN}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  return reply.headers['set-cookie']![0]!.split(';')[0]!;
}

function expectConsoleHeaders(what: string, reply: Reply): void {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) {
    expect([what, name, reply.headers[name.toLowerCase()]]).toEqual([what, name, value]);
  }
}

describe('GET /', () => {
  it('sends a browser to /ui/ and leaves other clients the 404 of before', async () => {
    const { base } = await consoleServer();
    const browser = await request(base, '/', { headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect([browser.status, browser.headers.location]).toEqual([302, '/ui/']);
    for (const accept of [undefined, '*/*', 'application/json']) {
      const reply = await request(base, '/', accept ? { headers: { Accept: accept } } : {});
      expect([accept, reply.status]).toEqual([accept, 401]);
    }
    const open = await consoleServer({ adminToken: undefined });
    expect((await request(open.base, '/', { headers: { Accept: '*/*' } })).status).toBe(404);
  });
});

describe('the sign-in page', () => {
  it('is public: a plain form without script or inline style, and its stylesheet', async () => {
    const { base } = await consoleServer();
    const page = await request(base, '/ui/sign-in');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<form method="post" action="/ui/sign-in">');
    expect(page.text).toContain('<input id="token" name="token" type="password"');
    expect(page.text).toContain('<label for="token">');
    expect(page.text).toContain('<link rel="stylesheet" href="/ui/sign-in.css">');
    expect(page.text).toContain('<p id="message" class="message" role="alert"></p>');
    expect(page.text).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    const css = await request(base, '/ui/sign-in.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.text).toContain('.message');
  });

  it('sends everyone to the console on an open server, which needs no sign-in', async () => {
    const { base } = await consoleServer({ adminToken: undefined });
    const page = await request(base, '/ui/sign-in', { headers: { Accept: 'text/html' } });
    expect([page.status, page.headers.location]).toEqual([303, '/ui/']);
    expect((await request(base, '/ui/')).text).toBe(INDEX);
    expect((await request(base, '/ui/session')).json()).toEqual({
      role: 'admin',
      device_id: null,
      csrf_token: null,
      expires_at: null,
      offline_after_s: 180,
      prometheus: false,
      grafana_url: null,
    });
  });
});

describe('the console without a session', () => {
  it('serves nothing but the sign-in page and its stylesheet: 401 to scripts, the sign-in page to a browser', async () => {
    const { base } = await consoleServer();
    for (const path of ['/ui/', '/ui', '/ui/index.html', '/ui/assets/app.js', '/ui/assets/app.css', '/ui/assets/logo.svg', '/ui/assets/missing.js', '/ui/session', '/ui/power', '/ui/nowhere']) {
      const script = await request(base, path);
      expect([path, script.status]).toEqual([path, 401]);
      expect([path, script.text.includes('<title>console') || script.text.includes('export const app')]).toEqual([path, false]);
      const browser = await request(base, path, { headers: { Accept: 'text/html' } });
      expect([path, browser.status, browser.headers.location]).toEqual([path, 303, '/ui/sign-in']);
    }
    expect((await request(base, '/ui/sign-out', { method: 'POST' })).status).toBe(401);
  });
});

describe('the console with a session', () => {
  it('serves the page at /ui/ and /ui/index.html, compiled code from the scripts folder and the rest from the public one', async () => {
    const { base } = await consoleServer();
    const headers = { Cookie: await adminCookie(base) };
    for (const path of ['/ui/', '/ui/index.html']) {
      const page = await request(base, path, { headers });
      expect([path, page.status, page.headers['content-type'], page.text]).toEqual([path, 200, 'text/html; charset=utf-8', INDEX]);
    }
    const bare = await request(base, '/ui', { headers });
    expect([bare.status, bare.headers.location]).toEqual([301, '/ui/']);
    for (const [path, type, body] of [
      ['/ui/assets/app.js', 'text/javascript; charset=utf-8', 'export const app = 1;'],
      ['/ui/assets/app.js.map', 'application/json; charset=utf-8', '{"version":3}'],
      ['/ui/assets/app.css', 'text/css; charset=utf-8', 'body { margin: 0 }'],
      ['/ui/assets/logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
    ]) {
      const asset = await request(base, path!, { headers });
      expect([path, asset.status, asset.headers['content-type'], asset.text]).toEqual([path, 200, type, body]);
    }
    expect((await request(base, '/ui/assets/stale.js', { headers })).status).toBe(404);
    expect((await request(base, '/ui/assets/app.js', { method: 'HEAD', headers })).status).toBe(200);
  });

  it('lists no folder, follows no link and no path out of its folders, and serves only known types', async () => {
    const { base } = await consoleServer();
    const headers = { Cookie: await adminCookie(base) };
    for (const path of [
      '/ui/assets/',
      '/ui/assets',
      '/ui/assets/folder.css',
      '/ui/assets/../secret.txt',
      '/ui/assets/..%2Fsecret.txt',
      '/ui/assets/%2e%2e%2fsecret.txt',
      '/ui/assets/%2E%2E/secret.txt',
      '/ui/assets/..%5Csecret.txt',
      '/ui/assets/..%2F..%2Fpublic%2Fapp.css',
      '/ui/assets/app.css%00.js',
      '/ui/assets/link.txt',
      '/ui/assets/.hidden.css',
      '/ui/assets/notes.md',
      '/ui/../ui/assets/../../secret.txt',
      '/ui/assets/%2fetc%2fpasswd',
    ]) {
      const reply = await request(base, path, { headers });
      expect([path, reply.status]).toEqual([path, expect.any(Number)]);
      expect([path, reply.status >= 400 && reply.status < 500]).toEqual([path, true]);
      expect([path, reply.text.includes(SECRET)]).toEqual([path, false]);
    }
  });

  it('puts the security headers and the CSP on every /ui answer, whatever its status', async () => {
    const { base } = await consoleServer();
    const cookie = await adminCookie(base);
    const answers: Array<[string, Promise<Reply>]> = [
      ['sign-in page', request(base, '/ui/sign-in')],
      ['sign-in stylesheet', request(base, '/ui/sign-in.css')],
      ['refused sign-in', request(base, '/ui/sign-in', { method: 'POST', body: 'token=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })],
      ['401', request(base, '/ui/session')],
      ['303 to sign-in', request(base, '/ui/', { headers: { Accept: 'text/html' } })],
      ['page', request(base, '/ui/', { headers: { Cookie: cookie } })],
      ['asset', request(base, '/ui/assets/app.js', { headers: { Cookie: cookie } })],
      ['session', request(base, '/ui/session', { headers: { Cookie: cookie } })],
      ['404', request(base, '/ui/assets/none.css', { headers: { Cookie: cookie } })],
      ['404 of an unknown path', request(base, '/ui/none', { headers: { Cookie: cookie } })],
      ['power without Prometheus', request(base, '/ui/power', { headers: { Cookie: cookie } })],
    ];
    for (const [what, reply] of answers) expectConsoleHeaders(what, await reply);
    expect((await request(base, '/ui/power', { headers: { Cookie: cookie } })).status).toBe(404);
  });

  it('names the Grafana device dashboard when --grafana-url is set', async () => {
    const { base } = await consoleServer({ grafanaUrl: 'https://grafana.example.org/', offlineAfterSeconds: 300 });
    const answer = (await request(base, '/ui/session', { headers: { Cookie: await adminCookie(base) } })).json();
    expect(answer).toMatchObject({ grafana_url: 'https://grafana.example.org/d/edge-metrics-device', offline_after_s: 300 });
    // The dashboard the link opens, and the variable a device link sets.
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'deploy', 'grafana', 'device.json'), 'utf8'));
    expect(dashboard.uid).toBe('edge-metrics-device');
    expect(dashboard.templating.list.map((variable: { name: string }) => variable.name)).toContain('hostname');
  });
});
