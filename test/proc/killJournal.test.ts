/**
 * #12 item 18: one session_kill journals `killing` once. The worker announces the
 * new status as an event before it answers the kill request; the supervisor must
 * not journal the same transition again when the answer arrives.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, call, makeDirs } from '../helpers/server';
import { cleanup, eventKinds, up, waitEnded } from '../restart/support';

let dirs: Dirs;
let server: RunningServer | undefined;
let client: Client | undefined;

beforeEach(() => {
  dirs = makeDirs('agentvisor-killjournal-');
});
afterEach(async () => {
  expect(await cleanup(dirs, [server], [client])).toEqual([]);
});

test.each(['claude-code', 'codex'])('one session_kill of a %s session journals killing once and killed once', async (agent) => {
  ({ server, client } = await up(dirs));
  const task = agent === 'codex' ? 'silent' : 'slow 600000 hold';
  const s = await call(client, 'session_start', { agent, cwd: 'k', task });
  await call(client, 'session_kill', { sessionId: s.sessionId });
  const end = await waitEnded(client, s.sessionId);
  expect(end.status).toBe('killed');
  const kinds = eventKinds(dirs, s.sessionId);
  expect(kinds.filter((k) => k === 'killing')).toEqual(['killing']);
  expect(kinds.filter((k) => k === 'killed')).toEqual(['killed']);
});
