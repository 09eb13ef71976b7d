/** The worker's own idle timer: no output and no input for IDLE_TIMEOUT ends the session. */
import fs from 'node:fs';
import { call, connect, leftovers, reapLeftovers, startServer, until } from '../helpers/server';

/** IDLE_TIMEOUT (800 ms) plus KILL_GRACE (500 ms), with room for a loaded machine. */
const IDLE_KILL_MS = 5_000;

test('a silent session is killed by its worker after IDLE_TIMEOUT, and input keeps one alive', async () => {
  const server = await startServer({ env: { IDLE_TIMEOUT: '800', KILL_GRACE: '500' } });
  const client = await connect(server);
  try {
    try {
      // Echo first: its idle window opens before the silent one's, so by the time the silent session
      // has been killed for idleness the echo session would have been too, had input not kept it alive.
      const echo = await call(client, 'session_start', { agent: 'codex', cwd: 'idle', task: 'echo-input' });
      const silent = await call(client, 'session_start', { agent: 'codex', cwd: 'idle', task: 'silent' });
      const info = async (id: string) => (await call(client, 'session_list')).sessions.find((s: any) => s.sessionId === id);
      // Keep the echo session busy with input until the silent one's idle kill has happened.
      let i = 0;
      await until(
        async () => {
          await call(client, 'session_send', { sessionId: echo.sessionId, message: `ping ${i++}\r`, raw: true });
          return (await info(silent.sessionId)).status === 'killed';
        },
        IDLE_KILL_MS,
        'idle kill',
      );
      const s = await info(silent.sessionId);
      expect(s.endReason).toBe('idle_timeout');
      expect(s.completedSuccessfully).toBe(false);
      expect((await info(echo.sessionId)).status).toBe('running');
      await call(client, 'session_send', { sessionId: echo.sessionId, message: 'quit\r', raw: true });
      await until(async () => (await info(echo.sessionId)).status === 'exited', 5_000, 'echo exit');
    } finally {
      await client.close();
      await server.stop();
    }
    await until(() => leftovers(server.dirs).length === 0, 5_000, 'no leftovers');
  } finally {
    // A failed test must not leave its sessions running or its directories behind.
    reapLeftovers(server.dirs);
    fs.rmSync(server.dirs.base, { recursive: true, force: true });
  }
});
