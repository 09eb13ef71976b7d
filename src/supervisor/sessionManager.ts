/**
 * The supervisor's registry of sessions: starts workers, keeps one connection
 * to each live one, journals every state change before anyone is told of it,
 * answers output reads (from the worker while it lives, from disk after), and
 * re-attaches to surviving workers when the supervisor starts again.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'winston';
import { Limits, WorkerTimeouts } from '../shared/constants';
import { FINAL_STATE_FILE, SPEC_FILE } from '../shared/sessionFiles';
import { isSameProcess, killGroupIfSame } from '../shared/procInfo';
import {
  type AgentKind,
  type AgentMode,
  type EndReason,
  PROTOCOL_VERSION,
  type SessionStatus,
  WorkerSpec,
  sessionProtocol,
  WorkerState,
} from '../shared/protocol';
import { resolveAgentBinary } from './agentBinaries';
import type { AgentCatalog } from './agentCapabilities';
import { type DiffResult, diffSince, snapshotTree } from './gitDiff';
import { agentEnv } from './agentEnv';
import { agentEnvProblem, agentTextProblem } from './agentInput';
import { prepareCwd } from './fs/cwdPin';
import { SessionRoots } from './fs/sessionRoots';
import type { Config } from './config';
import type { Journal, SessionRow } from './journal';
import { forgetEndedBeyond } from './retention';
import { type ListQuery, listSessions } from './sessionListing';
import { type SendReply, deliverInput, inputRecord, newInputId, priorDelivery } from './inputDelivery';
import { JournalGuard } from './journalGuard';
import { createSessionDir } from './sessionDir';
import { type EndedOutput, loadEndedOutput } from './endedOutput';
import { readFinalState } from './finalState';
import { reattachAll } from './reattach';
import { launchWorker } from './workerLauncher';
import { WorkerClient, WorkerRequestError } from './workerClient';

import { SessionError } from './sessionError';
export { SessionError };

const SupervisorTimeouts = {
  /** A dropped connection to a live worker is retried after this pause … */
  reconnectDelayMs: 200,
  /** … this many times before the worker is presumed wedged and its session ended. */
  reconnectAttempts: 5,
  /** session_kill waits this long for the agent to go, so the common case answers `killed`, not `killing`. */
  killReplyWaitMs: 1_000,
  /** Extra time past KILL_GRACE for `stop --kill-sessions` to see every agent gone. */
  shutdownKillMarginMs: 2_000,
} as const;

/** Ended sessions whose output is held in memory for reads (LRU). */
const ENDED_RING_CACHE = 16;

export interface SessionInfo {
  sessionId: string;
  agent: AgentKind;
  cwd: string;
  status: SessionStatus;
  pid: number | null;
  startedAt: string;
  endedAt: string | null;
  lastOutputAt: string | null;
  /** Milliseconds since the last output (or since start): tells "working" from "stuck". */
  silentForMs: number;
  outputLines: number;
  exitCode: number | null;
  signal: string | null;
  endReason: string | null;
  completedSuccessfully: boolean | null;
  agentSessionId: string | null;
  errorSummary: string | null;
  /** How the worker drove the agent: claude, codex-app-server or codex-exec (null: from before it was recorded). */
  protocol: string | null;
}

export interface OutputPage {
  sessionId: string;
  status: SessionStatus;
  lines: string[];
  /** Absolute offset of lines[0]. */
  offset: number;
  /** Pass as `since` to continue. */
  nextOffset: number;
  /** Lines older than the buffer keeps, between `since` and `offset`. */
  dropped: number;
  hasMore: boolean;
  exitCode: number | null;
  completedSuccessfully: boolean | null;
  agentSessionId: string | null;
  errorSummary: string | null;
  note?: string;
}

export interface StartRequest {
  agent: AgentKind;
  /** Absolute, already checked to be inside WORKSPACE_DIR. */
  cwd: string;
  task: string;
  model?: string | null;
  mode?: AgentMode;
  env?: Record<string, string>;
}

