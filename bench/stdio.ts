/**
 * What `agentvisor stdio` (issue 19 item 5b) costs a client: the time from launching the command
 * to its first tools/list answer, and a tool call's round trip through the relay beside the same
 * call made directly over Streamable HTTP, on the same running supervisor.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, type Dirs, type Server, TOKEN, call, connect } from './harness';
import { type Summary, round, summarize } from './stats';

export const STDIO_BENCH = { launches: 5, calls: 300 } as const;

type Target = (id: string, what: string, figure: number, unit: string, op: '<=' | '>=', limit: number) => void;

/** `calls` sequential session_list calls (a journal read, no agent) on `c`; ms each. */
async function roundTrips(c: Client, calls: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await call(c, 'session_list', { limit: 1 });
    ms.push(performance.now() - t);
  }
  return ms;
}

export async function benchStdio(server: Server, dirs: Dirs, target: Target): Promise<Record<string, unknown>> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dirs.base, STATE_DIR: dirs.stateDir, WORKSPACE_DIR: dirs.workspace, AUTH_TOKEN: TOKEN };
  const launch: number[] = [];
  let relayed: number[] = [];
  for (let i = 0; i < STDIO_BENCH.launches; i++) {
    const t = performance.now();
    const c = new Client({ name: 'agentvisor-bench-stdio', version: '1' });
    await c.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'stdio'], env, cwd: dirs.base, stderr: 'ignore' }));
    try {
      await c.listTools();
      launch.push(performance.now() - t);
      if (i === 0) relayed = await roundTrips(c, STDIO_BENCH.calls);
    } finally {
      await c.close();
    }
  }
  const direct = await connect(server.url, 'http');
  let http: number[];
  try {
    http = await roundTrips(direct, STDIO_BENCH.calls);
  } finally {
    await direct.close();
  }
  const s = (x: Summary) => ({ p50: round(x.p50, 2), p95: round(x.p95, 2), max: round(x.max, 2) });
  const [l, r, h] = [summarize(launch), summarize(relayed), summarize(http)];
  target('stdio.launch', 'stdio: launch → first tools/list answer (median)', l.p50, 'ms', '<=', 1000);
  target('stdio.overhead', 'stdio: relay overhead on a tool call (p50 relayed − p50 direct HTTP)', r.p50 - h.p50, 'ms', '<=', 5);
  return { launchMs: s(l), relayedCallMs: s(r), directHttpCallMs: s(h), calls: STDIO_BENCH.calls, launches: STDIO_BENCH.launches };
}
