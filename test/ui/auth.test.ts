/**
 * The dashboard's door: the token traded once for a cookie (HttpOnly,
 * SameSite=Strict, Secure behind TLS, bound to the token so a rotation logs the
 * page out), a wrong token refused, state-changing calls refused from another
 * origin or none, the Host guard, and a Content-Security-Policy without inline
 * script. A real supervisor; the browser where only a browser shows it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, until } from '../helpers/server';
import { cliEnv, runCli } from '../cli/cli';
import { finish, portOf, rawSocket, request, startSecurityServer, statusOf } from '../security/support';
import { type Browser, launchBrowser, login } from './support';

const UI_WAIT_MS = 20_000;

let server: RunningServer;
let browser: Browser;
let origin: string;
let firstToken: string;

beforeAll(async () => {
  // AUTH_TOKEN empty: the token is generated into STATE_DIR/token, so it can be rotated.
  server = await startSecurityServer({ AUTH_TOKEN: '' });
  server.token = fs.readFileSync(path.join(server.dirs.stateDir, 'token'), 'utf8').trim();
  firstToken = server.token;
  origin = `http://127.0.0.1:${portOf(server)}`;
  browser = await launchBrowser(server.dirs.base);
});

afterAll(async () => {
  await browser?.close();
  // STATE_DIR/token holds the current token by design; neither token may be anywhere else.
  await finish(server, [], { tokens: [firstToken, server.token], tokenFileExpected: true });
});

function loginRequest(token: string, headers: Record<string, string> = {}) {
  return request(server, {
    method: 'POST',
    path: '/ui/api/login',
    headers: { 'content-type': 'application/json', origin, ...headers },
    body: JSON.stringify({ token }),
  });
}

/** A login's credentials as the page sends them: the cookie and the key from the login reply. */
async function cookie(): Promise<Record<string, string>> {
  const res = await loginRequest(server.token);
  expect(res.status).toBe(200);
  expect(typeof res.json?.key).toBe('string');
  return { cookie: String(res.headers['set-cookie']![0]).split(';')[0], 'x-agentvisor-ui': String(res.json?.key) };
}

test('a wrong token is refused, in the page and by the API, and sets no cookie', async () => {
  const { page, context } = browser;
  await page.goto(`${server.url}/ui`);
  await page.fill('#token', 'not-the-token-0123456789');
  await page.click('button[type=submit]');
  await page.getByRole('alert').filter({ hasText: 'wrong token' }).waitFor({ timeout: UI_WAIT_MS });
  expect(await context.cookies()).toEqual([]);
  const res = await loginRequest('not-the-token-0123456789');
  expect(res.status).toBe(401);
  expect(res.headers['set-cookie']).toBeUndefined();
  expect((await request(server, { path: '/ui/api/sessions' })).status).toBe(401);
  expect((await request(server, { path: '/ui/api/events' })).status).toBe(401);
});