interface Live {
  client: WorkerClient | undefined;
  state: WorkerState;
  waiters: Set<() => void>;
  reconnecting: boolean;
}

export interface ManagerEvents {
  /** New output or a state change in a session (drives waits and resource notifications). */
  changed: [sessionId: string];
  /** A session started, ended, was lost or continued (drives client log notifications). */
  lifecycle: [sessionId: string, status: SessionStatus, detail: Record<string, unknown>];
}

function toInfo(row: SessionRow, live: Live | undefined): SessionInfo {
  const s = live?.state;
  const lastOutputAt = s?.lastOutputAt ?? row.last_output_at;
  // With no output yet, count from the row's last activity: the start, or for a session continued
  // by session_send the resume (its new worker reports no output of its own yet), not from when
  // the session was first created hours ago.
  const since = Date.parse(lastOutputAt ?? row.last_activity_at ?? row.created_at);
  const endedAt = s?.endedAt ?? row.ended_at;
  return {
    sessionId: row.id,
    agent: row.agent,
    protocol: row.protocol,
    cwd: row.cwd,
    status: row.status,
    pid: s?.agentPid ?? row.agent_pid,
    startedAt: row.created_at,
    endedAt,
    lastOutputAt,
    silentForMs: Math.max(0, (endedAt ? Date.parse(endedAt) : Date.now()) - since),
    outputLines: Math.max(s?.nextOffset ?? 0, row.output_lines),
    exitCode: row.exit_code,
    signal: row.signal,
    endReason: row.end_reason,
    completedSuccessfully: row.completed_successfully === null ? null : row.completed_successfully === 1,
    agentSessionId: row.agent_session_id,
    errorSummary: row.error_summary,
  };
}

const isEnded = (status: SessionStatus) => status !== 'running' && status !== 'killing';

export class SessionManager extends EventEmitter<ManagerEvents> {
  private readonly live = new Map<string, Live>();
  private readonly endedRings = new Map<string, EndedOutput>();
  private readonly cwdRoots = new SessionRoots();
  private readonly sessionsRoot: string;
  private readonly socketsRoot: string;
  private closed = false;
  /** Journal writes go through this: a full disk degrades the supervisor instead of killing it. */
  readonly journalGuard: JournalGuard;

  constructor(
    private readonly config: Config,
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly catalog?: AgentCatalog,
  ) {
    super();
    this.setMaxListeners(0);
    // Every end (exited, killed, lost, recovered from a final record) is journalled before it is told: prune then.
    this.on('lifecycle', (_id, status) => void (isEnded(status) && !this.closed && this.pruneEnded()));
    this.journalGuard = new JournalGuard(log, (detail) => journal.event(null, 'journal_writable_again', detail));
    this.sessionsRoot = path.join(config.STATE_DIR, 'sessions');
    this.socketsRoot = path.join(config.STATE_DIR, 'sock');
    for (const dir of [this.sessionsRoot, this.socketsRoot]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(dir, 0o700);
    }
  }

  // ---- queries -------------------------------------------------------------

  /** What this supervisor cannot record right now (for /health and doctor). */
  problems(): string[] {
    const out = [...this.live].flatMap(([id, l]) => (l.state.outputNotPersisted ? [`session ${id}: output not persisted: ${l.state.outputNotPersisted}`] : []));
    return this.journalGuard.unwritable ? [`journal cannot be written: ${this.journalGuard.unwritable}`, ...out] : out;
  }

  list(query: ListQuery = {}): { sessions: SessionInfo[]; nextCursor: string | null; counts: Partial<Record<SessionStatus, number>> } {
    const page = listSessions(this.journal, query);
    return { sessions: page.rows.map((row) => toInfo(row, this.live.get(row.id))), nextCursor: page.nextCursor, counts: page.counts };
  }

  info(id: string): SessionInfo {
    return toInfo(this.row(id), this.live.get(id));
  }

  /** Working directories of sessions still running, as pinned at start (the file tools may read there). */
  activeCwds() {
    return this.cwdRoots.rootsOf(this.journal.live());
  }

