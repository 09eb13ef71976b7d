/**
 * One REAL worker (dist/, double-forked by the supervisor's own launcher) running a REAL agent CLI
 * against the scripted ModelServer, driven over its socket by the supervisor's WorkerClient: no
 * supervisor, no MCP. For what the worker itself promises (issue 15's approvals: held, answered,
 * ruled, timed out, in hello's state). Every event the worker pushes is recorded; waiting is on
 * those events, never on time.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Limits, WorkerTimeouts } from '../../src/shared/constants';
import { type ApprovalOutcome, type PendingApproval, PROTOCOL_VERSION, type WorkerSpec, type WorkerState } from '../../src/shared/protocol';
import { isEnded } from '../../src/shared/sessionStatus';
import { WorkerClient } from '../../src/supervisor/workerClient';
import { launchWorker } from '../../src/supervisor/workerLauncher';
import { type Dirs, leftovers, makeDirs, reapLeftovers, until } from '../helpers/server';
import { CLAUDE_REAL, CODEX_REAL, codexConfigToml } from './agentEnv';
import { ModelServer, type ScriptTurn } from './modelServer';

/** Far above what a local socket or a worker's start takes; only a broken worker reaches it. */
const CONNECT_MS = 10_000;
/** An agent's scripted conversation here takes seconds; this is the ceiling for any wait on it. */
export const AGENT_WAIT_MS = 60_000;

export interface WorkerRigOptions {
  agent: 'claude-code' | 'codex';
  script: ScriptTurn[];
  task?: string;
  approvals?: Partial<WorkerSpec['approvals']>;
  idleTimeoutMs?: number;
  /** Files written into the session's cwd before the worker starts (path relative to it → content). */
  files?: Record<string, string>;
  /** Files written into the agent's HOME before the worker starts (the user's own settings). */
  homeFiles?: Record<string, string>;
}

type Recorded = { approval: PendingApproval } | { outcome: ApprovalOutcome } | { state: WorkerState };

export class WorkerRig {
  readonly events: Recorded[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly dirs: Dirs,
    readonly model: ModelServer,
    readonly spec: WorkerSpec,
    public client: WorkerClient,
    /** The state hello answered with. */
    public hello: WorkerState,
  ) {
    this.listen(client);
  }