test("the cookie's flags: HttpOnly, SameSite=Strict, scoped to /ui; Secure when the page came over TLS", async () => {
  const { page, context } = browser;
  await login(page, server.url, server.token);
  const [c] = await context.cookies();
  expect({ httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path, secure: c.secure }).toEqual({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false });
  expect(c.value).not.toContain(server.token);
  // Behind a TLS proxy the page's Origin is https: the cookie is then Secure.
  const tls = await loginRequest(server.token, { origin: `https://127.0.0.1:${portOf(server)}` });
  expect(tls.status).toBe(200);
  expect(String(tls.headers['set-cookie']![0]).split('; ')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/ui', 'Secure']));
  // The bearer token is not a way into the dashboard's API, nor the cookie into MCP.
  expect((await request(server, { path: '/ui/api/sessions', headers: { authorization: `Bearer ${server.token}` } })).status).toBe(401);
  expect((await request(server, { path: '/mcp', method: 'GET', headers: await cookie() })).status).toBe(401);
});

test('a cross-origin (or origin-less) state-changing call is refused, even with a valid cookie', async () => {
  const c = await cookie();
  const start = (headers: Record<string, string>) =>
    request(server, {
      method: 'POST',
      path: '/ui/api/sessions',
      headers: { ...c, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ agent: 'claude-code', cwd: 'evil', task: 'hello' }),
    });
  expect((await start({ origin: 'http://evil.example' })).status).toBe(403);
  expect((await start({})).status).toBe(403);
  // A form post (no JSON) from our own origin is refused too: only the page's fetch calls change state.
  const form = await request(server, { method: 'POST', path: '/ui/api/sessions', headers: { ...c, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'agent=codex' });
  expect(form.status).toBe(415);
  expect((await loginRequest(server.token, { origin: 'http://evil.example' })).status).toBe(403);
  expect(fs.existsSync(path.join(server.dirs.workspace, 'evil'))).toBe(false);
  // A foreign Host (DNS rebinding) never reaches the page.
  expect((await request(server, { path: '/ui', headers: { host: 'evil.example' } })).status).toBe(403);
});

test("a page on another port of this host gets the cookie, but the cookie alone opens nothing: replayed without the page's key it is refused", async () => {
  const { page, context } = browser;
  await context.clearCookies();
  await login(page, server.url, server.token);
  // What a page an agent serves on localhost:3000 receives: the browser's cookie (cookies ignore ports).
  const [c] = await context.cookies();
  const stolen = `${c.name}=${c.value}`;
  const replay = (p: string, headers: Record<string, string> = {}) => request(server, { path: p, headers: { cookie: stolen, origin, ...headers } });
  expect((await replay('/ui/api/sessions')).status).toBe(401);
  expect((await replay('/ui/api/events')).status).toBe(401);
  expect((await replay('/ui/api/sessions', { 'x-agentvisor-ui': 'guessed-key' })).status).toBe(401);
  const start = await request(server, {
    method: 'POST',
    path: '/ui/api/sessions',
    headers: { cookie: stolen, origin, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'claude-code', cwd: 'replayed', task: 'hello' }),
  });
  expect(start.status).toBe(401);
  expect(fs.existsSync(path.join(server.dirs.workspace, 'replayed'))).toBe(false);
  // The key goes in a URL for the feed only (EventSource cannot send headers), never for the other calls.
  const own = await cookie();
  const k = encodeURIComponent(own['x-agentvisor-ui']);
  expect((await request(server, { path: `/ui/api/sessions?k=${k}`, headers: { cookie: own.cookie } })).status).toBe(401);
  // The page itself, holding the key in its own sessionStorage, still works.
  await page.reload();
  await page.waitForSelector('.list-head', { timeout: UI_WAIT_MS });
});

test('the page is served with a Content-Security-Policy that allows no inline script', async () => {
  const res = await request(server, { path: '/ui' });
  expect(res.status).toBe(200);
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(res.headers['x-frame-options']).toBe('DENY');
});

test('agentvisor token --rotate logs the page out: its live feed ends and the cookie stops working', async () => {
  const { page, context } = browser;
  await context.clearCookies();
  await login(page, server.url, server.token);
  const old = await cookie();
  expect((await request(server, { path: '/ui/api/sessions', headers: old })).status).toBe(200);
  const rotated = await request(server, { method: 'POST', path: '/admin/token/rotate', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: '{}' });
  expect(rotated.status).toBe(200);
  server.token = fs.readFileSync(path.join(server.dirs.stateDir, 'token'), 'utf8').trim();
  expect((await request(server, { path: '/ui/api/sessions', headers: old })).status).toBe(401);
  // The open page is told by its feed, without a reload or a click.
  await page.locator('#token').waitFor({ timeout: UI_WAIT_MS });
  await login(page, server.url, server.token);
  await until(async () => (await page.locator('.list-head').count()) === 1, UI_WAIT_MS, 'logged in with the new token');
});

test('agentvisor ui prints the URL of the page, and no token', async () => {
  const r = await runCli(['ui'], cliEnv(server.dirs), server.dirs.base);
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `${origin}/ui\n`, stderr: '' });
  const page = await request(server, { path: new URL(r.stdout.trim()).pathname });
  expect(page.status).toBe(200);
  expect(page.text).toContain('/ui/static/app.js');
});

