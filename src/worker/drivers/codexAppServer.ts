/**
 * Codex over `codex app-server` (issue 14): JSON-RPC lines on the process's stdin/stdout,
 * the protocol Codex's own editor integrations use. A message sent during a turn joins that
 * turn (`turn/steer`), output comes as structured items, and usage is counted.
 *
 * The protocol as 0.169 speaks it (checked by hand against the scripted model server; the
 * whole of it: `codex app-server generate-json-schema --out DIR` / `generate-ts`):
 * - `initialize {clientInfo, capabilities}` → `{userAgent, codexHome, …}`, then the
 *   notification `initialized`. Before any thread, Codex notifies `configWarning` (e.g. "could
 *   not find bubblewrap") and `remoteControl/status/changed`.
 * - `thread/start {cwd?, model?, sandbox, approvalPolicy}` → `{thread: {id, …}}`; without
 *   `cwd` the thread runs in the process's own cwd (which the session entered by handle).
 *   `thread/resume {threadId, …, excludeTurns}` in a new process continues the thread from its
 *   rollout under CODEX_HOME: the model's next request holds the whole history. Codex then
 *   notifies the thread's old usage totals (turnId of an old turn) before anything new.
 * - `turn/start {threadId, input: [{type: "text", text}]}` → `{turn: {id, status: "inProgress"}}`
 *   at once; the turn runs on: `turn/started`, `item/started`/`item/completed` per item
 *   (`userMessage`, `agentMessage` with `item/agentMessage/delta` while it streams,
 *   `commandExecution` {command, exitCode, aggregatedOutput, durationMs}, `fileChange`, …),
 *   `thread/tokenUsage/updated` {total, last} after each model call, `thread/status/changed`,
 *   and `turn/completed {turn: {status: completed|failed|interrupted, error}}`.
 * - `turn/steer {threadId, expectedTurnId, input}` → `{turnId}`: the text becomes a
 *   `userMessage` item of the running turn and is in the model's next request (an answer the
 *   model was still streaming is dropped, with its usage). It fails when no turn is active.
 * - `turn/interrupt {threadId, turnId}` → `{}`; the turn completes `interrupted`.
 * - With approval policy `never` no approval request comes; a write in a read-only sandbox
 *   fails inside the tool and the model sees "writing is blocked by read-only sandbox".
 *   With `untrusted` (mode ask) Codex asks before commands and patches: codexApprovals.ts.
 * - End of stdin ends the process (exit 0), which is how a finished process is let go.
 *
 * One process lives while there is work: it ends (input closed) when a turn completes with
 * nothing pending, and the session's next message starts a new process that resumes the
 * thread, as the other drivers do.
 */
import type { AgentMode } from '../../shared/protocol';
import { inlineField, sanitize, terminalText } from '../../shared/sanitize';
import type { AgentExit, AgentProcess } from '../agentProcess';
import { CodexApprovalRelay } from './codexApprovals';
import { CodexItemFormatter, type FormattedNotification } from './codexItems';
import type { AgentDriver, ApprovalAnswer, ApprovalResult, Delivery, DriverContext } from './driver';
import { JsonRpcLineClient, RpcError } from './jsonRpcLines';

export const CodexAppServerTimeouts = {
  /** initialize and thread/start|resume: Codex reads its config and the thread's rollout, well under a second when alive. */
  handshakeMs: 30_000,
  /** turn/start, turn/steer, turn/interrupt are answered when queued, before any model call. */
  turnRequestMs: 15_000,
};
export type CodexAppServerTimeouts = typeof CodexAppServerTimeouts;

/** The sandbox and approval policy of each mode (issue 14 item 2). */
export const MODE_POLICY: Record<AgentMode, { sandbox: string; approvalPolicy: string }> = {
  full: { sandbox: 'danger-full-access', approvalPolicy: 'never' },
  edit: { sandbox: 'workspace-write', approvalPolicy: 'never' },
  plan: { sandbox: 'read-only', approvalPolicy: 'never' },
  ask: { sandbox: 'workspace-write', approvalPolicy: 'untrusted' },
};

/**
 * argv after the binary. `unbounded_connection_retries` off, as for `codex exec`
 * (agentCommands.ts): with it on, an unreachable model server is retried for good and the
 * session never ends.
 */
export const APP_SERVER_ARGS = ['--disable', 'unbounded_connection_retries', 'app-server'];

const CLIENT_INFO = { name: 'agentvisor', title: 'agentvisor', version: '1' };

/** One app-server process and where its conversation stands. */
interface Run {
  proc: AgentProcess;
  rpc: JsonRpcLineClient;
  items: CodexItemFormatter;
  threadId: string | null;
  /** The turn in progress, known from turn/start's answer (null between turns). */
  turnId: string | null;
  /** Client operations in order (handshake, turn/start, steer, interrupt): a steer follows the start it steers. */
  chain: Promise<void>;
  /** Operations on the chain not finished yet: the process is not let go while any is. */
  busy: number;
  /** A message delivered to this process has no completed turn after it yet. */
  unanswered: boolean;
  lastTurnOk: boolean | null;
  /** Turns completed in this process (so a late turn/start answer cannot revive one). */
  endedTurns: Set<string>;
  inputClosed: boolean;
}

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function textInput(messages: string[]): unknown[] {
  return messages.map((text) => ({ type: 'text', text, text_elements: [] }));
}

