/**
 * The one seam between a session's life cycle (agentSession.ts: running/exited,
 * resume, the message queue, the idle timer, kill escalation, the process tree,
 * the output log) and an agent's protocol. A driver knows how to talk to one
 * kind of agent process and nothing about timers, signals to the tree, or the
 * supervisor; the session knows nothing about any agent's wire format.
 *
 * One driver instance lives as long as its session (it keeps the conversation's
 * facts: the agent's session/thread id, usage, the last answer) and sees a
 * series of agent processes: the session starts a new one when a conversation
 * must continue after the previous process ended (resume). Everything a driver
 * learns it reports through `emit`; the session never asks it for state.
 *
 * This interface changes only additively: other drivers are written against it.
 */
import type { WorkerSpec, WorkerState, sessionProtocol } from '../../shared/protocol';
import type { AgentExit, AgentProcess } from '../agentProcess';

/** The protocols a worker can speak; reported in session info as the one that ran. */
export type AgentProtocol = ReturnType<typeof sessionProtocol>;

/**
 * How the agent's output arrives. `pipes`: stdout is newline-delimited (JSON) and may carry very
 * long lines; stderr is separate. `pty`: one terminal stream, to be rendered as a terminal would.
 */
export type Transport = 'pipes' | 'pty';

/** A session's usage so far, as WorkerState carries it (the contract defines the fields; `turns`: agent turns completed). */
export type SessionUsage = NonNullable<WorkerState['usage']>;

/** Token counts and cost of agent work since the last report, added up by the session (issue 14 item 5). */
export type UsageDelta = Omit<SessionUsage, 'turns'>;

/** What an approval asks about (issue 15). */
export type ApprovalKind = 'command' | 'file_change' | 'tool' | 'permissions';
export type ApprovalDecision = 'allow' | 'allow_for_session' | 'deny';

/** A permission request the agent is waiting on; the agent's process stays alive until it is answered. */
export interface ApprovalRequest {
  /** Unique within the session; the driver's own id, used to answer it. */
  approvalId: string;
  kind: ApprovalKind;
  /** One line for a person: `Bash: npm test`, `Write src/a.ts`, `apply_patch: 3 files`. */
  summary: string;
  /** The agent's request itself, JSON-serialisable and bounded by the driver. */
  request: unknown;
  /** The decisions this request may be answered with. */
  decisions: ApprovalDecision[];
  /** The tool as the agent names it (`Bash`, `Write`, Codex's `commandExecution`): what the spec's allowTools match. */
  tool?: string;
  /** The shell command, for a command request: what allowCommandPrefixes match. */
  command?: string;
  /**
   * What an `allow_for_session` answer covers when the worker must remember it. Unset when the
   * agent remembers such a grant itself (Codex's acceptForSession).
   */
  sessionScope?: SessionScope;
}

/**
 * A session grant, as narrow as the agent's request allows: a grant too wide allows what nobody saw
 * (`rm -rf build` must not cover `rm -rf build /home/user`). Later requests of `tool` it covers:
 * `tool` all of them; `commandPrefix` a command that is the prefix or the prefix and arguments;
 * `command` exactly this command; `file` this file path; `input` exactly this input (a digest).
 */
export interface SessionScope {
  tool: string;
  match: 'tool' | 'commandPrefix' | 'command' | 'file' | 'input';
  /** The prefix, command, file path or input digest; '' for `tool`. */
  value: string;
}

export interface ApprovalAnswer {
  decision: ApprovalDecision;
  /** Shown to the agent with a deny. */
  message?: string;
}

export type ApprovalResult = { ok: true } | { ok: false; error: string };

/**
 * A driver's answer to a message from the client:
 * - `delivered`: the agent has it (written to a live conversation); `steered` when it joined the
 *   turn in progress rather than starting one;
 * - `queue`: the current process cannot take it; the session queues it and it starts the next
 *   process (a resumed conversation) once this one ends;
 * - `refused`: it cannot be delivered in this form at all (e.g. raw keystrokes without a terminal).
 */
export type Delivery = { outcome: 'delivered'; steered?: boolean; note?: string } | { outcome: 'queue'; note: string } | { outcome: 'refused'; note: string };