test('hostile dashboard calls get a clear error and change nothing; the server keeps serving', async () => {
  const c = await cookie();
  const post = (p: string, body: string, headers: Record<string, string> = {}) =>
    request(server, { method: 'POST', path: p, headers: { ...c, origin, 'content-type': 'application/json', ...headers }, body });
  const cases: Array<[string, string, number]> = [
    ['/ui/api/sessions', '{not json', 400],
    ['/ui/api/sessions', JSON.stringify({ agent: 'claude-code', cwd: '../../etc', task: 'x' }), 400],
    ['/ui/api/sessions', JSON.stringify({ agent: 'sh', cwd: 'a', task: 'x' }), 400],
    ['/ui/api/sessions', JSON.stringify({ agent: 'claude-code', cwd: 'a', task: 'x', model: '$(id)' }), 400],
    ['/ui/api/sessions', JSON.stringify({ agent: 'claude-code', cwd: 'a', task: 'x', extra: 1 }), 400],
    ['/ui/api/sessions', JSON.stringify({ agent: 'claude-code', cwd: 'a', task: 'x'.repeat(2_000_000) }), 413],
    ['/ui/api/sessions/not-an-id/kill', '{}', 400],
    ['/ui/api/sessions/00000000-0000-4000-8000-000000000000/kill', '{}', 400],
    ['/ui/api/sessions/00000000-0000-4000-8000-000000000000/approvals/ap_1', JSON.stringify({ decision: 'allow' }), 400],
    ['/ui/api/sessions/00000000-0000-4000-8000-000000000000/approvals/ap_1', JSON.stringify({ decision: 'yes please' }), 400],
    ['/ui/api/sessions/00000000-0000-4000-8000-000000000000/send', JSON.stringify({}), 400],
    ['/ui/api/login', JSON.stringify({ token: { $ne: null } }), 401],
  ];
  for (const [p, body, status] of cases) {
    const res = await post(p, body);
    expect({ p, body: body.slice(0, 80), status: res.status }).toEqual({ p, body: body.slice(0, 80), status });
    expect(typeof res.json?.message === 'string' || typeof res.json?.error === 'object').toBe(true);
  }
  expect((await request(server, { path: '/ui/api/sessions/00000000-0000-4000-8000-000000000000/output?since=-1', headers: c })).status).toBe(400);
  // Only the page's own files: a path out of the static folder or past the vendor list is refused.
  for (const p of ['/ui/vendor/..%2F..%2Fpackage.json', '/ui/static/..%2F..%2Fconfig.js', '/ui/static/../uiAuth.js', '/ui/vendor/express.js']) {
    const res = await request(server, { path: p });
    expect({ p, refused: [403, 404].includes(res.status), leaked: /createHmac|"dependencies"/.test(res.text) }).toEqual({ p, refused: true, leaked: false });
  }
  expect(fs.readdirSync(server.dirs.workspace)).toEqual([]);
  expect((await request(server, { path: '/ui/api/sessions', headers: c })).status).toBe(200);
});

test('a login or API body declared larger than its limit is refused at once (413, its own limit named), the body never read', async () => {
  const c = await cookie();
  const huge = (p: string, extra: string) =>
    rawSocket(server, `POST ${p} HTTP/1.1\r\nHost: 127.0.0.1:${portOf(server)}\r\nOrigin: ${origin}\r\nContent-Type: application/json\r\n${extra}Content-Length: 5000000000\r\n\r\n{`);
  const login = await huge('/ui/api/login', '');
  expect(statusOf(login)).toBe(413);
  expect(login).toMatch(/connection: close/i);
  expect(login).toContain('login body larger than 4kb');
  const start = await huge('/ui/api/sessions', `Cookie: ${c.cookie}\r\nX-Agentvisor-UI: ${c['x-agentvisor-ui']}\r\n`);
  expect(statusOf(start)).toBe(413);
  expect(start).toContain('request body larger than 512kb');
  // Without the cookie and key the size is not even looked at: 401 first.
  expect(statusOf(await huge('/ui/api/sessions', ''))).toBe(401);
});

test('Log out clears the cookie and shows the login again', async () => {
  const { page, context } = browser;
  await context.clearCookies();
  await login(page, server.url, server.token);
  expect(await context.cookies()).toHaveLength(1);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#token').waitFor({ timeout: UI_WAIT_MS });
  expect(await context.cookies()).toEqual([]);
  await page.reload();
  await page.locator('#token').waitFor({ timeout: UI_WAIT_MS });
});