  private row(id: string): SessionRow {
    const row = this.journal.get(id);
    if (!row) throw new SessionError(`unknown sessionId "${id}" (ended sessions past ENDED_SESSIONS_KEPT are forgotten). Call session_list to see the sessions that exist.`);
    return row;
  }

  // ---- start -----------------------------------------------------------------

  async start(req: StartRequest): Promise<{ info: SessionInfo; initialOutput: OutputPage }> {
    if (this.closed) throw new SessionError('agentvisor is shutting down; try again when it is back');
    this.journalGuard.assertWritable();
    // Security: text execve would cut short and env a session may not set are refused before anything exists (agentInput.ts).
    const badInput = agentTextProblem(req.agent, 'task', req.task) ?? agentEnvProblem(req.env, this.config.SESSION_ENV_ALLOW);
    if (badInput) throw new SessionError(badInput);
    const running = this.journal.live().length;
    if (running >= this.config.MAX_SESSIONS) {
      throw new SessionError(
        `MAX_SESSIONS (${this.config.MAX_SESSIONS}) sessions are already running. Wait for one to end or end one with session_kill.`,
      );
    }
    const configured = req.agent === 'claude-code' ? this.config.CLAUDE_BIN : this.config.CODEX_BIN;
    const bin = resolveAgentBinary(req.agent, configured, process.env.PATH);
    if (!bin.ok) throw new SessionError(bin.error);
    const env = agentEnv(process.env, this.config.childEnv, req.env);
    const mode = req.mode ?? 'full';
    if (req.agent === 'claude-code' && mode === 'full' && process.getuid?.() === 0 && this.config.childEnv.IS_SANDBOX !== '1') {
      throw new SessionError(
        'Claude Code refuses full-permission mode (--dangerously-skip-permissions) when run as root. ' +
          'If this host is a container or sandbox, start agentvisor with CHILD_ENV_IS_SANDBOX=1; ' +
          'otherwise run agentvisor as a normal user, or use mode "edit" or "plan", which work as root.',
      );
    }
    const pinned = prepareCwd(req.cwd, this.config.WORKSPACE_DIR);
    if (!pinned.ok) throw new SessionError(pinned.error);

    const refusal = this.catalog?.refusal(req.agent, mode, req.model ?? null);
    if (refusal) throw new SessionError(refusal);
    const codex = req.agent === 'codex' && this.catalog ? await this.catalog.codexProtocol(this.config.CODEX_PROTOCOL) : ({ ok: true, protocol: 'exec' } as const);
    if (!codex.ok) throw new SessionError(codex.error);
    // Before the agent can touch anything: the state session_diff compares against.
    const snapshot = await snapshotTree(req.cwd);

    const id = crypto.randomUUID();
    const sessionDir = path.join(this.sessionsRoot, id);
    const spec: WorkerSpec = {
      protocolVersion: PROTOCOL_VERSION,
      sessionId: id,
      agent: req.agent,
      agentBin: bin.path,
      cwd: req.cwd,
      cwdIdentity: pinned.identity,
      task: req.task,
      model: req.model ?? null,
      mode,
      env,
      sessionDir,
      codexProtocol: codex.protocol,
      // Unix socket paths are limited to ~104 bytes: keep the name short.
      socketPath: path.join(this.socketsRoot, id.slice(0, 8) + id.slice(9, 13) + '.sock'),
      secret: crypto.randomBytes(32).toString('hex'),
      resume: null,
      idleTimeoutMs: this.config.IDLE_TIMEOUT,
      killGraceMs: this.config.KILL_GRACE,
      orphanTimeoutMs: this.config.ORPHAN_TIMEOUT,
      exitAckMs: WorkerTimeouts.exitAckMs,
      outputFlushMs: WorkerTimeouts.outputFlushMs,
      partialLineFlushMs: WorkerTimeouts.partialLineFlushMs,
      ringLines: this.config.RING_LINES,
      maxLineChars: Limits.maxLineChars,
      logLevel: this.config.LOG_LEVEL,
    };
    // Journalled before the worker exists: a crash from here on leaves a row that
    // the next start-up reconciles (re-attached or marked lost), never a ghost.
    const specPath = createSessionDir(spec, () => this.journalGuard.mustWrite(() => this.journal.insertSession({
      id,
      agent: req.agent,
      cwd: req.cwd,
      task: req.task,
      model: spec.model,
      mode,
      protocol: sessionProtocol(spec),
      socket_path: spec.socketPath,
      session_dir: sessionDir,
      secret: spec.secret,
    })));
    if (snapshot.ok) this.journalGuard.write(() => this.journal.setGitBase(id, snapshot.tree));
    const log = this.log.child({ sessionId: id });

    let ready;
    try {
      ready = await launchWorker({
        specPath,
        stderrPath: path.join(sessionDir, 'worker.stderr'),
        readyTimeoutMs: this.config.WORKER_READY_TIMEOUT,
      });
    } catch (err) {
      this.journalGuard.write(() => this.journal.markFailed(id, (err as Error).message));
      log.error('worker failed to start', { error: (err as Error).message });
      throw new SessionError(`could not start the session's worker: ${(err as Error).message}`);
    }
    log.info('worker started', { workerPid: ready.pid, agent: req.agent, cwd: req.cwd });

    await this.attach(id, spec.socketPath, spec.secret, 'started');
    const initialOutput = await this.waitFirstOutput(id);
    return { info: this.info(id), initialOutput };
  }

