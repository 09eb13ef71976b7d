/**
 * An in-process worker for the session core's tests: a Unix-socket server that
 * speaks the real IPC protocol (framing, hello with secret, requests, output and
 * state events) over a socket the real WorkerClient connects to. What a real
 * worker does on its own (print, end, hang, drop the connection) is done by the
 * test, on cue. Its "process" is a detached `sleep` child, so the core's pid
 * checks (reconnect, reconciling a dead worker) see a real process that is safe
 * to kill — never the test runner's.
 */
import { workerState } from '../ipcSupport';
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { FrameReader, PROTOCOL_VERSION, encodeFrame } from '../../../src/shared/framing';
import { processStartTime } from '../../../src/shared/procInfo';
import type { ApprovalOutcome, EndReason, PendingApproval, SessionStatus, WorkerSpec, WorkerState } from '../../../src/shared/protocol';
import { RingBuffer } from '../../../src/shared/ringBuffer';
import { isEnded } from '../../../src/shared/sessionStatus';
import type { LaunchOptions, WorkerReady } from '../../../src/supervisor/workerLauncher';

type Frame = { id: number; method: string; params: Record<string, unknown> };

export class FakeWorker extends EventEmitter<{ attached: []; request: [method: string] }> {
  readonly ring = new RingBuffer(1_000);
  state: WorkerState;
  /** Requests received: the heartbeat's pings among them. */
  readonly seen: string[] = [];
  private readonly server: net.Server;
  private conn: net.Socket | undefined;
  private held: Array<() => void> | null = null;
  private readonly proc: ChildProcess;

  private constructor(
    readonly spec: WorkerSpec,
    private readonly greeting: string[],
  ) {
    super();
    this.proc = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    const pid = this.proc.pid!;
    this.state = workerState({ sessionId: spec.sessionId, workerPid: pid, workerStartTime: processStartTime(pid), agentSessionId: 'conv-1' });
    this.server = net.createServer((sock) => this.accept(sock));
  }

  /** `greeting`: lines printed once the first supervisor has said hello, as an agent's first output. */
  static async start(spec: WorkerSpec, greeting: string[] = []): Promise<FakeWorker> {
    const w = new FakeWorker(spec, greeting);
    fs.rmSync(spec.socketPath, { force: true });
    await new Promise<void>((resolve) => w.server.listen(spec.socketPath, resolve));
    return w;
  }

  get pid(): number {
    return this.state.workerPid;
  }

  /** Whether output events carry the new lines (`tail`), as a real worker's do when they are few. */
  sendTails = false;

  print(...lines: string[]): void {
    const from = this.ring.nextOffset;
    for (const l of lines) this.ring.push(l);
    this.state = { ...this.state, nextOffset: this.ring.nextOffset, lastOutputAt: new Date().toISOString() };
    const tail = this.sendTails ? { tail: { offset: from, lines } } : {};
    this.event({ event: 'output', nextOffset: this.state.nextOffset, lastOutputAt: this.state.lastOutputAt, ...tail });
  }

  end(status: SessionStatus = 'exited', endReason: EndReason = 'exited'): void {
    this.state = { ...this.state, status, endReason, endedAt: new Date().toISOString(), exitCode: status === 'exited' ? 0 : null, completedSuccessfully: status === 'exited', finalAnswer: 'done' };
    this.event({ event: 'state', state: this.state });
  }

  /** Outcomes of the approvals this worker held, as a real one remembers them (its answer to a repeated `approve`). */
  readonly outcomes = new Map<string, ApprovalOutcome>();

  /** The agent asks (mode ask): held until answered, as a real worker holds it. */
  ask(approvalId: string, summary = 'Bash: npm test', request: unknown = { command: 'npm test' }): PendingApproval {
    const approval: PendingApproval = { approvalId, kind: 'command', summary, request, decisions: ['allow', 'allow_for_session', 'deny'], createdAt: new Date().toISOString() };
    this.state = { ...this.state, pendingApprovals: [...this.state.pendingApprovals, approval] };
    this.event({ event: 'approvalPending', approval });
    return approval;
  }

