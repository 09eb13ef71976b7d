/**
 * Raw HTTP tools for the security tests: requests with any header (or none),
 * from any loopback source address, with any body; a bare-bones Streamable
 * HTTP MCP session and SSE stream that send exactly the bytes a test gives;
 * and the end-of-file checks every security test file runs (no process left,
 * the token in no log).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, leftovers, reapLeftovers, startServer, until } from '../helpers/server';

export const PROTOCOL_VERSION = '2025-06-18';

/** Started like every test server, plus: sessions end with the server (so no test leaves a worker behind). */
export function startSecurityServer(env: Record<string, string> = {}, extraStdio?: Array<'ignore' | number>, dirs?: Dirs): Promise<RunningServer> {
  return startServer({ env: { AGENTVISOR_KILL_SESSIONS_ON_EXIT: '1', KILL_GRACE: '1000', ...env }, extraStdio, dirs });
}

/**
 * Like startSecurityServer, but the server also inherits an open descriptor on
 * `markerFile` (as fd 5, without close-on-exec, the way a shell or process
 * manager can leave one open), to show it never reaches a worker's agents.
 */
export async function startServerInheritingFd(markerFile: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const marker = fs.openSync(markerFile, 'w');
  try {
    return await startSecurityServer(env, ['ignore', 'ignore', marker]);
  } finally {
    // The supervisor holds its own copy from spawn on; ours is not needed.
    fs.closeSync(marker);
  }
}