  /** Returns once the session has printed something or ended, or after START_OUTPUT_WAIT: never a fixed sleep. */
  private async waitFirstOutput(id: string): Promise<OutputPage> {
    const live = this.live.get(id);
    if (live && live.state.nextOffset === 0 && !isEnded(live.state.status)) {
      await this.waitForChange(id, () => {
        const l = this.live.get(id);
        return !l || l.state.nextOffset > 0 || isEnded(l.state.status);
      }, this.config.START_OUTPUT_WAIT);
    }
    return this.read(id, 0, 200, 20_000);
  }

  // ---- attach / re-attach ----------------------------------------------------

  private async attach(id: string, socketPath: string, secret: string, eventKind: 'started' | 're_attached'): Promise<void> {
    const { client, state } = await WorkerClient.connect(socketPath, secret, WorkerTimeouts.requestMs);
    await this.adopt(id, client, state, eventKind);
  }

  /** Takes a connected worker into the registry: journal, lifecycle event, listeners. */
  private async adopt(id: string, client: WorkerClient, state: WorkerState, eventKind: 'started' | 're_attached'): Promise<void> {
    const live: Live = { client, state, waiters: new Set(), reconnecting: false };
    this.live.set(id, live);
    this.journalGuard.write(() => this.journal.applyWorkerState(state, eventKind, { workerPid: state.workerPid, agentPid: state.agentPid }));
    this.emit('lifecycle', id, state.status, { event: eventKind });
    this.wire(id, live, client);
    if (isEnded(state.status)) await this.onEnded(id, live, state);
  }

  private wire(id: string, live: Live, client: WorkerClient): void {
    client.on('output', (nextOffset, lastOutputAt) => {
      if (nextOffset > live.state.nextOffset) live.state = { ...live.state, nextOffset, lastOutputAt };
      this.wake(id, live);
    });
    client.on('state', (state) => {
      const prev = live.state;
      live.state = { ...state, nextOffset: Math.max(state.nextOffset, prev.nextOffset) };
      const kind = prev.status !== state.status ? state.status : prev.agentSessionId !== state.agentSessionId ? 'agent_session' : undefined;
      const journalled = live.state;
      this.journalGuard.write(() => this.journal.applyWorkerState(journalled, kind, kind ? { endReason: state.endReason, exitCode: state.exitCode, signal: state.signal } : undefined));
      if (kind && kind !== 'agent_session') this.emit('lifecycle', id, state.status, { endReason: state.endReason, exitCode: state.exitCode });
      if (isEnded(state.status) && !isEnded(prev.status)) void this.onEnded(id, live, state);
      this.wake(id, live);
    });
    client.on('close', () => {
      if (live.client === client) live.client = undefined;
      if (!this.closed) void this.onDisconnect(id, live);
    });
  }

