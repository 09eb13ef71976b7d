/**
 * Helpers for driving agentvisor with MCP clients it did not write (the MCP Inspector CLI, Claude
 * Code, Codex), for test/clients/*.test.ts:
 *
 * - runClient: runs a client CLI detached (its own process group) with a closed stdin and kills
 *   the whole group when it ends or times out, so a wrapper's native child (codex) never outlives it.
 * - startClientRig: an agentvisor server (fake agents by default) whose cleanup kills running
 *   sessions, stops the server and fails the test if any process is left.
 * - NamespacingProxy: a front for a ModelServer that turns a scripted Responses-API
 *   `function_call` named `mcp__<server>__<tool>` into the form Codex routes for tools offered
 *   in a namespace: `{namespace: "mcp__<server>", name: "<tool>"}` (ModelServer itself emits only
 *   a flat `name`, which Codex answers with "unsupported call").
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { type Dirs, type RunningServer, call, connect, leftovers, makeDirs, reapLeftovers, startServer, until } from '../helpers/server';

export interface ClientRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Process groups started by runClient that may still need killing (see killClientGroups). */
const groups = new Set<number>();

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** Kills every process group runClient started and has not seen end (for afterEach). */
export function killClientGroups(): void {
  for (const g of groups) killGroup(g);
  groups.clear();
}

/**
 * Runs `cmd args` (argv, no shell) detached with stdin closed; resolves when its stdout and stderr
 * have closed. Kills its process group afterwards (and on timeout) so nothing it forked lingers.
 */
export function runClient(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ClientRun> {
  const t0 = Date.now();
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pgid = child.pid!;
  groups.add(pgid);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pgid);
  }, opts.timeoutMs ?? 45_000);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      groups.delete(pgid);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(pgid);
      groups.delete(pgid);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, timedOut });
    });
  });
}

export interface ClientRig {
  dirs: Dirs;
  server: RunningServer;
  /** A scratch directory inside the test's base dir (so `leftovers` sees a process running there). */
  scratch(name: string): string;
  /** Kills running sessions, stops the server, removes the temp dirs; throws if a process was left. */
  close(): Promise<void>;
}

/** An agentvisor server (fake agents unless `env` says otherwise) for clients to connect to. */
export async function startClientRig(opts: { env?: Record<string, string>; prefix?: string } = {}): Promise<ClientRig> {
  const dirs = makeDirs(opts.prefix ?? 'agentvisor-clients-');
  let server: RunningServer;
  try {
    server = await startServer({ dirs, env: opts.env });
  } catch (err) {
    reapLeftovers(dirs);
    fs.rmSync(dirs.base, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    dirs,
    server,
    scratch(name) {
      const p = path.join(dirs.base, name);
      fs.mkdirSync(p, { recursive: true });
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      killClientGroups();
      // SIGTERM leaves running sessions to their workers, so end them first.
      const c = await connect(server).catch(() => undefined);
      if (c) {
        const { sessions } = await call(c, 'session_list').catch(() => ({ sessions: [] as any[] }));
        for (const s of sessions) if (s.status === 'running') await call(c, 'session_kill', { sessionId: s.sessionId }).catch(() => undefined);
        await c.close().catch(() => undefined);
      }
      await server.stop();
      await until(() => leftovers(dirs).length === 0, 10_000, 'no process left').catch(() => undefined);
      const left = leftovers(dirs).map(describe);
      reapLeftovers(dirs);
      // Retries: a client's last write (claude's transcript, the journal's WAL) may race the removal.
      fs.rmSync(dirs.base, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      if (left.length) throw new Error(`processes left behind: ${left.join('; ')}`);
    },
  };
}

function describe(pid: number): string {
  try {
    return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 200)}`;
  } catch {
    return `${pid} (gone)`;
  }
}

// ---- Responses API: namespaced function calls ------------------------------------------------

function decode(buf: Buffer, encoding: string | string[] | undefined): Buffer {
  switch (encoding) {
    case 'gzip':
      return zlib.gunzipSync(buf);
    case 'deflate':
      return zlib.inflateSync(buf);
    case 'br':
      return zlib.brotliDecompressSync(buf);
    default:
      return buf;
  }
}

/** Namespaces (name → tool names) a Responses request offers in its top-level `tools`. */
function offeredNamespaces(body: any): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of Array.isArray(body?.tools) ? body.tools : []) {
    if (t?.type === 'namespace' && typeof t.name === 'string') out.set(t.name, new Set((t.tools ?? []).map((x: any) => x?.name)));
  }
  return out;
}

/**
 * Sits between Codex and a ModelServer (point Codex's provider `base_url` at `url + '/v1'`) and
 * rewrites each `function_call` output item named `mcp__<server>__<tool>` into
 * `{namespace: 'mcp__<server>', name: '<tool>'}` when the request offered that tool in that
 * namespace. Everything else passes through unchanged; the ModelServer still records every request.
 */
export class NamespacingProxy {
  /** call_id of every function_call rewritten into its namespaced form. */
  readonly rewritten = new Set<string>();
  readonly url: string;

  private constructor(private readonly server: http.Server) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(upstreamUrl: string): Promise<NamespacingProxy> {
    const upstream = new URL(upstreamUrl);
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new NamespacingProxy(server);
    server.on('request', (req, res) => {
      proxy.forward(req, res, upstream).catch((err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `proxy: ${String(err)}` } }));
      });
    });
    return proxy;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse, upstream: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    let namespaces = new Map<string, Set<string>>();
    try {
      namespaces = offeredNamespaces(JSON.parse(decode(raw, req.headers['content-encoding']).toString('utf8')));
    } catch {
      // not JSON: pass through
    }
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(raw.length) };
    delete headers.connection;
    const up = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const r = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, resolve);
      r.once('error', reject);
      r.end(raw);
    });
    const body: Buffer[] = [];
    for await (const c of up) body.push(c as Buffer);
    let text = Buffer.concat(body).toString('utf8');
    if (namespaces.size && /event-stream/.test(String(up.headers['content-type']))) {
      text = text
        .split('\n')
        .map((line) => (line.startsWith('data: ') ? 'data: ' + JSON.stringify(this.rewrite(JSON.parse(line.slice(6)), namespaces)) : line))
        .join('\n');
    }
    const outHeaders = { ...up.headers, 'content-length': String(Buffer.byteLength(text)) };
    delete outHeaders['transfer-encoding'];
    delete outHeaders.connection;
    res.writeHead(up.statusCode ?? 502, outHeaders);
    res.end(text);
  }

  private rewrite(event: any, namespaces: Map<string, Set<string>>): any {
    const fix = (item: any) => {
      if (item?.type !== 'function_call' || typeof item.name !== 'string' || item.namespace) return item;
      const m = /^(mcp__.+?)__(.+)$/.exec(item.name);
      if (!m || !namespaces.get(m[1])?.has(m[2])) return item;
      this.rewritten.add(item.call_id);
      return { ...item, namespace: m[1], name: m[2] };
    };
    if (event?.item) event.item = fix(event.item);
    if (Array.isArray(event?.response?.output)) event.response.output = event.response.output.map(fix);
    return event;
  }
}
