/**
 * JSON-RPC 2.0 over lines of text (one message per line, no Content-Length framing): the
 * wire of `codex app-server` on its stdin/stdout. Both sides send requests: we call
 * `thread/start`, and the server asks us for approvals.
 *
 * The peer is an agent, so its output is hostile input: lines come bounded (the session's
 * LineSplitter cuts longer ones; a cut piece is reported, never parsed), malformed JSON and messages of
 * no known shape are reported through `onProblem` and skipped, a response to no pending
 * request is reported, and a server request we do not handle is answered with a JSON-RPC
 * error at once instead of leaving the server waiting. Nothing here throws on input.
 *
 * Each request carries its own named timeout; when the peer goes away every pending request
 * is rejected with the reason, so no caller waits for an answer that cannot come.
 */
import { CUT_MARK } from '../../shared/sanitize';

/** JSON-RPC's own error codes (the spec's reserved range). */
export const RpcErrorCode = { parseError: -32700, invalidRequest: -32600, methodNotFound: -32601, internalError: -32603 } as const;

/** An error answer from the peer, or one we give to a server request. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A request that got no answer in time, or whose peer went away. */
export class RpcUnanswered extends Error {}

export interface RpcHandlers {
  notification(method: string, params: unknown): void;
  /** A server→client request; the value (or the promise's) is the result, an RpcError the error answer. `id`: the peer's, as a later notification may name it. */
  request(method: string, params: unknown, id: number | string): unknown;
  /** Input that was not a message we can act on; the line is dropped. */
  problem(what: string): void;
}

export interface RequestOptions {
  /** How long the peer may take to answer. */
  timeoutMs: number;
  /** Names the wait in the timeout's error ("thread/start"), so a log says which step hung. */
  what?: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

type Json = Record<string, unknown>;

/** A shortened view of a bad line for a report: enough to recognise, bounded. */
function excerpt(line: string): string {
  return JSON.stringify(line.length > 120 ? line.slice(0, 120) + '…' : line);
}

export class JsonRpcLineClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedReason: string | null = null;

  constructor(
    private readonly write: (line: string) => void,
    private readonly handlers: RpcHandlers,
  ) {}

  request<T = unknown>(method: string, params: unknown, opts: RequestOptions): Promise<T> {
    if (this.closedReason !== null) return Promise.reject(new RpcUnanswered(`${opts.what ?? method}: ${this.closedReason}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcUnanswered(`${opts.what ?? method}: no answer within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.send({ id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    if (this.closedReason === null) this.send(params === undefined ? { method } : { method, params });
  }

  /** Requests sent and not yet answered. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The peer is gone: every pending request fails with `reason`, later ones at once. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new RpcUnanswered(reason));
    }
  }

  private send(message: Json): void {
    this.write(JSON.stringify(message) + '\n');
  }

  /** One line of the peer's output. */
  receive(line: string): void {
    if (this.closedReason !== null || line.trim() === '') return;
    if (line.endsWith(CUT_MARK)) {
      // Part of a line over the bound: not JSON we could trust to be whole.
      this.handlers.problem(`a line longer than the limit was dropped: ${excerpt(line)}`);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.handlers.problem(`not JSON: ${excerpt(line)}`);
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      this.handlers.problem(`not a JSON-RPC message: ${excerpt(line)}`);
      return;
    }
    const m = msg as Json;
    const hasId = typeof m.id === 'number' || typeof m.id === 'string';
    if (typeof m.method === 'string') {
      if (hasId) this.answer(m.id as number | string, m.method, m.params);
      else this.handlers.notification(m.method, m.params);
    } else if (hasId && ('result' in m || 'error' in m)) {
      this.settle(m);
    } else {
      this.handlers.problem(`not a JSON-RPC message: ${excerpt(line)}`);
    }
  }

  private settle(m: Json): void {
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) {
      this.handlers.problem(`an answer to no pending request (id ${excerpt(String(m.id))})`);
      return;
    }
    this.pending.delete(m.id as number);
    clearTimeout(p.timer);
    if ('error' in m) {
      const e = (m.error && typeof m.error === 'object' ? m.error : {}) as Json;
      p.reject(new RpcError(typeof e.code === 'number' ? e.code : RpcErrorCode.internalError, typeof e.message === 'string' ? e.message : 'error without a message', e.data));
    } else {
      p.resolve(m.result);
    }
  }

  /** Answers a server request, always: with its handler's result, or an error. */
  private answer(id: number | string, method: string, params: unknown): void {
    const reply = (body: Json) => {
      if (this.closedReason === null) this.send({ id, ...body });
    };
    const fail = (err: unknown) => {
      const e = err instanceof RpcError ? err : new RpcError(RpcErrorCode.internalError, err instanceof Error ? err.message : String(err));
      reply({ error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) } });
    };
    // Inside a promise, a handler that throws is answered like one that rejects, and in the same order.
    new Promise((resolve) => resolve(this.handlers.request(method, params, id))).then((result) => reply({ result: result ?? null }), fail);
  }
}