  private async onEnded(id: string, live: Live, state: WorkerState): Promise<void> {
    this.log.info('session ended', { sessionId: id, status: state.status, exitCode: state.exitCode, reason: state.endReason });
    // Once the journal has it (applyWorkerState ran first, or waits in the guard) the worker may go.
    await this.journalGuard.whenCaughtUp();
    try {
      await live.client?.request('ackExit', {});
    } catch {
      // The worker exits on its own after exitAckMs; nothing depends on this ack.
    }
  }

  private async onDisconnect(id: string, live: Live): Promise<void> {
    // A resumed session has a new worker and a new entry by now: the old
    // worker's goodbye must not touch it.
    if (this.live.get(id) !== live) return;
    const row = this.journal.get(id);
    if (!row || isEnded(row.status) || live.reconnecting) {
      this.live.delete(id);
      this.wake(id, live);
      return;
    }
    live.reconnecting = true;
    for (let attempt = 0; attempt < SupervisorTimeouts.reconnectAttempts; attempt++) {
      if (!isSameProcess(row.worker_pid, row.worker_start_time)) break;
      await new Promise((r) => setTimeout(r, SupervisorTimeouts.reconnectDelayMs));
      if (this.live.get(id) !== live) return;
      try {
        const { client, state } = await WorkerClient.connect(row.socket_path, row.secret, WorkerTimeouts.requestMs);
        live.client = client;
        live.state = state;
        live.reconnecting = false;
        this.journalGuard.write(() => this.journal.applyWorkerState(state, 're_attached', { after: 'connection drop' }));
        this.wire(id, live, client);
        if (isEnded(state.status)) await this.onEnded(id, live, state);
        return;
      } catch {
        // retry while the worker process is alive
      }
    }
    live.reconnecting = false;
    if (this.live.get(id) !== live) return;
    this.live.delete(id);
    this.reconcileDead(row);
    this.wake(id, live);
  }

  /**
   * A session whose worker is gone: if the worker recorded an outcome, that is
   * the truth; if not, it died hard — mark it lost and make sure its agent does
   * not live on without supervision.
   */
  private reconcileDead(row: SessionRow): void {
    const final = readFinalState(row.session_dir);
    if (final?.ok) {
      this.journalGuard.write(() => this.journal.applyWorkerState(final.state, final.state.status, { recoveredFrom: 'final record' }));
      this.emit('lifecycle', row.id, final.state.status, { endReason: final.state.endReason });
      return;
    }
    // A worker that is alive but unreachable is as good as lost: end it too.
    killGroupIfSame(row.worker_pid, row.worker_start_time);
    const killedAgent = killGroupIfSame(row.agent_pid, row.agent_start_time);
    this.journalGuard.write(() => this.journal.markLost(
      row.id,
      row.worker_pid === null
        ? 'agentvisor stopped while starting this session; its worker never reported ready'
        : (final ? `worker process ${row.worker_pid} died and its ${final.error}` : `worker process ${row.worker_pid} died without recording an outcome`) +
            (killedAgent ? '; its agent was killed' : ''),
    ));
    this.log.warn('session lost: worker died', { sessionId: row.id, workerPid: row.worker_pid, killedAgent });
    this.emit('lifecycle', row.id, 'lost', { reason: 'worker died' });
  }

  /** On start-up: re-attach to every worker the journal believes alive, in parallel (reattach.ts). */
  async reattachAll(): Promise<{ reattached: number; lost: number; ended: number }> {
    const counts = await reattachAll({
      journal: this.journal,
      journalGuard: this.journalGuard,
      log: this.log,
      sessionsRoot: this.sessionsRoot,
      adopt: (id, client, state) => this.adopt(id, client, state, 're_attached'),
      reconcileDead: (row) => this.reconcileDead(row),
    });
    this.pruneEnded(); // a lowered ENDED_SESSIONS_KEPT, or sessions that ended while we were down
    return counts;
  }

