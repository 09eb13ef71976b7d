/**
 * `npm run bench`: starts the real supervisor (dist/) on 127.0.0.1 with fast
 * fake agents (bench/fixtures/bench-agent.js) and throw-away directories,
 * drives it with the MCP SDK client, prints a table and writes the results as
 * JSON (argv[2], default bench/results.json). Targets are reported, not
 * asserted. Everything it starts is stopped and its temp dir removed at the end.
 *
 *   node dist/bench/run.js [results.json] [--only=start,unconfined,wait,ingest,appserver,memory,reattach,scale,files,stdio,approvals,ui]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, ROOT, type Server, call, connect, health, killPids, leftovers, makeDirs, pool, sleep, startServer } from './harness';
import { benchStdio } from './stdio';
import { benchUi } from './ui';
import { relayLatency } from './approvals';
import { CpuWatch, type Summary, cpuSeconds, machine, median, pssMb, round, rssKb, summarize } from './stats';

type Agent = 'claude-code' | 'codex';
const AGENTS: Agent[] = ['claude-code', 'codex'];
const ENDED = new Set(['exited', 'killed', 'failed', 'lost']);

const args = process.argv.slice(2);
const RESULTS = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(ROOT, 'bench/results.json'));
const ONLY = new Set((args.find((a) => a.startsWith('--only='))?.slice(7) ?? 'start,unconfined,wait,ingest,appserver,memory,reattach,scale,files,stdio,approvals,ui').split(','));

const P = {
  startReps: 20, // alternating agents; these sessions then serve the memory and re-attach runs
  idleSessions: 20,
  waitTicks: 40,
  waitTickMs: 250,
  ingestLines: 200_000,
  ingestReps: 3,
  reattachReps: 3,
  // One row per entry: sessions printing at once, and the wake-up p95 each must hold (issue #13 item 6).
  scaleRows: [
    { sessions: 100, p95Ms: 25 },
    { sessions: 200, p95Ms: 50 },
  ],
  scaleClients: 20,
  scaleTickMs: 100,
  scaleMeasureMs: 15_000,
  treeDirs: 100,
  treeFilesPerDir: 1_000,
  bigFileBytes: 1024 * 1024 * 1024,
  fileClients: 3,
  fileRounds: 3,
  approvalReps: 50,
};

const now = () => performance.timeOrigin + performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Target {
  id: string;
  what: string;
  figure: number;
  unit: string;
  op: '<=' | '>=';
  limit: number;
  pass: boolean;
  /** Extra condition text (e.g. "no line lost"). */
  note?: string;
}

const targets: Target[] = [];
function target(id: string, what: string, figure: number, unit: string, op: '<=' | '>=', limit: number, extraOk = true, note?: string): void {
  const pass = extraOk && Number.isFinite(figure) && (op === '<=' ? figure <= limit : figure >= limit);
  targets.push({ id, what, figure: round(figure, 2), unit, op, limit, pass, note });
}

const sum = (s: Summary, d = 1) => ({ n: s.n, min: round(s.min, d), p50: round(s.p50, d), p95: round(s.p95, d), p99: round(s.p99, d), max: round(s.max, d), mean: round(s.mean, d) });

// ---- shared state -------------------------------------------------------------

let dirs: Dirs;
let server: Server;
const clients = new Set<Client>();
const extraProcs: ChildProcess[] = [];

async function client(): Promise<Client> {
  const c = await connect(server.url);
  clients.add(c);
  return c;
}

async function closeClient(c: Client): Promise<void> {
  clients.delete(c);
  await c.close().catch(() => undefined);
}

async function closeAllClients(): Promise<void> {
  await Promise.all([...clients].map((c) => closeClient(c)));
}

interface OutputPage {
  status: string;
  lines: string[];
  offset: number;
  nextOffset: number;
  dropped: number;
  hasMore: boolean;
  timedOut?: boolean;
}

async function startSession(c: Client, agent: Agent, task: string, cwd = 'bench'): Promise<{ id: string; ms: number; initial: OutputPage; pid: number | null }> {
  const t0 = performance.now();
  const r = await call(c, 'session_start', { agent, cwd, task });
  return { id: r.sessionId, ms: performance.now() - t0, initial: r.initialOutput, pid: r.pid ?? null };
}

async function killSessions(c: Client, ids: string[]): Promise<void> {
  await pool(ids, 20, (id) => call(c, 'session_kill', { sessionId: id }).catch(() => undefined));
}