export class CodexAppServerDriver implements AgentDriver {
  readonly protocol = 'codex-app-server' as const;
  readonly transport = 'pipes' as const;
  /** Messages queued while no process ran go into one turn's input together. */
  readonly messagesPerProcess = Infinity;
  private run: Run | null = null;
  private readonly timeouts: CodexAppServerTimeouts;
  private readonly approvals: CodexApprovalRelay;

  constructor(
    private readonly ctx: DriverContext,
    timeouts: Partial<CodexAppServerTimeouts> = {},
  ) {
    this.timeouts = { ...CodexAppServerTimeouts, ...timeouts };
    this.approvals = new CodexApprovalRelay(ctx, (text) => this.steerNote(text));
  }

  /** Messages and the thread to resume travel over JSON-RPC, not in argv. */
  command(_messages: string[], _resumeId: string | null): string[] {
    return [...APP_SERVER_ARGS];
  }

  begin(proc: AgentProcess, messages: string[], resumeId: string | null): void {
    this.run?.rpc.close('a new app-server process took over');
    const rpc = new JsonRpcLineClient((line) => proc.write(line), {
      // `run` is set below, before begin() returns and so before any line can arrive.
      notification: (method, params) => this.notification(run, method, params),
      request: (method, params, id) => this.serverRequest(method, params, id),
      problem: (what) => this.ctx.emit({ type: 'line', text: `[agentvisor] codex app-server sent ${inlineField(what)}` }),
    });
    const run: Run = {
      proc,
      rpc,
      items: new CodexItemFormatter(),
      threadId: null,
      turnId: null,
      chain: Promise.resolve(),
      busy: 0,
      unanswered: messages.length > 0,
      lastTurnOk: null,
      endedTurns: new Set(),
      inputClosed: false,
    };
    this.run = run;
    this.enqueue(run, 'start', async () => {
      const handshake = { timeoutMs: this.timeouts.handshakeMs };
      await run.rpc.request('initialize', { clientInfo: CLIENT_INFO, capabilities: null }, { ...handshake, what: 'initialize' });
      run.rpc.notify('initialized');
      const spec = this.ctx.spec;
      // developerInstructions on resume too: a resumed thread is configured afresh by its new process.
      const policy = { ...(spec.model ? { model: spec.model } : {}), ...(spec.instructions ? { developerInstructions: spec.instructions } : {}), ...MODE_POLICY[spec.mode] };
      const result = resumeId
        ? await run.rpc.request('thread/resume', { threadId: resumeId, ...policy, excludeTurns: true }, { ...handshake, what: 'thread/resume' })
        : await run.rpc.request('thread/start', policy, { ...handshake, what: 'thread/start' });
      const threadId = field(field(result, 'thread'), 'id');
      if (typeof threadId !== 'string') throw new Error(`${resumeId ? 'thread/resume' : 'thread/start'} answered without a thread id`);
      run.threadId = threadId;
      this.ctx.emit({ type: 'agentSessionId', id: threadId });
      if (messages.length) await this.startTurn(run, messages);
    });
  }

  stdoutLine(line: string): void {
    this.run?.rpc.receive(line);
  }

  stderrLine(line: string): void {
    // Codex logs here (warnings, tool errors) in colour: shown plain, and a summary only when it names a known cause.
    const text = sanitize(line);
    this.ctx.emit({ type: 'error', text, onlyIfRecognised: true });
    this.ctx.emit({ type: 'line', text });
  }

  deliver(text: string, _queued: number): Delivery {
    const run = this.run;
    if (!run || run.inputClosed) return { outcome: 'queue', note: 'the Codex app-server process is ending; this message starts the next turn on the same thread' };
    // A turn is running or being started: the message joins it.
    const steered = run.turnId !== null || run.busy > 0;
    run.unanswered = true;
    this.enqueue(run, 'message', async () => {
      if (run.turnId !== null && run.threadId !== null) {
        try {
          const input = { threadId: run.threadId, expectedTurnId: run.turnId, input: textInput([text]) };
          await run.rpc.request('turn/steer', input, { timeoutMs: this.timeouts.turnRequestMs, what: 'turn/steer' });
          return;
        } catch (err) {
          // The turn ended before the steer reached it: the message starts the next turn instead.
          if (!(err instanceof RpcError)) throw err;
        }
      }
      await this.startTurn(run, [text]);
    });
    return { outcome: 'delivered', steered };
  }

  deliverRaw(_text: string): Delivery {
    return {
      outcome: 'refused',
      note: 'raw input needs a terminal, and this Codex session runs over app-server (JSON-RPC on pipes): send the text as a message, or start the session with CODEX_PROTOCOL=exec',
    };
  }

