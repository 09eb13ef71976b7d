/**
 * The supervisor's last line of defence: an error nothing else caught must not
 * take down the server that every client and session depends on. A rejected
 * promise is logged and the server keeps serving (nothing was left half-done
 * synchronously). A thrown error that came from the environment (a file system
 * or SQLite error: it carries a code) is logged and survived too; anything
 * else is a bug of unknown reach, so the process exits and is restarted by its
 * manager: sessions live in their workers and are re-attached.
 */
import type { Logger } from 'winston';

export function installLastResort(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled rejection; still serving', { error: (reason as Error)?.stack ?? String(reason) });
  });
  process.on('uncaughtException', (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      log.error('uncaught error from the environment; still serving', { code, error: err.stack ?? String(err) });
      return;
    }
    log.error('uncaught error; exiting so the process manager restarts agentvisor (sessions live on in their workers)', {
      error: err.stack ?? String(err),
    });
    exit(1);
  });
}
