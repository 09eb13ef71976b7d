/**
 * How long a new supervisor takes to re-attach 20 live sessions: printed, not
 * asserted (the figure depends on the machine). Taken from the supervisor's
 * own log lines: `journal reconciled` {ms} and `listening` {startupMs}.
 */
import { call, leftovers } from '../helpers/server';
import { closeQuietly, logLine, restartRig, startTick } from './support';

jest.setTimeout(90_000);

const SESSIONS = 20;
const RESTARTS = 3;

const rig = restartRig('agentvisor-timing-');

test(`time from supervisor start to ${SESSIONS} live sessions re-attached`, async () => {
  const env = { MAX_SESSIONS: String(SESSIONS) };
  let { server, client } = await rig.up(env);
  const ids: string[] = [];
  // Five at a time: all printing a line every 100 ms while the supervisor restarts.
  for (let i = 0; i < SESSIONS; i += 5) {
    const batch = await Promise.all([0, 1, 2, 3, 4].map((j) => startTick(client, 1_000_000, 100, `s${i + j}`)));
    ids.push(...batch.map((s) => s.sessionId));
  }

  const figures: Array<{ reconciledMs: number; startupMs: number; wallMs: number }> = [];
  for (let r = 0; r < RESTARTS; r++) {
    await server.kill();
    await closeQuietly(client);
    const t = Date.now();
    ({ server, client } = await rig.up(env));
    const wallMs = Date.now() - t; // spawn → `listening on` on stdout → MCP client connected
    const reconciled = logLine(server.stderr(), 'journal reconciled');
    const listening = logLine(server.stderr(), 'listening');
    expect(reconciled).toMatchObject({ reattached: SESSIONS, lost: 0, ended: 0 });
    expect(listening).toMatchObject({ reattached: SESSIONS });
    figures.push({ reconciledMs: Number(reconciled!.ms), startupMs: Number(listening!.startupMs), wallMs });
    const listed = (await call(client, 'session_list')).sessions as Array<{ sessionId: string; status: string }>;
    expect(
      listed
        .filter((s) => s.status === 'running')
        .map((s) => s.sessionId)
        .sort(),
    ).toEqual([...ids].sort());
  }

  await Promise.all(ids.map(async (id) => expect((await call(client, 'session_kill', { sessionId: id })).status).toBe('killed')));
  await closeQuietly(client);
  expect(await server.stop()).toBe(0);
  expect(leftovers(rig.dirs)).toEqual([]);
  process.stdout.write(
    `re-attach of ${SESSIONS} live sessions after a supervisor SIGKILL: ` +
      figures.map((f) => `journal reconciled ${f.reconciledMs} ms, listening at ${f.startupMs} ms, spawn→connected ${f.wallMs} ms`).join('; ') +
      '\n',
  );
});
