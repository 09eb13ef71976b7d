/**
 * Reaching the running supervisor: where it is (STATE_DIR/server.json, written
 * once it listens, removed when it stops), whether it is really agentvisor
 * (its /health), and an MCP client over Streamable HTTP with the operator's token.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Limits } from '../shared/constants';
import { isAlive, isSameProcess, processStartTime } from '../shared/procInfo';
import type { Usage } from '../shared/protocol';
import type { Config } from '../supervisor/config';
import { CliTimeouts } from './cliTimeouts';
import { CliError, VERSION, readOperatorToken, requireOperatorToken } from './common';

/** Must match SERVER_INFO_FILE in supervisor/main.ts (not imported: that module loads the whole server). */
export const SERVER_INFO_FILE = 'server.json';

export interface ServerInfo {
  pid: number;
  url: string;
  port: number;
}

export interface RunningServer extends ServerInfo {
  /** The URL to connect to: a wildcard bind address is reached through loopback. */
  connectUrl: string;
  /** The process start time read when it was found, to tell it from a later process with its pid. */
  startTime: string | null;
}

/** False once the server's process has exited (checked by pid and start time, so a reused pid does not count). */
export function serverAlive(s: RunningServer): boolean {
  return s.startTime ? isSameProcess(s.pid, s.startTime) : isAlive(s.pid);
}

export function readServerInfo(stateDir: string): ServerInfo | null {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(stateDir, SERVER_INFO_FILE), 'utf8')) as Partial<ServerInfo>;
    if (typeof raw.pid === 'number' && typeof raw.url === 'string' && typeof raw.port === 'number') return raw as ServerInfo;
  } catch {
    // absent or half-written: no server to talk to
  }
  return null;
}

function loopbackUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