  // ---- send / read / wait / kill ---------------------------------------------

  private liveClient(id: string): WorkerClient {
    const row = this.row(id);
    if (isEnded(row.status)) {
      throw new SessionError(`session ${id} has ended (${row.status}${row.end_reason ? ', ' + row.end_reason : ''}); start a new session to continue.`);
    }
    const client = this.live.get(id)?.client;
    if (!client) throw new SessionError(`session ${id}'s worker is not reachable right now; try again in a moment.`);
    return client;
  }

  async send(id: string, message: string, raw: boolean, idempotencyKey?: string): Promise<SendReply> {
    this.journalGuard.assertWritable();
    const row = this.row(id);
    // Security: a non-raw message becomes an agent's input or, for Codex, its next command line (agentInput.ts).
    const badInput = raw ? null : agentTextProblem(row.agent, 'message', message);
    if (badInput) throw new SessionError(badInput);
    // A key already taken is answered like the first time, not delivered again (#12 item 4; deliverInput too).
    if (isEnded(row.status) && !raw) return priorDelivery(this.journal, id, idempotencyKey) ?? this.resume(row, message, idempotencyKey);
    const client = this.liveClient(id);
    try {
      return await deliverInput(client, this.journal, id, { text: message, raw, idempotencyKey }, (fn) => this.journalGuard.write(fn));
    } catch (err) {
      // The agent ended between our look at the journal and the worker's answer: the
      // ended state is on its way; once journalled, continue the session like any ended one.
      if (err instanceof WorkerRequestError && err.code === 'session_ended' && !raw) {
        if (await this.waitEnded(id, WorkerTimeouts.exitAckMs)) return this.resume(this.row(id), message, idempotencyKey);
      }
      throw new SessionError(`could not send to session ${id}: ${(err as Error).message}`);
    }
  }

  /**
   * Continues an ended session's conversation in a new worker under the same
   * session id: same cwd and environment, output offsets carrying on from the
   * lines already on disk.
   */
  private async resume(row: SessionRow, message: string, idempotencyKey?: string): Promise<SendReply> {
    if (!row.agent_session_id) {
      throw new SessionError(
        `session ${row.id} has ended (${row.status}) before the agent reported its conversation id, so it cannot be continued; start a new session.`,
      );
    }
    if (this.journal.live().length >= this.config.MAX_SESSIONS) {
      throw new SessionError(`MAX_SESSIONS (${this.config.MAX_SESSIONS}) sessions are already running; end one before continuing this one.`);
    }
    const specPath = path.join(row.session_dir, SPEC_FILE);
    let spec: WorkerSpec;
    try {
      spec = WorkerSpec.parse(JSON.parse(fs.readFileSync(specPath, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SessionError(`session ${row.id}'s files are no longer kept (past ENDED_SESSIONS_KEPT), so it cannot be continued; start a new session.`);
      }
      const why = err instanceof SyntaxError || !(err as NodeJS.ErrnoException).code ? (err as Error).message.split('\n')[0] : (err as NodeJS.ErrnoException).code;
      throw new SessionError(`session ${row.id} cannot be continued: its launch spec ${specPath} is unreadable (${why}); start a new session.`);
    }
    spec.resume = { agentSessionId: row.agent_session_id, message };
    fs.writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600 });
    // The previous outcome must not be mistaken for this run's if the new worker dies.
    fs.rmSync(path.join(row.session_dir, FINAL_STATE_FILE), { force: true });
    this.endedRings.delete(row.id);
    const inputId = newInputId();
    this.journalGuard.mustWrite(() => this.journal.markResumed(row.id, { agentSessionId: row.agent_session_id, chars: message.length, ...inputRecord(inputId, idempotencyKey) }));
    try {
      await launchWorker({ specPath, stderrPath: path.join(row.session_dir, 'worker.stderr'), readyTimeoutMs: this.config.WORKER_READY_TIMEOUT });
      await this.attach(row.id, spec.socketPath, spec.secret, 're_attached');
    } catch (err) {
      this.journalGuard.write(() => this.journal.markLost(row.id, `could not restart the worker to continue: ${(err as Error).message}`));
      throw new SessionError(`could not continue session ${row.id}: ${(err as Error).message}`);
    }
    return { delivered: true, queued: false, resumed: true, inputId, note: `session ${row.id} continues the agent's conversation ${row.agent_session_id}` };
  }