  interrupt(): void {
    const run = this.run;
    // Nothing running and nothing being started: there is no turn to stop.
    if (!run || run.inputClosed || (run.turnId === null && run.busy === 0)) return;
    this.enqueue(run, 'interrupt', async () => {
      if (run.turnId === null || run.threadId === null) return; // it ended meanwhile
      await run.rpc.request('turn/interrupt', { threadId: run.threadId, turnId: run.turnId }, { timeoutMs: this.timeouts.turnRequestMs, what: 'turn/interrupt' });
    });
  }

  answerApproval(approvalId: string, answer: ApprovalAnswer): ApprovalResult {
    return this.approvals.answer(approvalId, answer);
  }

  stop(): void {
    if (this.run) this.closeInput(this.run);
  }

  processExited(exit: AgentExit): { completedSuccessfully: boolean } {
    const run = this.run;
    if (!run) return { completedSuccessfully: false };
    run.inputClosed = true;
    this.approvals.clear();
    run.rpc.close(`the app-server exited (${exit.signal ?? `code ${exit.exitCode}`})`);
    return { completedSuccessfully: run.lastTurnOk === true && !run.unanswered && exit.exitCode === 0 };
  }

  dispose(): void {
    this.run?.rpc.close('the session is gone');
  }

  private async startTurn(run: Run, messages: string[]): Promise<void> {
    const input = { threadId: run.threadId, input: textInput(messages) };
    const result = await run.rpc.request('turn/start', input, { timeoutMs: this.timeouts.turnRequestMs, what: 'turn/start' });
    const turnId = field(field(result, 'turn'), 'id');
    if (typeof turnId !== 'string') throw new Error('turn/start answered without a turn id');
    // A turn/completed that overtook this answer has already ended it.
    if (!run.endedTurns.has(turnId)) run.turnId = turnId;
  }

  /** Runs `op` after every earlier operation; a failure ends the process (the session then decides). */
  private enqueue(run: Run, what: string, op: () => Promise<void>): void {
    run.busy++;
    run.chain = run.chain
      .then(op)
      .catch((err: unknown) => {
        if (run.inputClosed) return; // the process is gone or going: its exit says why
        const text = `codex app-server: ${what} failed: ${err instanceof Error ? err.message : String(err)}`;
        this.ctx.emit({ type: 'error', text });
        this.ctx.emit({ type: 'line', text: `[error] ${inlineField(text)}` });
        run.lastTurnOk = false;
        this.closeInput(run);
      })
      .finally(() => {
        run.busy--;
        this.letGoIfDone(run);
      });
  }

  private notification(run: Run, method: string, params: unknown): void {
    this.approvals.notification(method, params);
    const f: FormattedNotification = run.items.notification(method, params);
    if (f.turnStarted) {
      run.turnId = f.turnStarted;
      this.ctx.emit({ type: 'turnStarted' });
    }
    for (const text of f.lines) this.ctx.emit({ type: 'line', text });
    if (f.usage) this.ctx.emit({ type: 'usage', delta: f.usage });
    if (f.answer !== undefined) this.ctx.emit({ type: 'finalAnswer', text: terminalText(f.answer) });
    const end = f.turnEnded;
    if (!end) return;
    run.endedTurns.add(end.turnId);
    if (run.turnId === end.turnId) run.turnId = null;
    run.lastTurnOk = end.outcome === 'completed';
    if (run.lastTurnOk) run.unanswered = false;
    if (end.errorSummary) this.ctx.emit({ type: 'error', text: end.errorSummary });
    this.ctx.emit({ type: 'turnEnded', ok: run.lastTurnOk });
    this.letGoIfDone(run);
  }

  /** A deny's message, told to the model in the turn that asked (a decline carries none). */
  private async steerNote(text: string): Promise<void> {
    const run = this.run;
    if (!run || run.inputClosed || run.turnId === null || run.threadId === null) return;
    const input = { threadId: run.threadId, expectedTurnId: run.turnId, input: textInput([text]) };
    await run.rpc.request('turn/steer', input, { timeoutMs: this.timeouts.turnRequestMs, what: 'turn/steer' }).catch(() => {
      // The turn ended meanwhile: the decline alone tells the model, which is what matters (fail closed).
    });
  }

  private serverRequest(method: string, params: unknown, id: number | string): unknown {
    try {
      return this.approvals.request(method, params, id);
    } catch (err) {
      this.ctx.emit({ type: 'line', text: `[agentvisor] refused codex's request ${inlineField(method)}` });
      throw err;
    }
  }

  /** No turn running and nothing on its way: end of input lets the process exit. */
  private letGoIfDone(run: Run): void {
    if (!run.inputClosed && run.turnId === null && run.busy === 0 && run.threadId !== null) this.closeInput(run);
  }

  private closeInput(run: Run): void {
    if (run.inputClosed) return;
    run.inputClosed = true;
    run.proc.closeInput();
  }
}