export function portOf(server: { url: string }): number {
  return Number(new URL(server.url).port);
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

export interface RawOptions {
  method?: string;
  path: string;
  /** Sent as given; `host` replaces the default Host header. Arrays send the header once per value. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  localAddress?: string;
  timeoutMs?: number;
  /** Read an event-stream body to its end (a POST's response stream) instead of returning at its headers. */
  readStream?: boolean;
}

/**
 * One HTTP request on its own connection. An event-stream response (an open SSE
 * stream) resolves at its headers and is closed, unless readStream.
 */
export function request(server: { url: string }, opts: RawOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: portOf(server),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
        localAddress: opts.localAddress,
        agent: false,
      },
      (res) => {
        const isStream = String(res.headers['content-type'] ?? '').includes('text/event-stream');
        if (isStream && !opts.readStream) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '', json: undefined });
          req.destroy();
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error(`${opts.method ?? 'GET'} ${opts.path} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Writes `text` on a bare TCP connection and returns whatever comes back before the server closes it (or the timeout). */
export function rawSocket(server: { url: string }, text: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(portOf(server), '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (out += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.write(text);
  });
}

export function statusOf(rawHttp: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(rawHttp);
  return m ? Number(m[1]) : 0;
}

/** JSON-RPC messages in a body that is either JSON or an event stream. */
export function messagesOf(res: RawResponse): any[] {
  if (res.json !== undefined) return Array.isArray(res.json) ? res.json : [res.json];
  const out: any[] = [];
  for (const event of res.text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (data) out.push(JSON.parse(data));
  }
  return out;
}

export const initializeBody = (id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'security-test', version: '1' } },
});

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The headers a Streamable HTTP POST needs. */
export function mcpPostHeaders(token: string, sessionId?: string): Record<string, string> {
  return {
    ...bearer(token),
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION } : {}),
  };
}

/** A Streamable HTTP session driven by hand: every body is sent exactly as given. */
export class RawMcp {
  private nextId = 100;

  private constructor(
    readonly server: RunningServer,
    readonly sessionId: string,
    private readonly localAddress?: string,
  ) {}

  static async open(server: RunningServer, localAddress?: string): Promise<RawMcp> {
    const res = await request(server, {
      method: 'POST',
      path: '/mcp',
      headers: mcpPostHeaders(server.token),
      body: JSON.stringify(initializeBody()),
      localAddress,
      readStream: true,
    });
    const sid = res.headers['mcp-session-id'];
    if (res.status !== 200 || typeof sid !== 'string') throw new Error(`initialize failed: ${res.status} ${res.text}`);
    const mcp = new RawMcp(server, sid, localAddress);
    const ack = await mcp.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status !== 202) throw new Error(`initialized notification failed: ${ack.status} ${ack.text}`);
    return mcp;
  }

  /** POSTs a body (an object is JSON-encoded; a string or Buffer goes as is) to this session. */
  post(body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    return request(this.server, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpPostHeaders(this.server.token, this.sessionId), ...headers },
      body: raw,
      localAddress: this.localAddress,
      readStream: true,
    });
  }

  /** A JSON-RPC request; resolves with its response message (result or error). */
  async request(method: string, params?: unknown): Promise<any> {
    const id = this.nextId++;
    const res = await this.post({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    const reply = messagesOf(res).find((m) => m.id === id);
    if (!reply) throw new Error(`no response to ${method}: ${res.status} ${res.text.slice(0, 500)}`);
    return reply;
  }

  /** tools/call with `args` sent verbatim as `arguments` (any JSON value). */
  callTool(name: string, args: unknown): Promise<any> {
    return this.request('tools/call', { name, arguments: args });
  }

  async close(): Promise<void> {
    await request(this.server, {
      method: 'DELETE',
      path: '/mcp',
      headers: { ...bearer(this.server.token), 'mcp-session-id': this.sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
    }).catch(() => undefined);
  }
}

/** The text a tools/call reply carries: the tool error's text, or the JSON-RPC error's message. */
export function errorText(reply: any): string | null {
  if (reply.error) return `${reply.error.code}: ${reply.error.message}`;
  if (reply.result?.isError) return reply.result.content?.[0]?.text ?? '';
  return null;
}

/** An SSE connection opened by hand, exposing its endpoint and every message event. */
export interface RawSse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  sessionId: string | null;
  messages: any[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  isEnded(): boolean;
  close(): void;
}

export function openSse(server: { url: string }, headers: Record<string, string>, localAddress?: string): Promise<RawSse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: portOf(server), method: 'GET', path: '/sse', headers: { accept: 'text/event-stream', ...headers }, localAddress, agent: false }, (res) => {
      let buf = '';
      let ended = false;
      let resolveEnded: () => void;
      const endedP = new Promise<void>((r) => (resolveEnded = r));
      const sse: RawSse = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        sessionId: null,
        messages: [],
        ended: endedP,
        isEnded: () => ended,
        close: () => req.destroy(),
      };
      const finish = () => {
        ended = true;
        resolveEnded();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      res.setEncoding('utf8');
      if (!String(res.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.on('data', (d: string) => (sse.body += d));
        res.on('end', () => resolve(sse));
        return;
      }
      res.on('data', (d: string) => {
        buf += d;
        let idx: number;
        while ((idx = buf.search(/\r?\n\r?\n/)) !== -1) {
          const event = buf.slice(0, idx);
          buf = buf.slice(idx).replace(/^\r?\n\r?\n/, '');
          const type = /^event: ?(.*)$/m.exec(event)?.[1];
          const data = event
            .split(/\r?\n/)
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (type === 'endpoint') {
            sse.sessionId = new URL(data, 'http://x').searchParams.get('sessionId');
            resolve(sse);
          } else if (data) {
            sse.messages.push(JSON.parse(data));
          }
        }
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('SSE open timed out')));
    req.on('error', (err) => {
      // A stream closed by the test itself after it resolved is not an error.
      if (!(err as NodeJS.ErrnoException).code?.startsWith('ECONNRESET')) reject(err);
    });
    req.end();
  });
}

/** A ping is answered at once; this only bounds a server that stopped answering. */
const SSE_BARRIER_MS = 5_000;

/**
 * A barrier on a hand-opened SSE session: posts a ping and waits for its reply on the stream. The
 * server answers a session's messages in order on one stream, so anything an earlier POST could have
 * caused there has arrived by then, and a check that it did not is exact.
 */
export async function sseBarrier(server: { url: string; token: string }, sse: RawSse): Promise<void> {
  const id = `barrier-${Math.random()}`;
  const res = await request(server, {
    method: 'POST',
    path: `/messages?sessionId=${encodeURIComponent(String(sse.sessionId))}`,
    headers: { ...bearer(server.token), 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }),
  });
  expect(res.status).toBe(202);
  await until(() => sse.messages.some((m) => m.id === id), SSE_BARRIER_MS, 'the barrier ping to be answered on the SSE stream');
}

/** Files under `dir` (recursively) whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

export interface LeakCheck {
  /** Tokens that must appear nowhere (default: the server's AUTH_TOKEN). */
  tokens?: string[];
  /** STATE_DIR/token holds a generated token by design; with AUTH_TOKEN there is no such file, so it is checked too. */
  tokenFileExpected?: boolean;
}

/** The supervisor log, every worker's log and stderr, and everything else in STATE_DIR: no token anywhere. */
export function expectTokenNowhere(server: RunningServer, check: LeakCheck = {}): void {
  const logs = path.join(server.dirs.stateDir, 'logs');
  expect(fs.readdirSync(logs).length).toBeGreaterThan(0);
  const tokenFile = path.join(server.dirs.stateDir, 'token');
  for (const token of check.tokens ?? [server.token]) {
    expect(token.length).toBeGreaterThanOrEqual(16);
    const found = filesContaining(server.dirs.stateDir, token).filter((f) => !(check.tokenFileExpected && f === tokenFile));
    expect(found).toEqual([]);
    expect(server.stdout()).not.toContain(token);
    expect(server.stderr()).not.toContain(token);
  }
}

/** A plain session from start to finish: the server still does its job. */
export async function expectNormalSession(client: Client): Promise<void> {
  const s = await call(client, 'session_start', { agent: 'codex', cwd: 'after-abuse', task: 'lines 3' });
  let page: any;
  await until(
    async () => {
      page = await call(client, 'session_wait', { sessionId: s.sessionId, since: 0, timeoutMs: 2_000 });
      return page.status === 'exited';
    },
    15_000,
    'the normal session to end',
  );
  expect(page.lines).toEqual(expect.arrayContaining(['line 0', 'line 1', 'line 2']));
  expect(page.exitCode).toBe(0);
  expect(page.completedSuccessfully).toBe(true);
}

/**
 * The end of every security test file: clients closed, server stopped cleanly
 * (ending its sessions), no process of ours left, no token in any file or
 * output, temp dirs removed.
 */
export async function finish(server: RunningServer | undefined, clients: Array<Client | undefined> = [], leak: LeakCheck = {}): Promise<void> {
  if (!server) return;
  try {
    for (const c of clients) await c?.close().catch(() => undefined);
    const code = await server.stop();
    try {
      await until(() => leftovers(server.dirs).length === 0, 10_000, 'no worker or agent left');
    } catch (err) {
      const pids = reapLeftovers(server.dirs);
      throw new Error(`processes left over: ${pids.join(', ')} (${(err as Error).message})`, { cause: err });
    }
    expect({ exitCode: code, stderrTail: code === 0 ? '' : server.stderr().slice(-2_000) }).toEqual({ exitCode: 0, stderrTail: '' });
    expectTokenNowhere(server, leak);
  } finally {
    // Whatever failed above, nothing of this server outlives the test: no process, no directory.
    await server.kill();
    reapLeftovers(server.dirs);
    fs.rmSync(server.dirs.base, { recursive: true, force: true });
  }
}