  async read(id: string, since: number, limit: number, maxBytes: number): Promise<OutputPage> {
    const row = this.row(id);
    const live = this.live.get(id);
    let page;
    let files: EndedOutput | undefined;
    if (live?.client && !isEnded(row.status)) {
      try {
        page = await live.client.request('read', { since, limit, maxBytes });
      } catch {
        // The worker died (or dropped the connection) while we asked: its crash is being
        // reconciled right now. Answer from the output it flushed to disk instead of
        // failing the read; the worker flushes before every read it answers, so this
        // holds every line a client has already been shown.
        page = (files = this.endedRing(row)).ring.read(since, limit, maxBytes);
      }
    } else {
      page = (files = this.endedRing(row)).ring.read(since, limit, maxBytes);
    }
    const fresh = this.journal.get(id) ?? row;
    const result: OutputPage = {
      sessionId: id,
      status: fresh.status,
      ...page,
      exitCode: fresh.exit_code,
      completedSuccessfully: fresh.completed_successfully === null ? null : fresh.completed_successfully === 1,
      agentSessionId: fresh.agent_session_id,
      errorSummary: fresh.error_summary,
    };
    if (files?.note) result.note = files.note;
    else if (page.dropped > 0) {
      result.note = `${page.dropped} line(s) before offset ${page.offset} are no longer kept (the buffer holds the last ${this.config.RING_LINES}).`;
    }
    return result;
  }

  /** Output of a session without a live worker, from its files on disk. */
  private endedRing(row: SessionRow): EndedOutput {
    let ring = this.endedRings.get(row.id);
    // Only cache once the session has ended: a lost-but-flushing worker could still add lines.
    if (!ring) {
      ring = loadEndedOutput(row.session_dir, row.output_lines, this.config.RING_LINES);
      if (isEnded(row.status)) {
        this.endedRings.set(row.id, ring);
        if (this.endedRings.size > ENDED_RING_CACHE) this.endedRings.delete(this.endedRings.keys().next().value!);
      }
    }
    return ring;
  }

  /**
   * Blocks until output past `since` exists or the session ends, then reads.
   * Woken by the worker's output event: no polling.
   */
  async wait(id: string, since: number | undefined, timeoutMs: number, limit: number, maxBytes: number, signal?: AbortSignal): Promise<OutputPage & { timedOut: boolean }> {
    const row = this.row(id);
    const live = this.live.get(id);
    const from = since ?? live?.state.nextOffset ?? row.output_lines;
    const ready = () => {
      const l = this.live.get(id);
      if (!l) return true; // ended or lost: read what there is
      return l.state.nextOffset > from || isEnded(l.state.status);
    };
    let timedOut = false;
    if (!isEnded(row.status) && !ready()) {
      timedOut = !(await this.waitForChange(id, ready, timeoutMs, signal));
    }
    return { ...(await this.read(id, from, limit, maxBytes)), timedOut };
  }