  static async start(o: WorkerRigOptions): Promise<WorkerRig> {
    const dirs = makeDirs('agentvisor-aw-');
    const model = await ModelServer.start(o.script);
    const home = path.join(dirs.base, 'home');
    const tmp = path.join(dirs.base, 'tmp');
    const codexHome = path.join(dirs.base, 'codex-home');
    const sessionDir = path.join(dirs.base, 'session');
    for (const d of [home, tmp, codexHome, sessionDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(codexHome, 'config.toml'), codexConfigToml(model.url, 0));
    for (const [root, files] of [
      [dirs.workspace, o.files],
      [home, o.homeFiles],
    ] as const) {
      for (const [rel, content] of Object.entries(files ?? {})) {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), content);
      }
    }
    // IS_SANDBOX is left out on purpose: mode ask must work as root without it (the tests run as root).
    const env: Record<string, string> =
      o.agent === 'claude-code'
        ? {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            TMPDIR: tmp,
            ANTHROPIC_BASE_URL: model.url,
            ANTHROPIC_API_KEY: 'sk-ant-test',
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
            DISABLE_AUTOUPDATER: '1',
            DISABLE_TELEMETRY: '1',
            DISABLE_ERROR_REPORTING: '1',
            CLAUDE_CODE_MAX_RETRIES: '0',
          }
        : { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: tmp, CODEX_HOME: codexHome, OPENAI_API_KEY: 'sk-test' };
    const spec: WorkerSpec = {
      protocolVersion: PROTOCOL_VERSION,
      sessionId: crypto.randomUUID(),
      agent: o.agent,
      agentBin: o.agent === 'claude-code' ? CLAUDE_REAL : CODEX_REAL,
      cwd: dirs.workspace,
      cwdIdentity: null,
      task: o.task ?? 'do the task',
      model: null,
      mode: 'ask',
      env,
      sessionDir,
      socketPath: path.join(dirs.base, 'w.sock'),
      secret: crypto.randomBytes(32).toString('hex'),
      codexProtocol: o.agent === 'codex' ? 'app-server' : undefined,
      instructions: null,
      approvals: { allowTools: [], allowCommandPrefixes: [], timeoutMs: 0, ...o.approvals },
      limits: { maxCostUsd: null, maxTokens: null, maxTurns: null, maxDurationMs: null },
      sandbox: 'none',
      confinement: null,
      resume: null,
      idleTimeoutMs: o.idleTimeoutMs ?? 10 * 60_000,
      killGraceMs: 2_000,
      orphanTimeoutMs: 60_000,
      exitAckMs: WorkerTimeouts.exitAckMs,
      outputFlushMs: WorkerTimeouts.outputFlushMs,
      partialLineFlushMs: WorkerTimeouts.partialLineFlushMs,
      ringLines: Limits.ringLines,
      maxLineChars: Limits.maxLineChars,
      logLevel: 'info',
    };
    const specPath = path.join(sessionDir, 'spec.json');
    fs.writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600 });
    try {
      await launchWorker({ specPath, stderrPath: path.join(sessionDir, 'worker.stderr'), readyTimeoutMs: WorkerTimeouts.spawnReadyMs });
      const { client, state } = await WorkerClient.connect(spec.socketPath, spec.secret, CONNECT_MS);
      return new WorkerRig(dirs, model, spec, client, state);
    } catch (err) {
      await model.close();
      reapLeftovers(dirs);
      fs.rmSync(dirs.base, { recursive: true, force: true });
      throw err;
    }
  }

  /** Drops this connection and connects anew, as a restarted supervisor would; hello's state is kept in `hello`. */
  async reconnect(): Promise<void> {
    this.client.close();
    const { client, state } = await WorkerClient.connect(this.spec.socketPath, this.spec.secret, CONNECT_MS);
    this.client = client;
    this.hello = state;
    this.listen(client);
  }

  /** The `n`th (0-based) approval the worker reported pending. */
  async pending(n = 0): Promise<PendingApproval> {
    const found = await this.next(() => this.events.flatMap((e) => ('approval' in e ? [e.approval] : []))[n]);
    return found;
  }

  outcome(approvalId: string): Promise<ApprovalOutcome> {
    return this.next(() => this.events.flatMap((e) => ('outcome' in e && e.outcome.approvalId === approvalId ? [e.outcome] : []))[0]);
  }

  ended(): Promise<WorkerState> {
    return this.next(() => this.events.flatMap((e) => ('state' in e && isEnded(e.state.status) ? [e.state] : []))[0]);
  }

  approve(approvalId: string, decision: 'allow' | 'allow_for_session' | 'deny', message?: string, decidedBy = 'connection:test') {
    return this.client.request('approve', { approvalId, decision, decidedBy, ...(message !== undefined ? { message } : {}) });
  }

  /** Every output line so far. */
  async lines(): Promise<string[]> {
    const page = await this.client.request('read', { since: 0, limit: 10_000, maxBytes: 4 * 1024 * 1024 });
    return page.lines;
  }

  approvalsPending(): number {
    return this.events.filter((e) => 'approval' in e).length;
  }

  /** Kills what still runs, checks that nothing of it is left, removes the files. */
  async close(): Promise<void> {
    let failure: unknown;
    try {
      if (!this.client.isClosed) {
        const state = await this.client.request('state', {}).catch(() => null);
        if (state && !isEnded(state.status)) {
          await this.client.request('kill', { reason: 'killed' }).catch(() => undefined);
          await this.ended().catch(() => undefined);
        }
        await this.client.request('ackExit', {}).catch(() => undefined);
      }
      this.client.close();
      await this.model.close();
      await until(() => leftovers(this.dirs).length === 0, 10_000, 'no worker or agent process left').catch(() => undefined);
    } catch (err) {
      failure = err;
    }
    // Never leak into the next test, even when closing failed.
    const left = reapLeftovers(this.dirs);
    fs.rmSync(this.dirs.base, { recursive: true, force: true });
    if (failure) throw failure;
    if (left.length) throw new Error(`processes left behind: ${left.join(', ')}`);
  }

  private listen(client: WorkerClient): void {
    const push = (e: Recorded) => {
      this.events.push(e);
      for (const w of this.waiters.splice(0)) w();
    };
    client.on('approvalPending', (approval) => push({ approval }));
    client.on('approvalResolved', (outcome) => push({ outcome }));
    client.on('state', (state) => push({ state }));
  }

  private next<T>(find: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting on the worker's events; got ${JSON.stringify(this.events.map((e) => Object.keys(e)[0]))}`)), AGENT_WAIT_MS);
      const look = () => {
        const found = find();
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else this.waiters.push(look);
      };
      look();
    });
  }
}