  /** A pending request ends on the worker's side (its timeout, a rule, the agent withdrawing it). */
  resolve(approvalId: string, decision: ApprovalOutcome['decision'], decidedBy: string, message: string | null = null): ApprovalOutcome {
    const outcome: ApprovalOutcome = { approvalId, decision, decidedBy, message, decidedAt: new Date().toISOString() };
    this.outcomes.set(approvalId, outcome);
    this.state = { ...this.state, pendingApprovals: this.state.pendingApprovals.filter((a) => a.approvalId !== approvalId) };
    this.event({ event: 'approvalResolved', outcome });
    return outcome;
  }

  /** Stops answering (a SIGSTOPped worker: the socket stays open, requests wait). */
  hang(): void {
    this.held ??= [];
  }

  /** Answers everything held, in order, and from then on at once. */
  unhang(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const answer of held) answer();
  }

  /** Drops the supervisor's connection; the worker keeps listening, as a real one does. */
  dropConnection(): void {
    this.conn?.destroy();
  }

  /** Gone for good: the socket closed and the "process" dead (and reaped, so no pid check mistakes it for alive). */
  async dispose(): Promise<void> {
    this.conn?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    try {
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      // already signalled by the core (a dead worker's group is killed); 'exit' still comes
    }
    await exited;
  }

  private event(frame: unknown): void {
    if (this.conn && !this.conn.destroyed) this.conn.write(encodeFrame(frame));
  }

  private accept(sock: net.Socket): void {
    sock.setEncoding('utf8');
    let authed = false;
    const reply = (frame: unknown) => sock.destroyed || sock.write(encodeFrame(frame));
    const reader = new FrameReader(
      (raw) => {
        const f = raw as Frame;
        if (!authed) {
          if (f.method !== 'hello' || f.params.secret !== this.spec.secret || f.params.protocolVersion !== PROTOCOL_VERSION) return sock.destroy();
          authed = true;
          this.conn?.destroy();
          this.conn = sock;
          reply(this.handle(f));
          this.emit('attached');
          const greeting = this.greeting.splice(0);
          if (greeting.length > 0) this.print(...greeting);
          return;
        }
        this.seen.push(f.method);
        this.emit('request', f.method);
        const answer = () => reply(this.handle(f));
        if (this.held) this.held.push(answer);
        else answer();
      },
      () => sock.destroy(),
    );
    sock.on('data', (chunk: string) => reader.push(chunk));
    sock.on('error', () => undefined);
  }

  private handle(f: Frame): unknown {
    switch (f.method) {
      case 'read': {
        const p = f.params as { since: number; limit: number; maxBytes: number };
        return { id: f.id, result: this.ring.read(p.since, p.limit, p.maxBytes) };
      }
      case 'send': {
        if (isEnded(this.state.status)) return { id: f.id, error: { code: 'session_ended', message: 'session has ended' } };
        this.print(`you said: ${String(f.params.text)}`);
        return { id: f.id, result: { delivered: true, queued: false, inputId: f.params.inputId } };
      }
      case 'kill':
        this.state = { ...this.state, status: 'killing' };
        this.event({ event: 'state', state: this.state });
        // The agent goes after the answer, as a real one does after SIGTERM.
        setImmediate(() => this.end('killed', f.params.reason as EndReason));
        return { id: f.id, result: this.state };
      case 'ackExit':
        return { id: f.id, result: {} };
      case 'approve': {
        const p = f.params as { approvalId: string; decision: 'allow' | 'allow_for_session' | 'deny'; message?: string; decidedBy: string };
        const before = this.outcomes.get(p.approvalId);
        if (before) return { id: f.id, result: { outcome: before, alreadyDecided: true } };
        if (!this.state.pendingApprovals.some((a) => a.approvalId === p.approvalId)) return { id: f.id, error: { code: 'bad_request', message: `unknown approval ${p.approvalId}` } };
        return { id: f.id, result: { outcome: this.resolve(p.approvalId, p.decision, p.decidedBy, p.message ?? null), alreadyDecided: false } };
      }
      default: // hello, state, interrupt
        return { id: f.id, result: this.state };
    }
  }
}

/** A launcher for SessionManager's `io.launch`: reads the spec the core wrote and starts a FakeWorker on its socket. */
export function fakeLauncher(workers: FakeWorker[], greeting: string[] = []): (opts: LaunchOptions) => Promise<WorkerReady> {
  return async (opts) => {
    const spec = JSON.parse(fs.readFileSync(opts.specPath, 'utf8')) as WorkerSpec;
    const w = await FakeWorker.start(spec, greeting);
    workers.push(w);
    return { pid: w.pid, startTime: w.state.workerStartTime };
  };
}
