/**
 * An agent process without a process, for in-process tests of the worker's session and drivers:
 * it records what it is told and ends when the test says so.
 */
import type { AgentExit, AgentProcess } from '../../src/worker/agentProcess';

export class FakeAgentProcess implements AgentProcess {
  readonly pid = -1;
  readonly writes: string[] = [];
  readonly signals: NodeJS.Signals[] = [];
  inputClosed = false;
  private out: Array<(t: string) => void> = [];
  private err: Array<(t: string) => void> = [];
  private exitCbs: Array<(e: AgentExit) => void> = [];

  write(data: string): void {
    this.writes.push(data);
  }
  closeInput(): void {
    this.inputClosed = true;
  }
  signal(sig: NodeJS.Signals): void {
    this.signals.push(sig);
  }
  onStdout(cb: (t: string) => void): void {
    this.out.push(cb);
  }
  onStderr(cb: (t: string) => void): void {
    this.err.push(cb);
  }
  onExit(cb: (e: AgentExit) => void): void {
    this.exitCbs.push(cb);
  }

  stdout(text: string): void {
    for (const cb of this.out) cb(text);
  }
  stderr(text: string): void {
    for (const cb of this.err) cb(text);
  }
  exit(exitCode: number | null, signal: string | null = null): void {
    for (const cb of this.exitCbs) cb({ exitCode, signal });
  }
}
