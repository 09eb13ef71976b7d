/**
 * A worker left without a supervisor for ORPHAN_TIMEOUT ends its session (so
 * stopping agentvisor for good frees the host), records the outcome in
 * final.json and exits; a supervisor started later journals that outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { call, leftovers, until } from '../helpers/server';
import { alive, closeQuietly, eventKinds, expectConsecutive, journalRow, lineCount, logLine, readAll, restartRig, startTick, tickNumbers } from './support';

jest.setTimeout(60_000);

const rig = restartRig('agentvisor-orphan-');

test('with ORPHAN_TIMEOUT=1500 and no supervisor, the worker kills its agent, writes final.json and exits; the next supervisor records end_reason orphaned', async () => {
  const env = { ORPHAN_TIMEOUT: '1500' };
  const first = await rig.up(env);
  const s = await startTick(first.client, 100_000, 5);
  await until(async () => (await lineCount(first.client, s.sessionId)) > 20, 10_000, 'output');
  const row = journalRow(rig.dirs, s.sessionId);
  await first.server.kill();
  const killedAt = Date.now();
  await closeQuietly(first.client);

  // Nobody comes back: after ~1.5 s the worker ends the session and goes, taking its agent with it.
  await until(() => !alive(row.worker_pid) && !alive(row.agent_pid), 15_000, 'the orphaned worker and agent to exit');
  const tookMs = Date.now() - killedAt;
  expect(tookMs).toBeGreaterThanOrEqual(1_400);
  const final = JSON.parse(fs.readFileSync(path.join(row.session_dir, 'final.json'), 'utf8'));
  expect(final).toMatchObject({ sessionId: s.sessionId, status: 'killed', endReason: 'orphaned', completedSuccessfully: false });
  expect(leftovers(rig.dirs)).toEqual([]);
  // The journal cannot know yet: no supervisor was there to hear it.
  expect(journalRow(rig.dirs, s.sessionId).status).toBe('running');

  const second = await rig.up(env);
  expect(logLine(second.server.stderr(), 'journal reconciled')).toMatchObject({ reattached: 0, lost: 0, ended: 1 });
  const info = (await call(second.client, 'session_list')).sessions[0];
  expect(info).toMatchObject({ sessionId: s.sessionId, status: 'killed', endReason: 'orphaned', completedSuccessfully: false });
  expect(journalRow(rig.dirs, s.sessionId)).toMatchObject({ status: 'killed', end_reason: 'orphaned' });
  expect(eventKinds(rig.dirs, s.sessionId)).toContain('killed');
  // Its output, up to the end, is intact.
  const ticks = tickNumbers((await readAll(second.client, s.sessionId)).lines);
  expect(ticks.length).toBeGreaterThan(20);
  expectConsecutive(ticks);

  await closeQuietly(second.client);
  expect(await second.server.stop()).toBe(0);
  expect(leftovers(rig.dirs)).toEqual([]);
  process.stdout.write(`orphaned worker ended its session ${tookMs} ms after the supervisor died\n`);
});