/** A JSON reply of the running server, read field by field by each command (they check what they use). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonReply = any;

export async function fetchJson(url: string, init: RequestInit = {}, timeoutMs: number = CliTimeouts.healthMs): Promise<{ status: number; body: JsonReply }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

/** /health with (optionally) the token: null if nothing answers like agentvisor. */
export async function health(url: string, token?: string): Promise<Record<string, JsonReply> | null> {
  try {
    const { status, body } = await fetchJson(`${url}/health`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
    // Degraded (a full disk) is up and answering: the caller shows why.
    return status === 200 && body && (body.status === 'ok' || body.status === 'degraded') ? (body as Record<string, JsonReply>) : null;
  } catch {
    return null;
  }
}

/** The running supervisor of this STATE_DIR, or null: server.json names a live pid that answers /health. */
export async function findServer(stateDir: string): Promise<RunningServer | null> {
  const info = readServerInfo(stateDir);
  if (!info || !isAlive(info.pid)) return null;
  const startTime = processStartTime(info.pid);
  const connectUrl = loopbackUrl(info.url);
  if (!(await health(connectUrl))) return null;
  return { ...info, connectUrl, startTime };
}

export function notRunning(stateDir: string): CliError {
  return new CliError(`the server is not running (no live server in ${path.join(stateDir, SERVER_INFO_FILE)}); start it with: agentvisor serve`);
}

export async function requireServer(config: Config): Promise<RunningServer> {
  const server = await findServer(config.STATE_DIR);
  if (!server) throw notRunning(config.STATE_DIR);
  return server;
}

/** A request the server refused for want of the right token, explained without the token. */
export function unauthorized(source: string): CliError {
  return new CliError(
    `the running server refused the token from ${source} (401): it was started with another token. ` + 'Use the AUTH_TOKEN the server was started with, or unset AUTH_TOKEN to use STATE_DIR/token.',
  );
}

/** POST to an admin route with the operator's token; returns the JSON reply or throws a one-line error. */
export async function adminPost(config: Config, server: RunningServer, route: string, body: Record<string, unknown> = {}): Promise<JsonReply> {
  const { token, source } = requireOperatorToken(config);
  let reply: { status: number; body: JsonReply };
  try {
    reply = await fetchJson(
      `${server.connectUrl}/admin/${route}`,
      { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
      CliTimeouts.adminMs,
    );
  } catch (err) {
    throw new CliError(`could not reach the server at ${server.connectUrl}: ${(err as Error).message}`);
  }
  if (reply.status === 401) throw unauthorized(source);
  if (reply.status === 404) throw new CliError(`the running server (pid ${server.pid}) has no /admin/${route}: it is an older agentvisor; restart it`);
  if (reply.status >= 400) throw new CliError(reply.body?.message ?? `the server answered HTTP ${reply.status}`);
  return reply.body;
}

/** Tool errors and transport failures of an MCP call, as one line. */
export class ToolFailed extends CliError {}

export interface McpSession {
  call<T = JsonReply>(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** An MCP client over Streamable HTTP `/mcp` with the operator's token. */
export async function connectMcp(config: Config, server: RunningServer): Promise<McpSession> {
  const { token, source } = requireOperatorToken(config);
  const client = new Client({ name: 'agentvisor-cli', version: VERSION });
  const transport = new StreamableHTTPClientTransport(new URL(`${server.connectUrl}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  try {
    await client.connect(transport);
  } catch (err) {
    const msg = (err as Error).message;
    if (/\b401\b|unauthori[sz]ed/i.test(msg)) throw unauthorized(source);
    throw new CliError(`could not open an MCP session with the server at ${server.connectUrl}: ${msg}`);
  }
  return {
    async call<T>(name: string, args: Record<string, unknown>, timeoutMs: number = CliTimeouts.callMs): Promise<T> {
      // A server that exits mid-call (stopped, crashed) leaves a long poll such as session_wait
      // hanging until its timeout: watch the process and give up as soon as it is gone.
      const abort = new AbortController();
      const watch = setInterval(() => {
        if (!serverAlive(server)) abort.abort(new Error(`the server (pid ${server.pid}) exited`));
      }, CliTimeouts.serverWatchMs);
      let res;
      try {
        res = await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs, signal: abort.signal });
      } finally {
        clearInterval(watch);
      }
      if (res.isError) throw new ToolFailed((res.content as Array<{ text?: string }>)[0]?.text ?? `${name} failed`);
      return res.structuredContent as T;
    },
    async close() {
      // Frees the server's connection slot at once instead of at its idle timeout.
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

/** What the server knows of a session beyond the journal (output counters are not journalled per line). */
export interface LiveInfo {
  sessionId: string;
  status: string;
  pid: number | null;
  endedAt: string | null;
  lastOutputAt: string | null;
  outputLines: number;
  exitCode: number | null;
  signal: string | null;
  endReason: string | null;
  completedSuccessfully: boolean | null;
  /** Absent from a server older than usage reporting. */
  usage?: Usage | null;
  runMs?: number;
}

/** Enough of session_list's largest pages for the most sessions a server keeps (ENDED_SESSIONS_KEPT and MAX_SESSIONS at their largest): a bound, should a server page forever. */
const LIVE_PAGES_MAX = Math.ceil((1_000_000 + 10_000) / Limits.sessionListMax);

/** The server's sessions by id, or null (and why) when it cannot be had. */
export async function liveSessions(config: Config, server: RunningServer): Promise<{ byId: Map<string, LiveInfo> } | { error: string }> {
  if (!readOperatorToken(config)) return { error: 'no token' };
  try {
    const mcp = await connectMcp(config, server);
    try {
      // Every session the server keeps, page by page (the default page holds only the recent ones).
      const byId = new Map<string, LiveInfo>();
      let cursor: string | null = null;
      for (let page = 0; page < LIVE_PAGES_MAX; page++) {
        const args: Record<string, unknown> = { status: 'all', limit: Limits.sessionListMax, ...(cursor ? { cursor } : {}) };
        const reply: { sessions: LiveInfo[]; nextCursor?: string | null } = await mcp.call('session_list', args, CliTimeouts.listMs);
        for (const s of reply.sessions) byId.set(s.sessionId, s);
        cursor = reply.nextCursor ?? null;
        if (!cursor) break;
      }
      return { byId };
    } finally {
      await mcp.close();
    }
  } catch (err) {
    return { error: (err as Error).message };
  }
}
