/**
 * Supervising the live workers: one connection to each, its events journalled
 * before anyone is told, a reconnect when the connection drops while the worker
 * lives, the end acknowledged once journalled, and a heartbeat that notices a
 * worker connected but hung (heartbeat.ts).
 */
import { WorkerTimeouts } from '../../shared/constants';
import { isSameProcess } from '../../shared/procInfo';
import type { ApprovalOutcome, PendingApproval, WorkerState } from '../../shared/protocol';
import type { SessionRow } from '../journal';
import type { WorkerClient } from '../workerClient';
import { RECENT_LINES, type SessionCoreTimeouts } from './coreTimeouts';
import { Heartbeat } from './heartbeat';
import { RecentLines } from './recentLines';
import { type Connect, type CoreBase, type Emit, type LiveWorker, isEnded } from './sessionTypes';
import { Waiters } from './waiters';

export type AttachKind = 'started' | 're_attached';

export interface LiveWorkersDeps extends CoreBase {
  connect: Connect;
  timeouts: SessionCoreTimeouts;
  emit: Emit;
  /** Ends the record of a session whose worker is gone (recovery.ts). */
  reconcileDead(row: SessionRow): unknown;
  /** Mode ask's requests (approvals.ts): each hook journals before it returns, so a wake after it tells no one early. */
  approvals: {
    attached(id: string, state: WorkerState): void;
    pending(id: string, live: LiveWorker, approval: PendingApproval): void;
    resolved(id: string, live: LiveWorker, outcome: ApprovalOutcome): void;
    ended(id: string, status: string): void;
  };
}

export class LiveWorkers {
  private readonly live = new Map<string, LiveWorker>();
  private readonly beats = new Map<LiveWorker, Heartbeat>();
  private closed = false;

  constructor(private readonly d: LiveWorkersDeps) {}

  get(id: string): LiveWorker | undefined {
    return this.live.get(id);
  }

  ids(): string[] {
    return [...this.live.keys()];
  }

  /** What the live workers cannot do right now (for /health and doctor). */
  problems(): string[] {
    return [...this.live].flatMap(([id, l]) => [
      ...(l.state.outputNotPersisted ? [`session ${id}: output not persisted: ${l.state.outputNotPersisted}`] : []),
      ...(l.unresponsiveSince ? [`session ${id}: worker ${l.state.workerPid} connected but not answering since ${l.unresponsiveSince}`] : []),
    ]);
  }

  async attach(id: string, socketPath: string, secret: string, kind: AttachKind): Promise<void> {
    const { client, state } = await this.d.connect(socketPath, secret, WorkerTimeouts.requestMs);
    await this.adopt(id, client, state, kind);
  }

  /** Takes a connected worker into the registry: journal, lifecycle event, listeners. */
  async adopt(id: string, client: WorkerClient, state: WorkerState, kind: AttachKind): Promise<void> {
    // A resumed session's new worker replaces the old record; its waiters carry over.
    const waiters = this.live.get(id)?.waiters ?? new Waiters();
    const recent = new RecentLines(RECENT_LINES.chars, RECENT_LINES.lines);
    const live: LiveWorker = { client, state, waiters, reconnecting: false, unresponsiveSince: null, recent };
    this.live.set(id, live);
    this.d.journalGuard.write(() => this.d.journal.applyWorkerState(state, kind, { workerPid: state.workerPid, agentPid: state.agentPid }));
    this.d.approvals.attached(id, state);
    if (isEnded(state.status)) this.d.approvals.ended(id, state.status);
    this.d.emit('lifecycle', id, state.status, { event: kind });
    this.wire(id, live, client);
    if (isEnded(state.status)) await this.onEnded(id, live, state);
  }

  wake(id: string, live: LiveWorker): void {
    live.waiters.wake();
    this.d.emit('changed', id);
  }

  private wire(id: string, live: LiveWorker, client: WorkerClient): void {
    client.on('output', (nextOffset, lastOutputAt, tail) => {
      if (nextOffset > live.state.nextOffset) live.state = { ...live.state, nextOffset, lastOutputAt };
      live.recent.note(nextOffset, tail);
      this.wake(id, live);
    });
    client.on('state', (state) => {
      const prev = live.state;
      live.state = { ...state, nextOffset: Math.max(state.nextOffset, prev.nextOffset) };
      const kind = prev.status !== state.status ? state.status : prev.agentSessionId !== state.agentSessionId ? 'agent_session' : undefined;
      const journalled = live.state;
      this.d.journalGuard.write(() => this.d.journal.applyWorkerState(journalled, kind, kind ? { endReason: state.endReason, exitCode: state.exitCode, signal: state.signal } : undefined));
      if (isEnded(state.status) && !isEnded(prev.status)) this.d.approvals.ended(id, state.status);
      if (kind && kind !== 'agent_session') this.d.emit('lifecycle', id, state.status, { endReason: state.endReason, exitCode: state.exitCode });
      if (isEnded(state.status) && !isEnded(prev.status)) void this.onEnded(id, live, state);
      this.wake(id, live);
    });
    client.on('approvalPending', (approval) => {
      this.d.approvals.pending(id, live, approval);
      this.wake(id, live);
    });
    client.on('approvalResolved', (outcome) => {
      this.d.approvals.resolved(id, live, outcome);
      this.wake(id, live);
    });
    client.on('close', () => {
      this.beats.get(live)?.stop();
      if (live.client === client) live.client = undefined;
      if (!this.closed) void this.onDisconnect(id, live);
    });
    this.watch(id, live, client);
  }