/** What a driver reports. Events are handled synchronously, in order. */
export type DriverEvent =
  /** One line of readable output for the session's log (no ANSI, no newline inside). */
  | { type: 'line'; text: string }
  /** The agent's own conversation id (Claude session id, Codex thread id): what resume continues. */
  | { type: 'agentSessionId'; id: string }
  /** A turn began (the agent is working on a message). */
  | { type: 'turnStarted' }
  /** A turn ended; `ok` false for a failed or interrupted turn. */
  | { type: 'turnEnded'; ok: boolean }
  /**
   * Usage of agent work since the previous usage event (the session adds them up). A protocol that
   * reports running totals (per process, per thread) sends the difference from its last report.
   */
  | { type: 'usage'; delta: UsageDelta }
  /** The agent's latest final answer (replaces the previous one). */
  | { type: 'finalAnswer'; text: string }
  /**
   * A failure the agent reported. The session keeps the first one as its one-line errorSummary;
   * `onlyIfRecognised`: use it only if agentErrors.ts recognises a cause (a retry, a stderr line).
   */
  | { type: 'error'; text: string; onlyIfRecognised?: boolean }
  /** The agent waits for a decision (issue 15). The session does not idle-kill while any is pending. */
  | { type: 'approvalPending'; approval: ApprovalRequest }
  /** A pending approval was answered (by anyone) or withdrawn by the agent. */
  | { type: 'approvalResolved'; approvalId: string };

/** What the session tells a driver about the session, fixed for its life. */
export interface DriverContext {
  /** The session's launch spec (agent, cwd, model, mode, env, resume …); the driver must not change it. */
  spec: Readonly<WorkerSpec>;
  /** Reports everything the driver learns (see DriverEvent). */
  emit(event: DriverEvent): void;
}

export interface AgentDriver {
  readonly protocol: AgentProtocol;
  readonly transport: Transport;
  /**
   * How many queued messages one new process takes when the session continues a conversation
   * (Infinity: all of them at once; 1: one each, the rest wait for later processes).
   */
  readonly messagesPerProcess: number;
  /** The argv (after the binary) of a new agent process for `messages`, continuing `resumeId` if set. */
  command(messages: string[], resumeId: string | null): string[];
  /**
   * The process of that command is running (the session has spawned and registered it): start the
   * conversation. The driver writes to, and may close the input of, this process until the next
   * begin(); it ends a process whose work is done by closing its input. Signals are the session's
   * (kill, over the whole tree), except SIGINT where a protocol has no interrupt request.
   */
  begin(proc: AgentProcess, messages: string[], resumeId: string | null): void;
  /** One complete line of the process's stdout (terminal-rendered for `pty`). */
  stdoutLine(line: string): void;
  /** One complete line of its stderr (pipes only). */
  stderrLine(line: string): void;
  /** A client message for the running process; `queued`: how many already wait in the session's queue. */
  deliver(text: string, queued: number): Delivery;
  /** Raw input (keystrokes) for the agent's terminal or stdin, as the client typed it. */
  deliverRaw(text: string): Delivery;
  /**
   * Stop the turn in progress, keeping the conversation (the session has already cleared its
   * queue). The process may end; the next message then resumes the conversation.
   */
  interrupt(): void;
  /** Answers a pending approval. Drivers that cannot relay approvals say so. */
  answerApproval(approvalId: string, answer: ApprovalAnswer): ApprovalResult;
  /**
   * The session is being killed: a last chance to tell the agent (e.g. close its input).
   * The session signals the process tree regardless, so this must not wait for anything.
   */
  stop(): void;
  /**
   * The process ended (all its output has been delivered). Returns whether the conversation
   * ended well: the last turn succeeded and every message delivered to this process was answered.
   * Called once per process, before the session decides whether to continue or end.
   */
  processExited(exit: AgentExit): { completedSuccessfully: boolean };
  /** The session is gone: release timers and anything held. */
  dispose(): void;
}

/** Builds the driver for a session; the one place that chooses by agent (drivers/factory.ts). */
export type DriverFactory = (ctx: DriverContext) => AgentDriver;