/** Worker pid of each session, found by its `--spec <sessionDir>/spec.json` argv. */
function workerPids(): Map<string, number> {
  const out = new Map<string, number>();
  const sessionsDir = path.join(dirs.stateDir, 'sessions') + '/';
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('--spec');
      if (i === -1 || !argv[i + 1]?.startsWith(sessionsDir)) continue;
      out.set(path.basename(path.dirname(argv[i + 1])), Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Follows a session with session_wait from `since`, handing each page to `onPage` with its arrival time, until `stop` or the session has ended and been read to its end. */
async function follow(
  c: Client,
  id: string,
  since: number,
  onPage: (page: OutputPage, at: number) => void,
  opts: { limit?: number; maxBytes?: number; stop?: () => boolean; timeoutMs?: number } = {},
): Promise<OutputPage> {
  let next = since;
  for (;;) {
    const page: OutputPage = await call(c, 'session_wait', {
      sessionId: id,
      since: next,
      timeoutMs: opts.timeoutMs ?? 5_000,
      ...(opts.limit ? { limit: opts.limit } : {}),
      ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
    });
    onPage(page, now());
    next = page.nextOffset;
    if (opts.stop?.()) return page;
    if (ENDED.has(page.status) && !page.hasMore) return page;
  }
}

const TICK = /^tick (\d+) (\d+(?:\.\d+)?)$/;

function tickDelays(page: OutputPage, at: number, into: number[]): number {
  let n = 0;
  for (const line of page.lines) {
    const m = TICK.exec(line);
    if (!m) continue;
    into.push(at - Number(m[2]));
    n++;
  }
  return n;
}

// ---- 1. session_start ---------------------------------------------------------

const idleIds: Array<{ id: string; agent: Agent }> = [];

async function benchStart(): Promise<Record<string, unknown>> {
  log(`session_start: ${P.startReps} idle sessions, alternating agents`);
  const c = await client();
  const byAgent: Record<Agent, number[]> = { 'claude-code': [], codex: [] };
  const all: number[] = [];
  let withOutput = 0;
  for (let i = 0; i < P.startReps; i++) {
    const agent = AGENTS[i % 2];
    const s = await startSession(c, agent, 'idle', `idle-${i}`);
    byAgent[agent].push(s.ms);
    all.push(s.ms);
    if (s.initial.lines.length > 0) withOutput++;
    idleIds.push({ id: s.id, agent });
  }
  await closeClient(c);
  const s = summarize(all);
  target('start.p50', 'session_start p50', s.p50, 'ms', '<=', 150);
  return {
    ms: sum(s),
    byAgent: { 'claude-code': sum(summarize(byAgent['claude-code'])), codex: sum(summarize(byAgent.codex)) },
    initialOutputPresent: `${withOutput}/${P.startReps}`,
  };
}

// ---- 1b. session_start unconfined: what confinement costs (issue 16) -------------

/** The same starts on a second server with SANDBOX=none (the main one runs the default, auto: bwrap where it works). */
async function benchStartUnconfined(): Promise<Record<string, unknown>> {
  const confined = (await health(server.url)).sandbox;
  log(`session_start with SANDBOX=none: ${P.startReps} sessions on a second server (the first runs sandbox=${confined})`);
  // Inside the bench's temp dir, so cleanup() finds whatever this leaves.
  const d: Dirs = { base: dirs.base, stateDir: path.join(dirs.base, 'state-unconfined'), workspace: path.join(dirs.base, 'ws-unconfined') };
  fs.mkdirSync(d.workspace, { recursive: true });
  const other = await startServer(d, { SANDBOX: 'none' });
  try {
    const c = await connect(other.url);
    const all: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < P.startReps; i++) {
      const s = await startSession(c, AGENTS[i % 2], 'idle', `idle-${i}`);
      all.push(s.ms);
      ids.push(s.id);
    }
    await killSessions(c, ids);
    await c.close().catch(() => undefined);
    return { ms: sum(summarize(all)), mainServerSandbox: confined };
  } finally {
    await other.stop();
  }
}

// ---- 3b. Codex over app-server (issue 14): its own server, CODEX_PROTOCOL=app-server ----------

/** The main server and dirs while benchAppServer runs its own (cleanup stops both on an interrupt). */
let suspended: { server: Server; dirs: Dirs } | null = null;

async function benchAppServer(): Promise<Record<string, unknown>> {
  const main = (suspended = { server, dirs });
  dirs = makeDirs('agentvisor-bench-appserver-');
  try {
    server = await startServer(dirs, { CODEX_PROTOCOL: 'app-server' });
    const c = await client();
    log(`app-server: session_start of ${P.startReps} idle codex sessions`);
    const ms: number[] = [];
    const ids: string[] = [];
    let withOutput = 0;
    for (let i = 0; i < P.startReps; i++) {
      const s = await startSession(c, 'codex', 'idle', `as-idle-${i}`);
      ms.push(s.ms);
      ids.push(s.id);
      if (s.initial.lines.length > 0) withOutput++;
    }
    await killSessions(c, ids);
    const start = summarize(ms);
    target('appserver.start.p50', 'session_start p50, codex over app-server', start.p50, 'ms', '<=', 150);
    const runs: Array<Record<string, unknown>> = [];
    for (let rep = 0; rep < P.ingestReps; rep++) {
      log(`ingest: codex over app-server (JSON-RPC on pipes), ${P.ingestLines} lines, rep ${rep + 1}/${P.ingestReps}`);
      const r = await ingestOnce(c, 'codex', P.ingestLines, 1);
      log(`  ${r.linesPerSec} lines/s, ok=${r.ok}, follower saw ${r.followerSeen} (dropped ${r.followerDropped}), cpu s ${JSON.stringify(r.cpuSeconds)}`);
      runs.push(r);
    }
    await closeClient(c);
    const rate = median(runs.map((r) => r.linesPerSec as number));
    const allOk = runs.every((r) => r.ok);
    target('ingest.appserver', 'ingest over app-server (codex JSON-RPC), median', rate, 'lines/s', '>=', 50_000, allOk, allOk ? 'every line numbered right' : 'LINES LOST/MISNUMBERED');
    return { startMs: sum(start), initialOutputPresent: `${withOutput}/${P.startReps}`, ingest: { medianLinesPerSec: rate, allCorrect: allOk, runs } };
  } finally {
    const cleaned = await stopAndRemove(server, dirs);
    if (cleaned.leftovers.length || !cleaned.removed) log(`app-server bench left ${cleaned.leftovers.length} processes; temp dir removed: ${cleaned.removed}`);
    ({ server, dirs } = main);
    suspended = null;
  }
}

// ---- 4. memory (the idle sessions from 1) ---------------------------------------

async function benchMemory(): Promise<Record<string, unknown>> {
  log(`memory: ${idleIds.length} idle workers vs a bare node process`);
  const floor = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore', cwd: dirs.base });
  extraProcs.push(floor);
  const supBefore = rssKb(server.proc.pid!) ?? NaN;
  // Let workers and the floor process settle (start-up garbage collected, timers idle).
  await sleep(3_000);
  const pids = workerPids();
  const per: Record<Agent, number[]> = { 'claude-code': [], codex: [] };
  const pss: number[] = [];
  const priv: number[] = [];
  for (const { id, agent } of idleIds) {
    const pid = pids.get(id);
    const kb = pid ? rssKb(pid) : null;
    if (kb !== null) per[agent].push(kb / 1024);
    const p = pid ? pssMb(pid) : null;
    if (p) {
      pss.push(p.pss);
      priv.push(p.private);
    }
  }
  const floorMb = (rssKb(floor.pid!) ?? NaN) / 1024;
  const floorPss = pssMb(floor.pid!);
  floor.kill('SIGKILL');
  const all = [...per['claude-code'], ...per.codex];
  const workerMb = median(all);
  const ratio = workerMb / floorMb;
  target('memory.ratio', 'idle worker RSS / bare node RSS (median)', ratio, '×', '<=', 1.25);
  return {
    workersMeasured: all.length,
    workerRssMB: sum(summarize(all)),
    byAgent: { 'claude-code': sum(summarize(per['claude-code'])), codex: sum(summarize(per.codex)) },
    bareNodeRssMB: round(floorMb),
    // VmRSS counts the node binary's pages in every process; these say what a worker really adds.
    workerPssMB: sum(summarize(pss)),
    workerPrivateMB: sum(summarize(priv)),
    bareNodePssMB: round(floorPss?.pss ?? NaN),
    bareNodePrivateMB: round(floorPss?.private ?? NaN),
    ratio: round(ratio, 2),
    supervisorRssMB: round((rssKb(server.proc.pid!) ?? NaN) / 1024),
    supervisorRssBeforeSettleMB: round(supBefore / 1024),
  };
}

// ---- 7. re-attach after SIGKILL -------------------------------------------------

async function benchReattach(): Promise<Record<string, unknown>> {
  log(`re-attach: SIGKILL the supervisor with ${idleIds.length} live sessions, start it again (${P.reattachReps}×)`);
  const totals: number[] = [];
  const listening: number[] = [];
  let answeredAll = true;
  for (let rep = 0; rep < P.reattachReps; rep++) {
    await closeAllClients();
    await server.kill('SIGKILL');
    const t0 = performance.now();
    server = await startServer(dirs);
    const tListen = performance.now() - t0;
    const c = await client();
    const pending = new Set(idleIds.map((s) => s.id));
    const deadline = Date.now() + 20_000;
    while (pending.size > 0 && Date.now() < deadline) {
      await Promise.all(
        [...pending].map(async (id) => {
          try {
            const page: OutputPage = await call(c, 'session_output', { sessionId: id, since: 0 });
            if (page.status === 'running' && page.lines.length > 0) pending.delete(id);
          } catch {
            // not re-attached yet
          }
        }),
      );
      if (pending.size > 0) await sleep(5);
    }
    const total = performance.now() - t0;
    if (pending.size > 0) answeredAll = false;
    totals.push(total);
    listening.push(tListen);
    log(`  rep ${rep + 1}: listening after ${tListen.toFixed(0)} ms, all ${idleIds.length} answering after ${total.toFixed(0)} ms`);
  }
  const s = summarize(totals);
  target('reattach.ms', `re-attach ${idleIds.length} sessions (spawn → all answer, median)`, s.p50, 'ms', '<=', 1000, answeredAll);
  return { sessions: idleIds.length, totalMs: sum(s), untilListeningMs: sum(summarize(listening)), answeredAll };
}

// ---- 2. session_wait wake-up ------------------------------------------------------

async function benchWait(): Promise<Record<string, unknown>> {
  log(`session_wait wake-up: one session per agent printing a line every ${P.waitTickMs} ms, ${P.waitTicks} lines`);
  const c = await client();
  const byAgent: Record<Agent, number[]> = { 'claude-code': [], codex: [] };
  await Promise.all(
    AGENTS.map(async (agent) => {
      const s = await startSession(c, agent, `ticks ${P.waitTicks} ${P.waitTickMs}`, `wait-${agent}`);
      let seen = tickDelays(s.initial, now(), []); // lines already in the start reply are not wake-ups
      await follow(
        c,
        s.id,
        s.initial.nextOffset,
        (page, at) => {
          seen += tickDelays(page, at, byAgent[agent]);
        },
        { stop: () => seen >= P.waitTicks },
      );
    }),
  );
  await closeClient(c);
  const all = [...byAgent['claude-code'], ...byAgent.codex];
  const s = summarize(all);
  target('wait.p50', 'session_wait wake-up p50', s.p50, 'ms', '<=', 10);
  target('wait.p95', 'session_wait wake-up p95', s.p95, 'ms', '<=', 25);
  return {
    delayMs: sum(s, 2),
    byAgent: { 'claude-code': sum(summarize(byAgent['claude-code']), 2), codex: sum(summarize(byAgent.codex), 2) },
  };
}

async function benchApprovals(): Promise<Record<string, unknown>> {
  log(`mode ask relay: ${P.approvalReps} permission requests of a fake Claude (stream-json control protocol), each answered with session_approve`);
  const c = await client();
  const r = await relayLatency(c, P.approvalReps);
  await closeClient(c);
  const ask = summarize(r.askToWaitMs);
  const approve = summarize(r.approveToAgentMs);
  target('approvals.ask.p50', 'approval relay p50: agent asks → session_wait returns it', ask.p50, 'ms', '<=', 50);
  target('approvals.approve.p50', 'approval relay p50: session_approve → agent continues', approve.p50, 'ms', '<=', 50);
  return { askToWaitMs: sum(ask, 2), approveToAgentMs: sum(approve, 2) };
}

// ---- 3. ingest --------------------------------------------------------------------

interface Numbering {
  base: number | undefined;
  misnumbered: number;
  seen: number;
  maxK: number;
}

function checkNumbering(lines: string[], offset: number, st: Numbering): void {
  for (let j = 0; j < lines.length; j++) {
    const line = lines[j];
    if (!line.startsWith('line ')) continue;
    const k = Number(line.slice(5));
    if (!Number.isInteger(k)) {
      st.misnumbered++;
      continue;
    }
    const o = offset + j;
    if (st.base === undefined) st.base = o - k;
    else if (o - k !== st.base) st.misnumbered++;
    if (k > st.maxK) st.maxK = k;
    st.seen++;
  }
}

/** `trailer`: the lines the session prints after the flood (Claude's and app-server Codex's [result] line). */
async function ingestOnce(c: Client, agent: Agent, n: number, trailer = agent === 'claude-code' ? 1 : 0): Promise<Record<string, unknown>> {
  const cpu0 = process.cpuUsage();
  const sup0 = cpuSeconds(server.proc.pid!) ?? NaN;
  const t0 = performance.now();
  const s = await startSession(c, agent, `flood ${n}`, `ingest-${agent}`);
  // CPU of each process in the pipeline (the worker and agent only from when start returned).
  const workerPid = workerPids().get(s.id);
  const agentPid = s.pid;
  const watch = new CpuWatch(new Map([...(workerPid ? [['worker', workerPid] as [string, number]] : []), ...(agentPid ? [['agent', agentPid] as [string, number]] : [])]));
  const follower: Numbering = { base: undefined, misnumbered: 0, seen: 0, maxK: -1 };
  let dropped = 0;
  let gaps = 0;
  let expectNext = s.initial.nextOffset;
  checkNumbering(s.initial.lines, s.initial.offset, follower);
  const last = await follow(
    c,
    s.id,
    s.initial.nextOffset,
    (page) => {
      if (page.offset !== expectNext + page.dropped && page.lines.length > 0) gaps++;
      dropped += page.dropped;
      checkNumbering(page.lines, page.offset, follower);
      expectNext = page.nextOffset;
    },
    { limit: 10_000, maxBytes: 1_000_000, timeoutMs: 30_000 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = watch.stop();
  const benchCpu = process.cpuUsage(cpu0);
  cpu.supervisor = round((cpuSeconds(server.proc.pid!) ?? NaN) - sup0, 2);
  cpu.benchClient = round((benchCpu.user + benchCpu.system) / 1e6, 2);
  // Verify the tail: numbering of the last ring's worth, newest line, total count.
  const info = (await call(c, 'session_list')).sessions?.find((x: { sessionId: string }) => x.sessionId === s.id) ?? null;
  const total = last.nextOffset;
  const tail: OutputPage = await call(c, 'session_output', { sessionId: s.id, since: Math.max(0, total - 10_000), limit: 10_000, maxBytes: 1_000_000 });
  const tailCheck: Numbering = { base: undefined, misnumbered: 0, seen: 0, maxK: -1 };
  checkNumbering(tail.lines, tail.offset, tailCheck);
  const base = follower.base ?? tailCheck.base ?? -1;
  const newestOk = tailCheck.maxK === n - 1 && tailCheck.base === base;
  const totalOk = total === base + n + trailer;
  const ok = newestOk && totalOk && follower.misnumbered === 0 && tailCheck.misnumbered === 0 && gaps === 0 && last.status === 'exited';
  return {
    linesPerSec: Math.round(n / seconds),
    seconds: round(seconds, 3),
    ok,
    status: last.status,
    totalLines: total,
    expectedTotal: base + n + trailer,
    followerSeen: follower.seen,
    followerDropped: dropped,
    misnumbered: follower.misnumbered + tailCheck.misnumbered,
    gaps,
    newestLine: tail.lines.filter((l) => l.startsWith('line ')).pop() ?? null,
    cpuSeconds: cpu,
    outputLinesReported: info?.outputLines ?? null,
  };
}

async function benchIngest(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const c = await client();
  for (const agent of AGENTS) {
    const runs: Array<Record<string, unknown>> = [];
    for (let rep = 0; rep < P.ingestReps; rep++) {
      log(`ingest: ${agent} (${agent === 'codex' ? 'PTY' : 'pipe, stream-json'}), ${P.ingestLines} lines, rep ${rep + 1}/${P.ingestReps}`);
      const r = await ingestOnce(c, agent, P.ingestLines);
      log(`  ${r.linesPerSec} lines/s, ok=${r.ok}, follower saw ${r.followerSeen} (dropped ${r.followerDropped}), cpu s ${JSON.stringify(r.cpuSeconds)}`);
      runs.push(r);
    }
    const rate = median(runs.map((r) => r.linesPerSec as number));
    const allOk = runs.every((r) => r.ok);
    if (agent === 'claude-code')
      target('ingest.pipe', 'ingest over pipe (claude stream-json), median', rate, 'lines/s', '>=', 100_000, allOk, allOk ? 'every line numbered right' : 'LINES LOST/MISNUMBERED');
    else target('ingest.pty', 'ingest over PTY (codex text), median', rate, 'lines/s', '>=', 50_000, allOk, allOk ? 'every line numbered right' : 'LINES LOST/MISNUMBERED');
    out[agent === 'codex' ? 'pty' : 'pipe'] = { medianLinesPerSec: rate, allCorrect: allOk, runs };
  }
  await closeClient(c);
  return out;
}

// ---- 5. scale -----------------------------------------------------------------------

async function benchScale(row: (typeof P.scaleRows)[number], name: string): Promise<Record<string, unknown>> {
  log(`${name}: ${row.sessions} sessions printing a line every ${P.scaleTickMs} ms, ${P.scaleClients} clients in session_wait loops`);
  const starter = await client();
  const t0 = performance.now();
  const sessions = await pool(
    Array.from({ length: row.sessions }, (_, i) => i),
    4,
    (i) => startSession(starter, AGENTS[i % 2], `ticks 0 ${P.scaleTickMs}`, `scale-${i}`),
  );
  const startAllMs = performance.now() - t0;
  log(`  ${sessions.length} sessions started in ${(startAllMs / 1000).toFixed(1)} s`);
  const followers = await Promise.all(Array.from({ length: P.scaleClients }, () => client()));
  await sleep(1_000); // let start-up settle before the window opens
  await health(server.url); // opens the event-loop window
  const delays: number[] = [];
  let measuring = true;
  let errors = 0;
  const step = Math.floor(row.sessions / P.scaleClients);
  const loops = followers.map(async (c, k) => {
    const s = sessions[k * step];
    // Start from the current end; the first page may hold lines written before we asked.
    let first = true;
    try {
      const info: OutputPage = await call(c, 'session_output', { sessionId: s.id, since: 1e12 });
      await follow(
        c,
        s.id,
        info.nextOffset,
        (page, at) => {
          if (!first && measuring) tickDelays(page, at, delays);
          first = false;
        },
        { stop: () => !measuring },
      );
    } catch (err) {
      errors++;
      log(`  follower ${k} failed: ${(err as Error).message}`);
    }
  });
  const cpu0 = process.cpuUsage();
  // CPU used by each kind of process over the window, in % of one core.
  const wpids = workerPids();
  const groupCpu = () => ({
    supervisor: cpuSeconds(server.proc.pid!) ?? 0,
    workers: sessions.reduce((a, s) => a + (cpuSeconds(wpids.get(s.id) ?? -1) ?? 0), 0),
    agents: sessions.reduce((a, s) => a + (s.pid ? (cpuSeconds(s.pid) ?? 0) : 0), 0),
  });
  const g0 = groupCpu();
  await sleep(P.scaleMeasureMs);
  measuring = false;
  const g1 = groupCpu();
  const h = await health(server.url);
  const benchCpuPct = ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000 / P.scaleMeasureMs) * 100;
  const pct = (k: keyof typeof g0) => round(((g1[k] - g0[k]) / (P.scaleMeasureMs / 1000)) * 100);
  const cpuPct = { supervisor: pct('supervisor'), allWorkers: pct('workers'), allAgents: pct('agents'), benchClients: round(benchCpuPct) };
  await Promise.all(loops);
  log(`  measured ${delays.length} wake-ups; killing ${sessions.length} sessions`);
  const tk = performance.now();
  await killSessions(
    starter,
    sessions.map((s) => s.id),
  );
  const killAllMs = performance.now() - tk;
  await Promise.all(followers.map((c) => closeClient(c)));
  await closeClient(starter);
  const s = summarize(delays);
  const loop = h.eventLoopDelayRecent ?? {};
  target(`${name}.wait.p95`, `wake-up p95 under ${row.sessions} sessions / ${P.scaleClients} clients`, s.p95, 'ms', '<=', row.p95Ms, errors === 0);
  return {
    sessions: row.sessions,
    clients: P.scaleClients,
    measureMs: P.scaleMeasureMs,
    startAllMs: Math.round(startAllMs),
    killAllMs: Math.round(killAllMs),
    wakeupDelayMs: sum(s, 2),
    followerErrors: errors,
    supervisorEventLoop: loop,
    supervisorRssMB: h.rssMB,
    cpuPctOfOneCore: cpuPct,
  };
}

// ---- 6. file tools ------------------------------------------------------------------

/**
 * 100 directories of 1,000 files. The files of a directory are hard links of its first
 * (one syscall each: seconds, not the minutes 100,000 creates take here).
 */
function makeTree(root: string): number {
  let entries = 0;
  fs.mkdirSync(root, { recursive: true });
  for (let d = 0; d < P.treeDirs; d++) {
    const dir = path.join(root, `d${String(d).padStart(3, '0')}`);
    fs.mkdirSync(dir);
    entries++;
    const source = path.join(dir, 'f0000.txt');
    fs.writeFileSync(source, 'bench\n');
    entries++;
    for (let f = 1; f < P.treeFilesPerDir; f++) {
      fs.linkSync(source, path.join(dir, `f${String(f).padStart(4, '0')}.txt`));
      entries++;
    }
  }
  return entries;
}

const BIG_LINE_BYTES = 100;
const BIG_CHUNK_LINES = 160_000; // 16 MB buffer, written repeatedly

function makeBigFile(file: string): { lines: number; bytes: number } {
  const chunk = Buffer.alloc(BIG_CHUNK_LINES * BIG_LINE_BYTES, 'x');
  for (let i = 0; i < BIG_CHUNK_LINES; i++) {
    const at = i * BIG_LINE_BYTES;
    chunk.write(String(i).padStart(9, '0') + ' ', at, 'latin1');
    chunk[at + BIG_LINE_BYTES - 1] = 0x0a;
  }
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    while (bytes + chunk.length <= P.bigFileBytes) {
      fs.writeSync(fd, chunk);
      bytes += chunk.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { lines: bytes / BIG_LINE_BYTES, bytes };
}

async function benchFiles(): Promise<Record<string, unknown>> {
  const treeRoot = path.join(dirs.workspace, 'tree');
  const bigFile = path.join(dirs.workspace, 'big.txt');
  log(`file tools: creating a ${P.treeDirs * (P.treeFilesPerDir + 1)}-entry tree and a ${P.bigFileBytes / 2 ** 30} GB file`);
  let t = performance.now();
  const entries = makeTree(treeRoot);
  const treeMs = performance.now() - t;
  t = performance.now();
  const big = makeBigFile(bigFile);
  const bigMs = performance.now() - t;
  log(`  tree in ${(treeMs / 1000).toFixed(1)} s, file (${big.lines} lines) in ${(bigMs / 1000).toFixed(1)} s`);
  try {
    const cs = await Promise.all(Array.from({ length: P.fileClients }, () => client()));
    // A session_wait loop alongside: what a client following a session feels meanwhile.
    const watcher = await client();
    const tick = await startSession(watcher, 'codex', `ticks 0 100`, 'files-tick');
    const delays: number[] = [];
    let running = true;
    const watch = follow(watcher, tick.id, tick.initial.nextOffset, (page, at) => void tickDelays(page, at, delays), { stop: () => !running });
    await sleep(300);
    await health(server.url); // opens the window
    const opMs: Record<string, number[]> = { listRecursive: [], listFlat: [], readPage: [] };
    let opErrors = 0;
    let contentErrors = 0;
    const timed = async (kind: string, fn: () => Promise<void>) => {
      const t1 = performance.now();
      try {
        await fn();
      } catch (err) {
        opErrors++;
        log(`  ${kind} failed: ${(err as Error).message.slice(0, 200)}`);
      }
      opMs[kind].push(performance.now() - t1);
    };
    const lastPageOffset = big.lines - 1000;
    const offsets = [0, 2_000, 4_000, 6_000, Math.floor(big.lines / 4), Math.floor(big.lines / 2), lastPageOffset];
    const t0 = performance.now();
    await Promise.all(
      cs.map(async (c, k) => {
        for (let round = 0; round < P.fileRounds; round++) {
          await timed('listRecursive', async () => {
            const r = await call(c, 'list_directory', { path: 'tree', recursive: true });
            if (r.entries.length === 0) contentErrors++;
          });
          await timed('listFlat', async () => {
            const r = await call(c, 'list_directory', { path: `tree/d${String((k * 7 + round) % P.treeDirs).padStart(3, '0')}` });
            if (r.entries.length !== P.treeFilesPerDir) contentErrors++;
          });
          for (const offset of offsets) {
            await timed('readPage', async () => {
              const r = await call(c, 'read_file', { path: 'big.txt', offset, maxLines: 1000 });
              const first = Number(String(r.lines[0]).slice(0, 9));
              if (r.lines.length === 0 || first !== offset % BIG_CHUNK_LINES) contentErrors++;
            });
          }
        }
      }),
    );
    const loadMs = performance.now() - t0;
    const h = await health(server.url);
    running = false;
    await watch.catch(() => undefined);
    await call(watcher, 'session_kill', { sessionId: tick.id }).catch(() => undefined);
    await Promise.all([...cs, watcher].map((c) => closeClient(c)));
    const loop = h.eventLoopDelayRecent ?? {};
    target('files.loop.p99', 'event-loop delay p99 during file-tool load', loop.p99Ms ?? NaN, 'ms', '<=', 20, opErrors === 0 && contentErrors === 0);
    return {
      treeEntries: entries,
      bigFile: { bytes: big.bytes, lines: big.lines },
      setupMs: { tree: Math.round(treeMs), bigFile: Math.round(bigMs) },
      clients: P.fileClients,
      rounds: P.fileRounds,
      readOffsets: offsets,
      loadMs: Math.round(loadMs),
      opMs: Object.fromEntries(Object.entries(opMs).map(([k, v]) => [k, sum(summarize(v), 0)])),
      opErrors,
      contentErrors,
      supervisorEventLoop: loop,
      tickWakeupDuringLoadMs: sum(summarize(delays), 2),
    };
  } finally {
    fs.rmSync(bigFile, { force: true });
    fs.rmSync(treeRoot, { recursive: true, force: true });
  }
}

// ---- main -----------------------------------------------------------------------

function printTable(results: Record<string, any>): void {
  const m = results.machine;
  const lines: string[] = [];
  lines.push('');
  lines.push(`agentvisor bench — ${results.date}`);
  lines.push(`machine: ${m.cores} cores, ${m.cpuModel}, ${m.memTotalMB} MB RAM, Node ${m.node}, ${m.platform}`);
  lines.push(`load average at start ${results.loadAvgAtStart.join(' ')}, at end ${results.loadAvgAtEnd.join(' ')}`);
  lines.push('');
  const rows = targets.map((t) => [t.what, `${t.figure} ${t.unit}`, `${t.op} ${t.limit} ${t.unit}`, t.pass ? 'PASS' : 'MISS', t.note ?? '']);
  const head = ['measure', 'result', 'target', '', ''];
  const w = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  lines.push(fmt(head));
  lines.push(
    w
      .map((n) => '-'.repeat(n))
      .join('  ')
      .trimEnd(),
  );
  for (const r of rows) lines.push(fmt(r));
  lines.push('');
  const s = results.scenarios;
  const d = (x: Summary | undefined) => (x ? `p50 ${x.p50} / p95 ${x.p95} / max ${x.max} ms (n=${x.n})` : 'n/a');
  if (s.start) lines.push(`session_start:        ${d(s.start.ms)}; claude ${d(s.start.byAgent['claude-code'])}; codex ${d(s.start.byAgent.codex)}`);
  if (s.unconfined) lines.push(`start, SANDBOX=none:  ${d(s.unconfined.ms)} (the row above: sandbox=${s.unconfined.mainServerSandbox})`);
  if (s.wait) lines.push(`session_wait wake-up: ${d(s.wait.delayMs)}`);
  if (s.approvals) lines.push(`approval relay:       ask → wait ${d(s.approvals.askToWaitMs)}; approve → agent ${d(s.approvals.approveToAgentMs)}`);
  if (s.ingest?.pipe) lines.push(`ingest pipe:          ${s.ingest.pipe.runs.map((r: any) => r.linesPerSec).join(', ')} lines/s; correct=${s.ingest.pipe.allCorrect}`);
  if (s.ingest?.pty) lines.push(`ingest PTY:           ${s.ingest.pty.runs.map((r: any) => r.linesPerSec).join(', ')} lines/s; correct=${s.ingest.pty.allCorrect}`);
  if (s.appserver) {
    lines.push(`app-server start:     ${d(s.appserver.startMs)}`);
    lines.push(`ingest app-server:    ${s.appserver.ingest.runs.map((r: any) => r.linesPerSec).join(', ')} lines/s; correct=${s.appserver.ingest.allCorrect}`);
  }
  if (s.memory) {
    lines.push(
      `memory:               worker RSS median ${s.memory.workerRssMB.p50} MB (claude ${s.memory.byAgent['claude-code'].p50}, codex ${s.memory.byAgent.codex.p50}); bare node ${s.memory.bareNodeRssMB} MB; ` +
        `worker PSS ${s.memory.workerPssMB.p50} / private ${s.memory.workerPrivateMB.p50} MB vs bare ${s.memory.bareNodePssMB} / ${s.memory.bareNodePrivateMB} MB`,
    );
  }
  if (s.reattach) lines.push(`re-attach:            ${d(s.reattach.totalMs)} (listening after ${s.reattach.untilListeningMs.p50} ms)`);
  for (const [name, r] of (Object.entries(s) as Array<[string, any]>).filter(([k]) => k === 'scale' || k.startsWith('scale.'))) {
    const c = r.cpuPctOfOneCore;
    lines.push(
      `${`${name} (${r.sessions}):`.padEnd(22)}wake-up ${d(r.wakeupDelayMs)}; supervisor loop p50 ${r.supervisorEventLoop.p50Ms} / p99 ${r.supervisorEventLoop.p99Ms} / max ${r.supervisorEventLoop.maxMs} ms; ` +
        `CPU % of a core: supervisor ${c.supervisor}, workers ${c.allWorkers}, agents ${c.allAgents}, bench ${c.benchClients}`,
    );
  }
  if (s.files)
    lines.push(
      `file tools:           loop p50 ${s.files.supervisorEventLoop.p50Ms} / p99 ${s.files.supervisorEventLoop.p99Ms} / max ${s.files.supervisorEventLoop.maxMs} ms; read page ${d(s.files.opMs.readPage)}; tick wake-up ${d(s.files.tickWakeupDuringLoadMs)}`,
    );
  lines.push(`leftover processes: ${results.leftoverProcesses.length}; temp dir removed: ${results.tempDirRemoved}`);
  process.stdout.write(lines.join('\n') + '\n');
}

async function cleanup(): Promise<{ leftovers: number[]; removed: boolean }> {
  await closeAllClients().catch(() => undefined);
  for (const p of extraProcs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  // Interrupted during the app-server rows: the main server waits aside.
  if (suspended) await stopAndRemove(suspended.server, suspended.dirs);
  if (!dirs) return { leftovers: [], removed: true };
  // A profiled supervisor writes its profile on a graceful stop only.
  if (server && process.env.BENCH_CPU_PROF_DIR) {
    const t = setTimeout(() => void server.kill('SIGKILL'), 10_000);
    await server.kill('SIGTERM').catch(() => undefined);
    clearTimeout(t);
  }
  return stopAndRemove(server, dirs);
}

/** Ends a supervisor and everything under its temp dir (sessions still running end with their workers), then removes the dir. */
async function stopAndRemove(srv: Server | undefined, d: Dirs): Promise<{ leftovers: number[]; removed: boolean }> {
  if (srv) await srv.kill('SIGKILL').catch(() => undefined);
  for (let i = 0; i < 5; i++) {
    const pids = leftovers(d);
    if (pids.length === 0) break;
    killPids(pids);
    await sleep(200);
  }
  const left = leftovers(d);
  fs.rmSync(d.base, { recursive: true, force: true });
  return { leftovers: left, removed: !fs.existsSync(d.base) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const results: Record<string, any> = { date: new Date().toISOString(), machine: machine(), loadAvgAtStart: os.loadavg().map((x) => round(x, 2)), params: P, scenarios: {} };
  let failure: unknown;
  const onSignal = () => {
    log('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    dirs = makeDirs();
    server = await startServer(dirs);
    results.supervisorStartupMs = Math.round(server.startupMs);
    const sc = results.scenarios;
    const run = async (name: string, fn: () => Promise<Record<string, unknown>>, scenario = name) => {
      if (!ONLY.has(scenario)) return;
      const t = performance.now();
      sc[name] = await fn();
      sc[name].scenarioSeconds = round((performance.now() - t) / 1000);
    };
    const needIdle = ONLY.has('start') || ONLY.has('unconfined') || ONLY.has('memory') || ONLY.has('reattach');
    if (needIdle) {
      if (!ONLY.has('start')) ONLY.add('start');
      await run('start', benchStart);
      await run('unconfined', benchStartUnconfined);
      await run('memory', benchMemory);
      await run('reattach', benchReattach);
      const c = await client();
      await killSessions(
        c,
        idleIds.map((s) => s.id),
      );
      await closeClient(c);
    }
    await run('wait', benchWait);
    await run('ingest', benchIngest);
    await run('appserver', benchAppServer);
    // The first row keeps the name `scale` (results.json and BENCHMARKS.md refer to it); the others are `scale.<sessions>`.
    for (const [i, row] of P.scaleRows.entries()) {
      const name = i === 0 ? 'scale' : `scale.${row.sessions}`;
      await run(name, () => benchScale(row, name), 'scale');
    }
    await run('files', benchFiles);
    await run('stdio', () => benchStdio(server, dirs, target));
    await run('approvals', benchApprovals);
    await run('ui', async () => {
      const r = await benchUi(log);
      // 100 ms: the longest a page may stall and still answer a click "at once" (RAIL's response budget).
      target(
        'ui.follow',
        'dashboard: longest main-thread task, following a 200,000-line session (~175 lines/s) with 50 more printing',
        r.followLongestTaskMs,
        'ms',
        '<=',
        100,
        true,
        r.followLongTasks === 0 ? 'no task over 50 ms (0 = none)' : `${r.followLongTasks} tasks over 50 ms`,
      );
      target('ui.latency', 'dashboard: a printed line on screen, p95', r.lineLatencyMs.p95, 'ms', '<=', 1000, r.lineLatencyMs.n > 0);
      return r;
    });
  } catch (err) {
    failure = err;
    log(`FAILED: ${(err as Error).stack ?? String(err)}`);
    if (server) log(`supervisor stderr tail:\n${server.stderr().slice(-3000)}`);
    // Workers that died early say why in their stderr file (gone with the temp dir otherwise).
    try {
      const sessionsDir = path.join(dirs.stateDir, 'sessions');
      for (const id of fs.readdirSync(sessionsDir)) {
        const text = fs.readFileSync(path.join(sessionsDir, id, 'worker.stderr'), 'utf8').trim();
        if (text) log(`worker ${id} stderr:\n${text.slice(-3000)}`);
      }
    } catch {
      // nothing to show
    }
  }
  const cleaned = await cleanup();
  results.loadAvgAtEnd = os.loadavg().map((x) => round(x, 2));
  results.targets = targets;
  results.leftoverProcesses = cleaned.leftovers;
  results.tempDirRemoved = cleaned.removed;
  results.totalSeconds = round((Date.now() - started) / 1000);
  if (failure) results.error = String((failure as Error).message ?? failure);
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  printTable(results);
  process.stdout.write(`results: ${RESULTS} (${results.totalSeconds} s)\n`);
  process.exit(failure ? 1 : 0);
}

void main();
