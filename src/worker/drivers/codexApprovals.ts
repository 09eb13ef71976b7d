/**
 * Answers to `codex app-server`'s requests to its client.
 *
 * Modes full, edit and plan run with approval policy `never`, so Codex should not ask; when it
 * does anyway (a permission escalation, a future CLI), the answer follows the mode: full accepts,
 * edit accepts file changes only, plan declines. Mode `ask` (issue 15) runs with policy
 * `untrusted`: every approval request is relayed (CodexApprovalRelay) and held until the session
 * decides. allow → accept, allow_for_session → acceptForSession (Codex remembers it), deny →
 * decline; a decline carries no message, so a deny's message is first steered into the running
 * turn (turn/steer), then the decline sent: the model's next request holds both. 0.169 lists
 * `availableDecisions` on some command requests yet takes acceptForSession and decline on every
 * one (issue 15), so all three decisions are always offered. `serverRequest/resolved` for a
 * request still held means Codex no longer waits for it: withdrawn.
 *
 * A request of a kind we do not serve (user input, MCP elicitation, dynamic tools, auth
 * refresh) gets a JSON-RPC error at once: left unanswered, it would hold the turn for good.
 */
import type { AgentMode } from '../../shared/protocol';
import { inlineField } from '../../shared/sanitize';
import type { ApprovalAnswer, ApprovalKind, ApprovalRequest, ApprovalResult, DriverContext } from './driver';
import { RpcError, RpcErrorCode } from './jsonRpcLines';
import { boundedRequest, newApprovalId, shownPath } from './shared';

/** The result for a server request, or a thrown/rejected RpcError. */
export type ServerRequestAnswerer = (method: string, params: unknown) => unknown;

type Params = Record<string, unknown>;
interface Wire {
  kind: ApprovalKind;
  /** null: grant what was asked (permissions), for the turn or the session. */
  accept: unknown;
  acceptForSession: unknown;
  decline: unknown;
  isEdit: boolean;
}

/** The server requests that are approvals, and what each answer is on the wire. */
const APPROVALS = new Map<string, Wire>(
  Object.entries({
    'item/commandExecution/requestApproval': { kind: 'command', accept: { decision: 'accept' }, acceptForSession: { decision: 'acceptForSession' }, decline: { decision: 'decline' }, isEdit: false },
    'item/fileChange/requestApproval': { kind: 'file_change', accept: { decision: 'accept' }, acceptForSession: { decision: 'acceptForSession' }, decline: { decision: 'decline' }, isEdit: true },
    // Granting nothing is the refusal; accepting grants what was asked (an empty profile would grant nothing either).
    'item/permissions/requestApproval': { kind: 'permissions', accept: null, acceptForSession: null, decline: { permissions: {}, scope: 'turn' }, isEdit: false },
    // The v1 names, still in 0.169's ServerRequest.
    applyPatchApproval: { kind: 'file_change', accept: { decision: 'approved' }, acceptForSession: { decision: 'approved_for_session' }, decline: { decision: 'denied' }, isEdit: true },
    execCommandApproval: { kind: 'command', accept: { decision: 'approved' }, acceptForSession: { decision: 'approved_for_session' }, decline: { decision: 'denied' }, isEdit: false },
  } satisfies Record<string, Wire>),
);

function params(p: unknown): Params {
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Params) : {};
}

/**
 * Codex runs a command as `/bin/bash -lc '<command>'`: the command is what a person (and a prefix rule) means. Quoted
 * inside, it is left whole (a rule then cannot match it: asked). Codex's shell-join quotes only what needs it, so a
 * one-word script of shell-safe characters (shlex's set, not starting with `-`) comes unquoted: `/bin/bash -lc ls`.
 */
const SHELL_WRAPPER = /^(?:\/usr)?\/bin\/(?:ba|z)?sh -l?c (?:'([^']*)'|([\w@%+=:,./][\w@%+=:,./-]*))$/;

export function unwrapShell(command: string): string {
  const m = SHELL_WRAPPER.exec(command);
  return m?.[1] ?? m?.[2] ?? command;
}

function grant(wire: Wire, p: Params, scope: 'turn' | 'session'): unknown {
  const answer = scope === 'session' ? wire.acceptForSession : wire.accept;
  return answer !== null ? answer : { permissions: p.permissions ?? {}, scope };
}

/** The answerer for a session in a mode other than ask. */
export function modeAnswerer(mode: AgentMode): ServerRequestAnswerer {
  return (method, raw) => {
    const a = APPROVALS.get(method); // a Map: `__proto__` or `toString` from the agent is no approval
    if (!a) throw new RpcError(RpcErrorCode.methodNotFound, `agentvisor does not serve ${method}`);
    return mode === 'full' || (mode === 'edit' && a.isEdit) ? grant(a, params(raw), 'turn') : a.decline;
  };
}

