/**
 * Launching: the checks a session must pass before anything exists, the worker
 * spec, the journal row written before the worker, and the spec of a continued
 * (resumed) session. Ends when the worker has reported ready; connecting to it
 * is liveWorkers.ts's job.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Limits, WorkerTimeouts } from '../../shared/constants';
import { PROTOCOL_VERSION, WorkerSpec, sessionProtocol } from '../../shared/protocol';
import { ptyRefusal } from '../../shared/ptyLoader';
import { FINAL_STATE_FILE, SPEC_FILE } from '../../shared/sessionFiles';
import { resolveAgentBinary } from '../agentBinaries';
import type { AgentCatalog } from '../agentCapabilities';
import { agentEnv } from '../agentEnv';
import { agentEnvProblem, agentTextProblem } from '../agentInput';
import type { Config } from '../config';
import { prepareCwd } from '../fs/cwdPin';
import { snapshotTree } from '../gitDiff';
import { inputRecord, newInputId } from '../inputDelivery';
import type { SessionRow } from '../journal';
import { confinementFor } from '../sandbox/confinement';
import type { SandboxDecision } from '../sandbox/probe';
import { type LimitsArg, defaultLimits, limitsJson, resumeRefusal, spentOf, withLimits } from '../sessionBudget';
import { createSessionDir, readSpec } from '../sessionDir';
import { SessionError } from '../sessionError';
import { createWorktree } from '../worktree';
import { insertWorktree } from '../worktreeStore';
import type { CoreBase, Launch, StartRequest } from './sessionTypes';

export interface LauncherDeps extends CoreBase {
  config: Config;
  catalog: AgentCatalog | undefined;
  launch: Launch;
  sandbox: SandboxDecision;
  sessionsRoot: string;
  socketsRoot: string;
}

export class SessionLauncher {
  constructor(private readonly d: LauncherDeps) {}

  private refuseAtCapacity(what: string): void {
    if (this.d.journal.live().length >= this.d.config.MAX_SESSIONS) {
      throw new SessionError(`MAX_SESSIONS (${this.d.config.MAX_SESSIONS}) sessions are already running${what}`);
    }
  }

  /** Checks the request, journals the session and starts its worker; resolves once the worker is ready. */
  async start(req: StartRequest): Promise<WorkerSpec> {
    const { config, journal, journalGuard } = this.d;
    journalGuard.assertWritable();
    // Security: text execve would cut short and env a session may not set are refused before anything exists (agentInput.ts).
    const badInput =
      agentTextProblem(req.agent, 'task', req.task) ?? (req.instructions ? agentTextProblem(req.agent, 'instructions', req.instructions) : null) ?? agentEnvProblem(req.env, config.SESSION_ENV_ALLOW);
    if (badInput) throw new SessionError(badInput);
    this.refuseAtCapacity('. Wait for one to end or end one with session_kill.');
    const configured = req.agent === 'claude-code' ? config.CLAUDE_BIN : config.CODEX_BIN;
    const bin = resolveAgentBinary(req.agent, configured, process.env.PATH);
    if (!bin.ok) throw new SessionError(bin.error);
    const env = agentEnv(process.env, config.childEnv, req.env);
    const mode = req.mode ?? 'full';
    if (req.agent === 'claude-code' && mode === 'full' && process.getuid?.() === 0 && config.childEnv.IS_SANDBOX !== '1') {
      throw new SessionError(
        'Claude Code refuses full-permission mode (--dangerously-skip-permissions) when run as root. ' +
          'If this host is a container or sandbox, start agentvisor with CHILD_ENV_IS_SANDBOX=1; ' +
          'otherwise run agentvisor as a normal user, or use mode "edit", "plan" or "ask", which work as root.',
      );
    }
    let pinned = prepareCwd(req.cwd, config.WORKSPACE_DIR, config.STATE_DIR);
    if (!pinned.ok) throw new SessionError(pinned.error);
    const extraPaths = this.pinExtraPaths(req);

    const refusal = this.d.catalog?.refusal(req.agent, mode, req.model ?? null);
    if (refusal) throw new SessionError(refusal);
    const codex = req.agent === 'codex' && this.d.catalog ? await this.d.catalog.codexProtocol(config.CODEX_PROTOCOL) : ({ ok: true, protocol: 'exec' } as const);
    if (!codex.ok) throw new SessionError(codex.error);
    if (req.agent === 'codex' && mode === 'ask' && codex.protocol === 'exec') {
      // Codex exec under a terminal has no way to hand its approval prompts to us: only app-server does.
      throw new SessionError(
        'mode "ask" needs Codex over app-server, and this server runs Codex with `codex exec` (CODEX_PROTOCOL=exec, or a Codex without app-server). Set CODEX_PROTOCOL=auto or app-server, or use mode "full", "edit" or "plan".',
      );
    }
    const noTerminal = req.agent === 'codex' && codex.protocol === 'exec' ? ptyRefusal(`Codex over exec (CODEX_PROTOCOL=${config.CODEX_PROTOCOL})`) : null;
    if (noTerminal) throw new SessionError(noTerminal);
    const id = crypto.randomUUID();
    let cwd = req.cwd;
    let base: string | null = null;
    if (req.worktree !== undefined && req.worktree !== false) {
      const wt = await createWorktree(req.cwd, id, req.worktree === true ? null : req.worktree, config.WORKTREE_DIR, config.WORKSPACE_DIR);
      if (!wt.ok) throw new SessionError(wt.error);
      // Recorded at once, before any later check can fail: a worktree nobody knows of would be lost work.
      journalGuard.mustWrite(() => insertWorktree(journal, id, wt.record));
      cwd = wt.agentCwd;
      // The same last check as any cwd, against the directory agentvisor owns instead of the workspace
      // (WORKTREE_DIR may lie in STATE_DIR, its default: agentvisor made this directory, so it may).
      pinned = prepareCwd(cwd, config.WORKTREE_DIR, null);
      if (!pinned.ok) throw new SessionError(pinned.error);
      // A fresh checkout of the base commit: no snapshot to take (hashing every file of a big tree costs seconds).
      base = wt.record.baseCommit;
      // Confined, the agent sees its worktree but not the repository's git directory (in the hidden
      // WORKSPACE_DIR), which even git status reads and a commit writes: bound in writable, pinned like a cwd.
      if (this.d.sandbox.kind === 'bwrap') {
        const gitDir = prepareCwd(wt.record.gitDir, config.WORKSPACE_DIR, config.STATE_DIR);
        if (!gitDir.ok) throw new SessionError(`worktree: the repository's git directory cannot be given to the confined agent: ${gitDir.error.replace(/^cwd /, '')}`);
        extraPaths.push({ path: wt.record.gitDir, writable: true, identity: gitDir.identity });
        // Started in a subdirectory, the agent's cwd is bound but not the worktree's root above it (in the
        // hidden WORKTREE_DIR), whose `.git` file tells git where the repository is: bound too, pinned alike.
        if (cwd !== wt.record.path) {
          const root = prepareCwd(wt.record.path, config.WORKTREE_DIR, null);
          if (!root.ok) throw new SessionError(`worktree: its root cannot be given to the confined agent: ${root.error.replace(/^cwd /, '')}`);
          extraPaths.push({ path: wt.record.path, writable: true, identity: root.identity });
        }
      }
    }
    // Before the agent can touch anything: the state session_diff compares against.
    if (base === null) {
      const snapshot = await snapshotTree(cwd);
      if (snapshot.ok) base = snapshot.tree;
    }

    const sessionDir = path.join(this.d.sessionsRoot, id);
    const spec: WorkerSpec = {
      protocolVersion: PROTOCOL_VERSION,
      sessionId: id,
      agent: req.agent,
      agentBin: bin.path,
      cwd,
      cwdIdentity: pinned.identity,
      task: req.task,
      model: req.model ?? null,
      mode,
      env,
      sessionDir,
      codexProtocol: codex.protocol,
      // Unix socket paths are limited to ~104 bytes: keep the name short.
      socketPath: path.join(this.d.socketsRoot, id.slice(0, 8) + id.slice(9, 13) + '.sock'),
      secret: crypto.randomBytes(32).toString('hex'),
      resume: null,
      instructions: req.instructions ?? null,
      approvals: { allowTools: req.approve?.allowTools ?? [], allowCommandPrefixes: req.approve?.allowCommandPrefixes ?? [], timeoutMs: config.APPROVAL_TIMEOUT },
      limits: withLimits(defaultLimits(config), req.limits),
      spent: null,
      sandbox: this.d.sandbox.kind,
      confinement:
        this.d.sandbox.kind === 'bwrap'
          ? confinementFor({
              bwrapBin: this.d.sandbox.bin,
              stateDir: config.STATE_DIR,
              workspaceDir: config.WORKSPACE_DIR,
              worktreeDir: config.WORKTREE_DIR,
              agent: req.agent,
              agentBin: bin.path,
              env,
              extraPaths,
            })
          : null,
      idleTimeoutMs: config.IDLE_TIMEOUT,
      killGraceMs: config.KILL_GRACE,
      orphanTimeoutMs: config.ORPHAN_TIMEOUT,
      exitAckMs: WorkerTimeouts.exitAckMs,
      outputFlushMs: WorkerTimeouts.outputFlushMs,
      partialLineFlushMs: WorkerTimeouts.partialLineFlushMs,
      ringLines: config.RING_LINES,
      maxLineChars: Limits.maxLineChars,
      logLevel: config.LOG_LEVEL,
    };
    // Journalled before the worker exists: a crash from here on leaves a row that
    // the next start-up reconciles (re-attached or marked lost), never a ghost.
    const specPath = createSessionDir(spec, () =>
      journalGuard.mustWrite(() =>
        journal.insertSession({
          id,
          agent: req.agent,
          cwd,
          task: req.task,
          model: spec.model,
          mode,
          protocol: sessionProtocol(spec),
          limits: limitsJson(spec.limits),
          sandbox: spec.sandbox,
          socket_path: spec.socketPath,
          session_dir: sessionDir,
          secret: spec.secret,
        }),
      ),
    );
    if (base !== null) journalGuard.write(() => journal.setGitBase(id, base));
    const log = this.d.log.child({ sessionId: id });
    try {
      const ready = await this.launch(specPath, sessionDir);
      log.info('worker started', { workerPid: ready.pid, agent: req.agent, cwd });
    } catch (err) {
      journalGuard.write(() => journal.markFailed(id, (err as Error).message));
      log.error('worker failed to start', { error: (err as Error).message });
      throw new SessionError(`could not start the session's worker: ${(err as Error).message}`);
    }
    return spec;
  }

  /** The session's readOnlyPaths / writablePaths, pinned like its cwd: the worker binds exactly these directories. */
  private pinExtraPaths(req: StartRequest): NonNullable<WorkerSpec['confinement']>['extraPaths'] {
    const asked = [...(req.readOnlyPaths ?? []).map((p) => ({ path: p, writable: false })), ...(req.writablePaths ?? []).map((p) => ({ path: p, writable: true }))];
    return asked.map(({ path: p, writable }) => {
      const pinned = prepareCwd(p, this.d.config.WORKSPACE_DIR, this.d.config.STATE_DIR);
      if (!pinned.ok) throw new SessionError(pinned.error.replace(/^cwd /, writable ? 'writable path ' : 'read-only path '));
      return { path: p, writable, identity: pinned.identity };
    });
  }

  private launch(specPath: string, sessionDir: string) {
    return this.d.launch({ specPath, stderrPath: path.join(sessionDir, 'worker.stderr'), readyTimeoutMs: this.d.config.WORKER_READY_TIMEOUT });
  }

  /**
   * Continues an ended session's conversation in a new worker under the same
   * session id: same cwd and environment, output offsets carrying on from the
   * lines already on disk. Resolves once the worker is ready; a failure to
   * launch is the caller's to record (it also covers the connect after).
   */
  async resume(row: SessionRow, message: string, idempotencyKey?: string, limits?: LimitsArg): Promise<{ spec: WorkerSpec; inputId: string; launched: Promise<unknown> }> {
    if (!row.agent_session_id) {
      throw new SessionError(`session ${row.id} has ended (${row.status}) before the agent reported its conversation id, so it cannot be continued; start a new session.`);
    }
    this.refuseAtCapacity('; end one before continuing this one.');
    const specPath = path.join(row.session_dir, SPEC_FILE);
    let spec: WorkerSpec;
    try {
      spec = readSpec(row.session_dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SessionError(`session ${row.id}'s files are no longer kept (past ENDED_SESSIONS_KEPT), so it cannot be continued; start a new session.`);
      }
      const why = err instanceof SyntaxError || !(err as NodeJS.ErrnoException).code ? (err as Error).message.split('\n')[0] : (err as NodeJS.ErrnoException).code;
      throw new SessionError(`session ${row.id} cannot be continued: its launch spec ${specPath} is unreadable (${why}); start a new session.`);
    }
    // Issue 18: a session at a limit stays ended unless this call raises it; the new worker counts on from what the others spent.
    spec.limits = withLimits(spec.limits, limits);
    const overBudget = resumeRefusal(row, spec.limits);
    if (overBudget) throw new SessionError(overBudget);
    spec.spent = spentOf(row);
    const noTerminal = sessionProtocol(spec) === 'codex-exec' ? ptyRefusal(`session ${row.id} runs Codex over exec, so continuing it`) : null;
    if (noTerminal) throw new SessionError(noTerminal);
    spec.resume = { agentSessionId: row.agent_session_id, message };
    fs.writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600 });
    // The previous outcome must not be mistaken for this run's if the new worker dies.
    fs.rmSync(path.join(row.session_dir, FINAL_STATE_FILE), { force: true });
    const inputId = newInputId();
    if (limits) this.d.journalGuard.mustWrite(() => this.d.journal.setLimits(row.id, limitsJson(spec.limits)));
    this.d.journalGuard.mustWrite(() => this.d.journal.markResumed(row.id, { agentSessionId: row.agent_session_id, chars: message.length, ...inputRecord(inputId, idempotencyKey) }));
    return { spec, inputId, launched: this.launch(specPath, row.session_dir) };
  }
}