  private watch(id: string, live: LiveWorker, client: WorkerClient): void {
    this.beats.get(live)?.stop();
    const { heartbeatIntervalMs: intervalMs, heartbeatGraceMs: graceMs } = this.d.timeouts;
    const beat = new Heartbeat(
      client,
      { intervalMs, graceMs },
      {
        unresponsive: (since) => {
          live.unresponsiveSince = since.toISOString();
          this.d.log.warn('worker unresponsive: connected but not answering', { sessionId: id, workerPid: live.state.workerPid, graceMs });
          this.d.journalGuard.write(() => this.d.journal.event(id, 'worker_unresponsive', { workerPid: live.state.workerPid, graceMs }));
          this.d.emit('lifecycle', id, live.state.status, { event: 'worker_unresponsive' });
          this.d.emit('changed', id);
        },
        responsive: (silentMs) => {
          live.unresponsiveSince = null;
          this.d.log.info('worker answering again', { sessionId: id, workerPid: live.state.workerPid, silentMs });
          this.d.journalGuard.write(() => this.d.journal.event(id, 'worker_responsive', { workerPid: live.state.workerPid, silentMs }));
          this.d.emit('lifecycle', id, live.state.status, { event: 'worker_responsive' });
          this.d.emit('changed', id);
        },
      },
    );
    this.beats.set(live, beat);
  }

  /** Called with the state a kill request answered: journalled like an event (the worker's own event may follow). */
  applyKillAnswer(live: LiveWorker, state: WorkerState, reason: string): void {
    // The end can overtake the answer (both in one read): an answer older than an end already seen must not undo it.
    if (isEnded(live.state.status)) return;
    const known = live.state.status; // the worker's state event, sent before this answer, journals the transition
    live.state = { ...state, nextOffset: Math.max(state.nextOffset, live.state.nextOffset) };
    const journalled = live.state;
    this.d.journalGuard.write(() => this.d.journal.applyWorkerState(journalled, state.status === known ? undefined : state.status, { reason }));
  }

  private async onEnded(id: string, live: LiveWorker, state: WorkerState): Promise<void> {
    this.d.log.info('session ended', { sessionId: id, status: state.status, exitCode: state.exitCode, reason: state.endReason });
    // Once the journal has it (applyWorkerState ran first, or waits in the guard) the worker may go.
    await this.d.journalGuard.whenCaughtUp();
    try {
      await live.client?.request('ackExit', {});
    } catch {
      // The worker exits on its own after exitAckMs; nothing depends on this ack.
    }
  }

  /** Drops a worker's record; `settle` journals its end first, so the woken waiters find it there. */
  private forget(id: string, live: LiveWorker, settle?: () => void): void {
    this.beats.get(live)?.stop();
    this.beats.delete(live);
    this.live.delete(id);
    settle?.();
    this.wake(id, live);
  }

  private async onDisconnect(id: string, live: LiveWorker): Promise<void> {
    // A resumed session has a new worker and a new entry by now: the old
    // worker's goodbye must not touch it.
    if (this.live.get(id) !== live) return;
    const row = this.d.journal.get(id);
    if (!row || isEnded(row.status) || live.reconnecting) return this.forget(id, live);
    live.reconnecting = true;
    const { reconnectAttempts, reconnectDelayMs } = this.d.timeouts;
    for (let attempt = 0; attempt < reconnectAttempts; attempt++) {
      if (!isSameProcess(row.worker_pid, row.worker_start_time)) break;
      await new Promise((r) => setTimeout(r, reconnectDelayMs));
      if (this.live.get(id) !== live || this.closed) return;
      try {
        const { client, state } = await this.d.connect(row.socket_path, row.secret, WorkerTimeouts.requestMs);
        live.client = client;
        live.state = state;
        live.recent.clear(); // what came while disconnected is not in it
        live.reconnecting = false;
        live.unresponsiveSince = null;
        this.d.journalGuard.write(() => this.d.journal.applyWorkerState(state, 're_attached', { after: 'connection drop' }));
        this.d.approvals.attached(id, state);
        this.wire(id, live, client);
        // An end that came while the connection was down is told like any other (client logs, notifications, pruning).
        if (isEnded(state.status)) this.d.emit('lifecycle', id, state.status, { endReason: state.endReason, exitCode: state.exitCode, event: 're_attached' });
        if (isEnded(state.status)) await this.onEnded(id, live, state);
        return;
      } catch {
        // retry while the worker process is alive
      }
    }
    live.reconnecting = false;
    if (this.live.get(id) !== live) return;
    this.forget(id, live, () => this.d.reconcileDead(row));
  }

  /** Stops supervising: every waiter is answered (not left to its timeout), every connection dropped. */
  closeAll(): void {
    this.closed = true;
    for (const [id, live] of this.live) {
      this.beats.get(live)?.stop();
      live.waiters.cancelAll();
      live.client?.close();
      this.live.delete(id);
    }
    this.beats.clear();
  }
}
