/**
 * `STATE_DIR/server.json`: how the CLI and health checks find this supervisor.
 * Written aside and renamed into place, so a reader (the CLI, a test, a health
 * check racing a restart) sees the previous supervisor's file or this one,
 * never a half-written one. A disk that refuses it does not stop the server:
 * the write is retried, and /health says the CLI cannot find the server meanwhile.
 */
import fs from 'node:fs';

export const ServerInfoTimeouts = {
  /** A refused server.json is retried this often: until then the CLI cannot find the server. */
  retryMs: 2_000,
} as const;

export class ServerInfoFile {
  private problemText: string | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly info: Record<string, unknown>,
  ) {
    this.write();
  }

  /** Why the CLI cannot find this server right now, or null. */
  get problem(): string | null {
    return this.problemText;
  }

  private write(): void {
    this.timer = undefined;
    try {
      fs.writeFileSync(this.file + '.tmp', JSON.stringify(this.info), { mode: 0o600 });
      fs.renameSync(this.file + '.tmp', this.file);
      this.problemText = null;
    } catch (err) {
      fs.rmSync(this.file + '.tmp', { force: true });
      this.problemText = `${this.file} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the agentvisor CLI cannot find this server`;
      this.timer = setTimeout(() => this.write(), ServerInfoTimeouts.retryMs);
      this.timer.unref();
    }
  }

  /** Stops retrying and removes the file: the server is going away. */
  remove(): void {
    if (this.timer) clearTimeout(this.timer);
    fs.rmSync(this.file, { force: true });
  }
}
