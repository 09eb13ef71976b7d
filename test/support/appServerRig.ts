/**
 * The Codex app-server driver against the REAL `codex app-server` (0.169) and the scripted
 * ModelServer, without a supervisor or worker: this rig plays the session's part of the
 * driver interface (spawn the driver's command on pipes in its own process group, split
 * stdout/stderr into bounded lines, report the exit) and records every event the driver emits.
 * Waiting is on events (`next`) and on the model server's requests, never on time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AgentMode, WorkerSpec } from '../../src/shared/protocol';
import type { AgentExit, AgentProcess } from '../../src/worker/agentProcess';
import { CodexAppServerDriver } from '../../src/worker/drivers/codexAppServer';
import type { DriverEvent, UsageDelta } from '../../src/worker/drivers/driver';
import { LineSplitter } from '../../src/worker/lineSplitter';
import { makeDirs } from '../helpers/server';
import { CODEX_REAL, codexConfigToml } from './agentEnv';
import { ModelServer, type ScriptTurn } from './modelServer';

/** The worker's bound on one line of an agent's pipe (agentSession.ts). */
const PIPE_LINE_CHARS = 8 * 1024 * 1024;

export interface ProcessEnd {
  exit: AgentExit;
  completedSuccessfully: boolean;
}

export class AppServerRig {
  readonly events: DriverEvent[] = [];
  readonly driver: CodexAppServerDriver;
  readonly cwd: string;
  private readonly children: ChildProcess[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly model: ModelServer,
    private readonly base: string,
    private readonly env: Record<string, string>,
    mode: AgentMode,
  ) {
    this.cwd = path.join(base, 'work');
    fs.mkdirSync(this.cwd);
    const spec = { agent: 'codex', agentBin: CODEX_REAL, cwd: this.cwd, mode, model: null, env } as unknown as WorkerSpec;
    this.driver = new CodexAppServerDriver({
      spec,
      emit: (e) => {
        this.events.push(e);
        for (const w of this.waiters.splice(0)) w();
      },
    });
  }

  /** `modelUrl` overrides where Codex finds its model (e.g. a closed port) while the ModelServer still runs. */
  static async start(script: ScriptTurn[], mode: AgentMode = 'full', modelUrl?: string): Promise<AppServerRig> {
    const model = await ModelServer.start(script);
    const base = makeDirs('agentvisor-appserver-').base;
    const codexHome = path.join(base, 'codex-home');
    fs.mkdirSync(codexHome);
    fs.mkdirSync(path.join(base, 'tmp'));
    // Retries off: a scripted failure surfaces at once.
    fs.writeFileSync(path.join(codexHome, 'config.toml'), codexConfigToml(modelUrl ?? model.url, 0));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base, CODEX_HOME: codexHome, OPENAI_API_KEY: 'sk-test', TMPDIR: path.join(base, 'tmp') };
    return new AppServerRig(model, base, env, mode);
  }

  /** One app-server process for `messages` (resuming `resumeId`), as the session would run it; resolves when it has ended. */
  runProcess(messages: string[], resumeId: string | null = null): { ended: Promise<ProcessEnd> } {
    const child = spawn(CODEX_REAL, this.driver.command(messages, resumeId), { cwd: this.cwd, env: this.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.children.push(child);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdin!.on('error', () => undefined); // EPIPE after the exit: the exit reports it
    const split = (onLine: (l: string) => void) => new LineSplitter({ terminal: false, maxLineChars: PIPE_LINE_CHARS, partialFlushMs: 0 }, onLine);
    const out = split((l) => this.driver.stdoutLine(l));
    const err = split((l) => this.driver.stderrLine(l));
    child.stdout!.on('data', (d: string) => out.push(d));
    child.stderr!.on('data', (d: string) => err.push(d));
    const proc: AgentProcess = {
      pid: child.pid!,
      write: (data) => child.stdin!.writable && child.stdin!.write(data),
      closeInput: () => child.stdin!.end(),
      signal: (sig) => process.kill(-child.pid!, sig),
      onStdout: () => undefined,
      onStderr: () => undefined,
      onExit: () => undefined,
    };
    const ended = new Promise<ProcessEnd>((resolve) => {
      child.on('close', (code, signal) => {
        out.flush();
        err.flush();
        const exit = { exitCode: code, signal };
        resolve({ exit, ...this.driver.processExited(exit) });
      });
    });
    this.driver.begin(proc, messages, resumeId);
    return { ended };
  }

  /** Resolves with the first event (from index `from` on) that matches. */
  next(match: (e: DriverEvent) => boolean, from = 0): Promise<DriverEvent> {
    return new Promise((resolve) => {
      const look = () => {
        const found = this.events.slice(from).find(match);
        if (found) resolve(found);
        else this.waiters.push(look);
      };
      look();
    });
  }

  lines(): string[] {
    return this.events.flatMap((e) => (e.type === 'line' ? [e.text] : []));
  }

  count(type: DriverEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  usage(): { in: number; cached: number; out: number } {
    const deltas = this.events.flatMap((e) => (e.type === 'usage' ? [e.delta as UsageDelta] : []));
    return deltas.reduce((a, d) => ({ in: a.in + d.inputTokens, cached: a.cached + d.cachedInputTokens, out: a.out + d.outputTokens }), { in: 0, cached: 0, out: 0 });
  }

  /** SIGKILLs the process group of the latest app-server (a crash, an OOM kill). */
  killLatest(): void {
    process.kill(-this.children[this.children.length - 1].pid!, 'SIGKILL');
  }

  /** Kills anything still running (and says so), then removes everything the test made. */
  async close(): Promise<void> {
    const alive = this.children.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of alive) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // ESRCH: gone between the check and the kill, which is what we wanted.
      }
    }
    await Promise.all(alive.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('close', r)))));
    this.driver.dispose();
    await this.model.close();
    fs.rmSync(this.base, { recursive: true, force: true });
    if (alive.length) throw new Error(`${alive.length} app-server process(es) were still running`);
  }
}