/** What the session sees of a Codex request: tool names are the request's (`commandExecution`, `fileChange`, `permissions`), what allowTools match. */
export function describeCodexRequest(method: string, raw: unknown, files: ReadonlyMap<string, string[]>, cwd = ''): Omit<ApprovalRequest, 'approvalId'> | null {
  const wire = APPROVALS.get(method);
  if (!wire) return null;
  const p = params(raw);
  const reason = typeof p.reason === 'string' && p.reason ? ` (${inlineField(p.reason)})` : '';
  let summary: string;
  let command: string | undefined;
  let tool: string;
  if (wire.kind === 'command') {
    tool = 'commandExecution';
    const whole = typeof p.command === 'string' ? p.command : Array.isArray(p.command) && p.command.every((x) => typeof x === 'string') ? p.command.join(' ') : undefined;
    command = whole === undefined ? undefined : unwrapShell(whole);
    summary = `shell: ${command !== undefined ? inlineField(command) : '?'}${reason}`;
  } else if (wire.kind === 'file_change') {
    tool = 'fileChange';
    const paths = (typeof p.itemId === 'string' && files.get(p.itemId)) || (p.fileChanges && typeof p.fileChanges === 'object' ? Object.keys(p.fileChanges) : []);
    summary = `apply_patch${paths.length === 1 ? ` ${inlineField(shownPath(paths[0], cwd))}` : `: ${paths.length} files`}${reason}`;
  } else {
    tool = 'permissions';
    summary = `permissions: ${inlineField(JSON.stringify(p.permissions ?? {}) ?? '{}').slice(0, 200)}${reason}`;
  }
  return {
    kind: wire.kind,
    summary: summary.slice(0, 300),
    request: boundedRequest({ method, params: raw }),
    decisions: ['allow', 'allow_for_session', 'deny'],
    tool,
    ...(command !== undefined ? { command } : {}),
  };
}

interface Held {
  rpcKey: string;
  method: string;
  params: Params;
  summary: string;
  resolve(answer: unknown): void;
}

/** Files of the fileChange items in progress, by item id: what a fileChange approval names. Bounded: only items not completed. */
const MAX_TRACKED_ITEMS = 256;

export class CodexApprovalRelay {
  private readonly held = new Map<string, Held>();
  private readonly files = new Map<string, string[]>();
  private readonly byMode: ServerRequestAnswerer;

  constructor(
    private readonly ctx: DriverContext,
    /** Steers a deny's message into the running turn; resolves once Codex has it (or could not take it). */
    private readonly steer: (text: string) => Promise<void>,
  ) {
    this.byMode = modeAnswerer(ctx.spec.mode);
  }

  /** A server request: answered by mode, or (mode ask) held until the session decides. */
  request(method: string, raw: unknown, rpcId: number | string): unknown {
    if (this.ctx.spec.mode !== 'ask' || !APPROVALS.has(method)) {
      const answer = this.byMode(method, raw);
      const decision = (params(answer).decision as string | undefined) ?? (params(answer).permissions ? 'granted' : '?');
      this.ctx.emit({ type: 'line', text: `[approval] ${inlineField(method)} → ${inlineField(String(decision))} (mode ${this.ctx.spec.mode})` });
      return answer;
    }
    const described = describeCodexRequest(method, raw, this.files, this.ctx.spec.cwd)!;
    const approvalId = newApprovalId();
    return new Promise((resolve) => {
      this.held.set(approvalId, { rpcKey: JSON.stringify(rpcId), method, params: params(raw), summary: described.summary, resolve });
      this.ctx.emit({ type: 'approvalPending', approval: { approvalId, ...described } });
    });
  }

  answer(approvalId: string, answer: ApprovalAnswer): ApprovalResult {
    const h = this.held.get(approvalId);
    if (!h) return { ok: false, error: 'Codex is not waiting for it' };
    this.held.delete(approvalId);
    const wire = APPROVALS.get(h.method)!;
    if (answer.decision !== 'deny') {
      h.resolve(grant(wire, h.params, answer.decision === 'allow_for_session' ? 'session' : 'turn'));
      return { ok: true };
    }
    const message = answer.message?.trim();
    if (!message) h.resolve(wire.decline);
    // The message first, then the decline: the model's next request then holds both.
    else void this.steer(`The user denied ${h.summary}: ${message}`).finally(() => h.resolve(wire.decline));
    return { ok: true };
  }

  notification(method: string, raw: unknown): void {
    const p = params(raw);
    if (method === 'serverRequest/resolved') {
      const key = JSON.stringify(p.requestId ?? null);
      for (const [id, h] of this.held) {
        if (h.rpcKey !== key) continue;
        // Codex no longer waits for it: its answer would answer nothing.
        this.held.delete(id);
        this.ctx.emit({ type: 'approvalResolved', approvalId: id });
      }
      return;
    }
    const item = params(p.item);
    if (item.type !== 'fileChange' || typeof item.id !== 'string') return;
    if (method === 'item/completed') this.files.delete(item.id);
    else if (method === 'item/started' && this.files.size < MAX_TRACKED_ITEMS) {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      this.files.set(
        item.id,
        changes.map((c) => params(c).path).filter((x): x is string => typeof x === 'string'),
      );
    }
  }

  /** The process is gone: nothing held can be answered (the session withdraws them). */
  clear(): void {
    this.held.clear();
    this.files.clear();
  }
}
