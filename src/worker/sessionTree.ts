/**
 * Every process a session's agent has started, known while the agent runs and not only
 * when it is told to stop (#12 item 5). A command that leaves the agent's process group
 * (setsid, a double-forked daemon) and outlives the process that started it is init's child
 * from then on and cannot be told from anyone else's: so the tree is walked every
 * WorkerTimeouts.treeScanMs and each process seen is remembered (pid and start time, so a
 * reused pid is never signalled). A process started between two walks whose parent exits before
 * the next (a double fork) is found by the mark every agent gets in its environment, which its
 * descendants inherit: each signal also goes to every process that carries it.
 */
import { WorkerTimeouts } from '../shared/constants';
import type { AgentProcess } from './agentProcess';
import { type ProcRef, childrenOf, descendantsOf, isSame, markedWith, procRef, signalProcs } from './processTree';

/** The environment variable, set to the session id, that marks an agent's processes. */
export const SESSION_MARK_VAR = 'AGENTVISOR_SESSION_ID';

export class SessionTree {
  private proc: AgentProcess | undefined;
  private root: ProcRef | null = null;
  private readonly known = new Map<number, ProcRef>();
  private timer: NodeJS.Timeout | undefined;

  /** `onTracked` hears of each process taken into the tree (the worker logs it). */
  constructor(
    private readonly sessionId: string,
    private readonly onTracked: (p: ProcRef) => void,
    private readonly scanMs: number = WorkerTimeouts.treeScanMs,
  ) {}

  /** The environment an agent runs with: `env` plus the session's mark. */
  markEnv(env: Record<string, string>): Record<string, string> {
    return { ...env, [SESSION_MARK_VAR]: this.sessionId };
  }

  /** Follows a new agent process (a continued conversation gets one per run). */
  watch(proc: AgentProcess): void {
    this.proc = proc;
    this.root = proc.pid > 0 ? procRef(proc.pid) : null;
    this.scan();
    if (!this.timer) {
      // unref: the worker lives for its agent and its socket, never for this walk.
      this.timer = setInterval(() => this.scan(), this.scanMs);
      this.timer.unref();
    }
  }

  /** Signals the agent's group and every process of its tree: known, found afresh, or marked. */
  signal(sig: NodeJS.Signals): void {
    this.scan();
    for (const p of markedWith(`${SESSION_MARK_VAR}=${this.sessionId}`)) this.add(p);
    this.proc?.signal(sig);
    signalProcs([...this.known.values()], sig);
  }

  /** The agent has exited: everything it left behind is killed. */
  end(): void {
    if (!this.proc) return;
    this.signal('SIGKILL');
    this.known.clear();
    this.dispose();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private scan(): void {
    for (const [pid, p] of this.known) if (!isSame(p)) this.known.delete(pid);
    const starts = [...this.known.values()];
    if (this.root && isSame(this.root)) starts.push(this.root);
    const queue = starts.map((p) => p.pid);
    while (queue.length > 0) {
      const pid = queue.shift()!;
      const children = childrenOf(pid);
      if (children === null) {
        // No children files on this kernel: one full scan covers every start.
        for (const root of starts) for (const d of descendantsOf(root.pid)) this.add(d);
        return;
      }
      for (const c of children) {
        if (this.known.has(c) || c === this.root?.pid) continue;
        const ref = procRef(c);
        if (!ref) continue;
        this.add(ref);
        queue.push(c);
      }
    }
  }

  private add(p: ProcRef): void {
    if (p.pid === process.pid || p.pid === this.root?.pid || this.known.has(p.pid)) return;
    this.known.set(p.pid, p);
    this.onTracked(p);
  }
}
