/**
 * /health and the DNS-rebinding guard: the detailed answer (sessions, agents,
 * connections) is for the token holder under a name we serve, so a page on
 * evil.example that rebinds its name to 127.0.0.1 cannot read it even from a
 * browser that somehow holds the token. The bare {"status":"ok"} stays open to
 * any Host: load balancers and process managers probe it by address.
 */
import type { RunningServer } from '../helpers/server';
import { bearer, finish, portOf, request, startSecurityServer } from './support';

let server: RunningServer;

beforeAll(async () => {
  server = await startSecurityServer();
});

afterAll(async () => {
  await finish(server);
});

test('/health with the token refuses a Host or Origin the server does not serve', async () => {
  for (const host of ['evil.example', `evil.example:${portOf(server)}`, 'localhost.evil.example']) {
    const res = await request(server, { path: '/health', headers: { ...bearer(server.token), host } });
    expect({ host, status: res.status, body: res.json }).toEqual({ host, status: 403, body: { error: 'forbidden', message: expect.stringContaining('Host header not allowed') } });
  }
  const foreignOrigin = await request(server, { path: '/health', headers: { ...bearer(server.token), origin: 'http://evil.example' } });
  expect(foreignOrigin.status).toBe(403);
  expect(foreignOrigin.json.message).toContain('Origin not allowed');
  expect(foreignOrigin.json.version).toBeUndefined();
});

test('/health with the token under a name we serve gives the details', async () => {
  for (const host of [`localhost:${portOf(server)}`, `127.0.0.1:${portOf(server)}`]) {
    const res = await request(server, { path: '/health', headers: { ...bearer(server.token), host } });
    expect({ host, status: res.status }).toEqual({ host, status: 200 });
    expect(res.json).toMatchObject({ status: 'ok', version: expect.any(String), sessions: expect.any(Object) });
  }
});

test('/health without the token answers {"status":"ok"} whatever the Host', async () => {
  const res = await request(server, { path: '/health', headers: { host: 'evil.example' } });
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ status: 'ok' });
});
