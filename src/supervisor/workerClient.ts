/**
 * The supervisor's end of one worker's socket: connect, authenticate with the
 * session secret, then typed request/response plus the worker's events. Every
 * frame from the worker is parsed by the protocol schemas here.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';
import {
  type ApprovalOutcome,
  FrameReader,
  type Method,
  type OutputTail,
  type ParamsOf,
  type PendingApproval,
  PROTOCOL_VERSION,
  ResultSchemas,
  type ResultOf,
  WorkerFrame,
  type WorkerState,
  encodeFrame,
} from '../shared/protocol';

export class WorkerRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  method: Method;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface WorkerClientEvents {
  output: [nextOffset: number, lastOutputAt: string, tail: OutputTail | undefined];
  state: [state: WorkerState];
  /** Issue 15: a request the agent waits on, and a pending one's outcome. */
  approvalPending: [approval: PendingApproval];
  approvalResolved: [outcome: ApprovalOutcome];
  close: [];
}

export class WorkerClient extends EventEmitter<WorkerClientEvents> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /**
   * Events that arrived before anyone listened. A worker's first output event can
   * come in the same read as its answer to hello, and is then parsed before the
   * caller of connect() has had a chance to add its listeners: emitted then, it
   * would be lost (and a session_start or session_wait would sleep until its
   * timeout). Kept, in order, and replayed once the first listener is added.
   */
  private early: Array<{ output: [number, string, OutputTail | undefined] } | { state: WorkerState } | { approval: PendingApproval } | { outcome: ApprovalOutcome }> | null = [];

  private constructor(
    private readonly sock: net.Socket,
    private readonly requestTimeoutMs: number,
  ) {
    super();
    sock.setEncoding('utf8');
    const reader = new FrameReader(
      (raw) => this.onFrame(raw),
      () => sock.destroy(new Error('oversized frame from worker')),
    );
    sock.on('data', (chunk: string) => reader.push(chunk));
    sock.on('error', () => undefined); // 'close' follows and says it
    // Listeners are added together (sessionManager.wire), so replay after the current job.
    (this as EventEmitter).once('newListener', () => queueMicrotask(() => this.replayEarly()));
    sock.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new WorkerRequestError('disconnected', 'worker connection closed'));
      }
      this.pending.clear();
      this.emit('close');
    });
  }

  /** Connects and says hello; resolves with the worker's state once it has accepted us. */
  static async connect(socketPath: string, secret: string, timeoutMs: number): Promise<{ client: WorkerClient; state: WorkerState }> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection(socketPath);
      const timer = setTimeout(() => s.destroy(new Error(`connect to ${socketPath} timed out`)), timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const client = new WorkerClient(sock, timeoutMs);
    try {
      const state = await client.request('hello', { protocolVersion: PROTOCOL_VERSION, secret });
      return { client, state };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * `onLate` hears an answer that comes after the request has timed out (a worker that was
   * stopped or starved): what it did then still happened, and the caller may need to record it.
   */
  request<M extends Method>(method: M, params: ParamsOf<M>, onLate?: (result: ResultOf<M>) => void): Promise<ResultOf<M>> {
    if (this.closed) return Promise.reject(new WorkerRequestError('disconnected', 'worker connection closed'));
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Kept for a late answer until it comes or the connection closes (which clears every entry).
        if (onLate) this.pending.set(id, { method, resolve: onLate as (v: unknown) => void, reject: () => undefined, timer });
        else this.pending.delete(id);
        reject(new WorkerRequestError('timeout', `worker did not answer ${method} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.sock.write(encodeFrame({ id, method, params }));
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private replayEarly(): void {
    const early = this.early ?? [];
    this.early = null;
    for (const e of early) {
      if ('output' in e) this.emit('output', ...e.output);
      else if ('state' in e) this.emit('state', e.state);
      else if ('approval' in e) this.emit('approvalPending', e.approval);
      else this.emit('approvalResolved', e.outcome);
    }
  }

  private onFrame(raw: unknown): void {
    const parsed = WorkerFrame.safeParse(raw);
    if (!parsed.success) return; // a malformed frame answers nothing; its request times out
    const frame = parsed.data;
    if ('event' in frame) {
      if (this.early) {
        const last = this.early[this.early.length - 1];
        // Output events only carry the newest offset: consecutive ones collapse into one.
        // (Their tails join when contiguous; otherwise the replayed event carries none and reads ask the worker.)
        if (frame.event === 'output' && last && 'output' in last) last.output = [frame.nextOffset, frame.lastOutputAt, joinTails(last.output[2], frame.tail)];
        else if (frame.event === 'output') this.early.push({ output: [frame.nextOffset, frame.lastOutputAt, frame.tail] });
        else if (frame.event === 'state' && this.early.length < 1_000) this.early.push({ state: frame.state });
        // Approvals are never dropped: each is a decision someone must see (their number is bounded by the agent's waiting).
        else if (frame.event === 'approvalPending') this.early.push({ approval: frame.approval });
        else if (frame.event === 'approvalResolved') this.early.push({ outcome: frame.outcome });
        return;
      }
      if (frame.event === 'output') this.emit('output', frame.nextOffset, frame.lastOutputAt, frame.tail);
      else if (frame.event === 'state') this.emit('state', frame.state);
      else if (frame.event === 'approvalPending') this.emit('approvalPending', frame.approval);
      else this.emit('approvalResolved', frame.outcome);
      return;
    }
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if ('error' in frame) {
      p.reject(new WorkerRequestError(frame.error.code, frame.error.message));
      return;
    }
    const result = ResultSchemas[p.method].safeParse(frame.result);
    if (result.success) p.resolve(result.data);
    else p.reject(new WorkerRequestError('bad_response', `malformed ${p.method} result from worker`));
  }
}

function joinTails(a: OutputTail | undefined, b: OutputTail | undefined): OutputTail | undefined {
  return a && b && a.offset + a.lines.length === b.offset ? { offset: a.offset, lines: [...a.lines, ...b.lines] } : undefined;
}
