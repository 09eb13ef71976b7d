/**
 * Ten SIGKILL/restart cycles of the supervisor in a row, under load: two
 * long sessions print throughout, each cycle starts a short one (acknowledged)
 * and is killed while another session_start is in flight. Afterwards the
 * journal is intact, every acknowledged start is in it, every session is
 * accounted for, the long sessions' output has no gap, and no process is left.
 */
import fs from 'node:fs';
import path from 'node:path';
import { call, leftovers, until } from '../helpers/server';
import { alive, closeQuietly, expectConsecutive, lineCount, logLine, readAll, restartRig, sleep, startTick, tickNumbers, waitEnded, withJournal, type Row } from './support';

jest.setTimeout(90_000);

const CYCLES = 10;

const rig = restartRig('agentvisor-cycles-');

test(`${CYCLES} supervisor SIGKILL/restart cycles under load lose nothing that was acknowledged and leave no orphan`, async () => {
  const t0 = Date.now();
  let { server, client } = await rig.up();
  const long = [await startTick(client, 1_000_000, 10, 'long-a'), await startTick(client, 1_000_000, 10, 'long-b')];
  const acked: string[] = [];
  const inFlight: string[] = [];
  const reattachMs: number[] = [];

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    // An acknowledged start: the client was told this session exists.
    acked.push((await startTick(client, 300, 10, `short-${cycle}`)).sessionId);
    // Reads keep flowing while we work.
    for (const l of long) expect(await lineCount(client, l.sessionId)).toBeGreaterThan(0);
    // A start in flight when the supervisor dies: it may or may not have been acknowledged.
    // It runs until killed, so a worker left running unsupervised would show up as a leftover.
    const pending = startTick(client, 1_000_000, 10, `inflight-${cycle}`).then(
      (s) => {
        inFlight.push(s.sessionId);
        return true;
      },
      () => false,
    );
    await sleep(40 + cycle * 30);
    await server.kill();
    await closeQuietly(client);
    if (await Promise.race([pending, sleep(100).then(() => false)])) acked.push(inFlight[inFlight.length - 1]);

    ({ server, client } = await rig.up());
    reattachMs.push(Number(logLine(server.stderr(), 'journal reconciled')?.ms));
  }

  // Every acknowledged start is in the journal, created exactly once, and ran to its end across the kills.
  const sessions = (await call(client, 'session_list')).sessions as Array<{ sessionId: string; status: string }>;
  const ids = new Set(sessions.map((s) => s.sessionId));
  for (const id of acked) expect(ids.has(id)).toBe(true);
  for (const id of acked.filter((a) => !inFlight.includes(a))) {
    const end = await waitEnded(client, id, 30_000);
    expect({ id, status: end.status, exitCode: end.exitCode }).toEqual({ id, status: 'exited', exitCode: 0 });
    const ticks = tickNumbers((await readAll(client, id)).lines);
    expect(ticks).toHaveLength(300);
    expectConsecutive(ticks, id);
  }

  // The long sessions (and in-flight starts that made it) survived every kill after them with an unbroken sequence.
  for (const l of [...long, ...inFlight.map((sessionId) => ({ sessionId }))]) {
    const n = await lineCount(client, l.sessionId);
    await until(async () => (await lineCount(client, l.sessionId)) > n + 10, 10_000, 'the long session to keep printing');
    expectConsecutive(tickNumbers((await readAll(client, l.sessionId)).lines), l.sessionId);
    expect((await call(client, 'session_kill', { sessionId: l.sessionId })).status).toBe('killed');
  }

  // Sessions whose start was cut off by a kill are accounted for: re-attached (still running; ended here) or ended (lost/failed).
  for (const s of (await call(client, 'session_list')).sessions as Array<{ sessionId: string; status: string }>) {
    if (s.status === 'running') expect((await call(client, 'session_kill', { sessionId: s.sessionId })).status).toBe('killed');
  }
  const unsupervised = withJournal(rig.dirs, (db) => db.prepare("SELECT * FROM sessions WHERE status IN ('lost','failed')").all() as Row[]).filter((r) =>
    fs.existsSync(path.join(r.session_dir, 'final.json')),
  );
  // A lost session's worker never ran on unsupervised to write a final record later.
  expect(unsupervised.map((r) => r.id)).toEqual([]);
  await closeQuietly(client);
  expect(await server.stop()).toBe(0);

  const { integrity, rows, created, started } = withJournal(rig.dirs, (db) => ({
    integrity: db.pragma('integrity_check', { simple: true }),
    rows: db.prepare('SELECT * FROM sessions').all() as Row[],
    created: db.prepare("SELECT session_id FROM events WHERE kind = 'created'").all() as Array<{ session_id: string }>,
    started: (db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'supervisor_started'").get() as { n: number }).n,
  }));
  expect(integrity).toBe('ok');
  expect(started).toBe(CYCLES + 1);
  // One 'created' event per row and per row only: nothing acknowledged is missing, nothing doubled.
  expect(created.map((c) => c.session_id).sort()).toEqual(rows.map((r) => r.id).sort());
  expect(rows.length).toBeGreaterThanOrEqual(acked.length + long.length);
  expect(rows.length).toBeLessThanOrEqual(2 * CYCLES + long.length);
  for (const r of rows) expect(['exited', 'killed', 'lost', 'failed']).toContain(r.status);
  // Every acknowledged session ended as it should: short ones exited, long ones killed here.
  for (const id of acked) expect(['exited', 'killed']).toContain(rows.find((r) => r.id === id)!.status);
  for (const r of rows) {
    expect(alive(r.worker_pid)).toBe(false);
    expect(alive(r.agent_pid)).toBe(false);
  }
  expect(leftovers(rig.dirs)).toEqual([]);
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  process.stdout.write(
    `kill cycles: ${CYCLES} in ${Date.now() - t0} ms; ${acked.length} acknowledged starts, ${rows.length} sessions ${JSON.stringify(byStatus)}; ` +
      `journal reconciled in ${reattachMs.join('/')} ms\n` +
      rows
        .filter((r) => r.status === 'lost' || r.status === 'failed')
        .map((r) => `  ${r.status}: ${r.error_summary}\n`)
        .join(''),
  );
});