  /** Resolves true when `pred` holds, false on timeout or abort. */
  private waitForChange(id: string, pred: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const live = this.live.get(id);
    if (!live) return Promise.resolve(pred());
    return new Promise<boolean>((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        live.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const check = () => {
        if (pred()) done(true);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      live.waiters.add(check);
      // A request cancelled before we got here never fires 'abort' again.
      if (signal?.aborted) return done(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  private wake(id: string, live: Live): void {
    for (const w of [...live.waiters]) w();
    this.emit('changed', id);
  }

  /** What the agent changed in its cwd since the session started. */
  async diff(id: string): Promise<DiffResult & { base: string | null }> {
    const row = this.row(id);
    if (!row.git_base_tree) {
      return {
        ok: false,
        base: null,
        error: `session ${id}'s cwd (${row.cwd}) was not inside a git repository when it started, so there is no recorded state to diff against. Run git init before starting a session to get diffs.`,
        files: [],
        lines: [],
      };
    }
    if (!fs.existsSync(row.cwd)) return { ok: false, base: row.git_base_tree, error: `cwd ${row.cwd} no longer exists`, files: [], lines: [] };
    return { ...(await diffSince(row.cwd, row.git_base_tree)), base: row.git_base_tree };
  }

  /**
   * Whether a session has ended, as the journal says. Waiters call this on every
   * output event, so a session its live worker reports running is answered from
   * memory; the journal is read only once the worker says it ended (by then the
   * journal has it: state events are journalled before waiters are woken).
   */
  private hasEnded(id: string): boolean {
    const live = this.live.get(id);
    if (live && !isEnded(live.state.status)) return false;
    return isEnded(this.journal.get(id)?.status ?? 'lost');
  }

  /** Resolves true once the session has ended, false on timeout or cancellation. */
  async waitEnded(id: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const ended = () => this.hasEnded(id);
    if (ended()) return true;
    return this.waitForChange(id, ended, timeoutMs, signal);
  }

  /** The agent's last answer: from the live worker, or from the final record of an ended one. */
  finalAnswer(id: string): string | null {
    const live = this.live.get(id);
    if (live) return live.state.finalAnswer;
    const final = readFinalState(this.row(id).session_dir);
    return final?.ok ? final.state.finalAnswer : null; // none: lost, unreadable, or no longer kept
  }

  async interrupt(id: string): Promise<SessionInfo & { note?: string }> {
    const row = this.row(id);
    if (isEnded(row.status)) return { ...toInfo(row, undefined), note: `session had already ended (${row.status}); session_send continues it` };
    const state = await this.liveClient(id).request('interrupt', {});
    this.journalGuard.write(() => this.journal.event(id, 'interrupted', { agentPid: state.agentPid }));
    return { ...this.info(id), note: 'the current turn is being interrupted; session_send continues the conversation' };
  }

  async kill(id: string, reason: EndReason = 'killed'): Promise<SessionInfo & { note?: string }> {
    const row = this.row(id);
    if (isEnded(row.status)) return { ...toInfo(row, undefined), note: `session had already ended (${row.status})` };
    const client = this.liveClient(id);
    const state = await client.request('kill', { reason });
    const live = this.live.get(id);
    if (live) {
      const known = live.state.status; // the worker's state event, sent before this answer, journals the transition
      live.state = { ...state, nextOffset: Math.max(state.nextOffset, live.state.nextOffset) };
      const journalled = live.state;
      this.journalGuard.write(() => this.journal.applyWorkerState(journalled, state.status === known ? undefined : state.status, { reason }));
      await this.waitForChange(id, () => this.hasEnded(id), SupervisorTimeouts.killReplyWaitMs);
    }
    return this.info(id);
  }

  // ---- lifetime ----------------------------------------------------------------

  private pruneEnded(): void {
    for (const id of forgetEndedBeyond(this.journal, this.config.ENDED_SESSIONS_KEPT, this.sessionsRoot, this.log)) this.endedRings.delete(id);
  }

  /**
   * Stops supervising. Workers keep running for the next supervisor unless
   * `killSessions`, in which case every session is ended first (SIGTERM, then
   * SIGKILL after KILL_GRACE, by each worker).
   */
  async close(opts: { killSessions: boolean }): Promise<void> {
    if (opts.killSessions) {
      const ids = [...this.live.keys()];
      await Promise.all(ids.map((id) => this.kill(id, 'shutdown').catch(() => undefined)));
      await Promise.all(
        ids.map((id) =>
          this.waitForChange(id, () => this.hasEnded(id), this.config.KILL_GRACE + SupervisorTimeouts.shutdownKillMarginMs),
        ),
      );
    }
    this.closed = true;
    for (const live of this.live.values()) live.client?.close();
    this.live.clear();
  }
}
