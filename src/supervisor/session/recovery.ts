/**
 * Recovery: what the supervisor does about workers it did not see end. At
 * start-up (reattachAll): every worker the journal believes alive is connected
 * to at once (a worker whose socket file was deleted is asked to listen again,
 * workerReach.ts); the dead are reconciled from their final records; then live
 * workers the journal does not know (a deleted journal) are found from their
 * session directories (sessionDiscovery.ts). A live agent is never killed for
 * want of a file that can be re-created. Whenever a worker is gone (at start-up
 * or after its connection dropped for good), reconcileDead ends its record.
 */
import { WorkerTimeouts } from '../../shared/constants';
import { isSameProcess, killGroupIfSame } from '../../shared/procInfo';
import type { SessionStatus, WorkerState } from '../../shared/protocol';
import { readFinalState } from '../finalState';
import type { SessionRow } from '../journal';
import { findUnjournalled } from '../sessionDiscovery';
import type { WorkerClient } from '../workerClient';
import { connectOrRevive } from '../workerReach';
import type { Connect, CoreBase, Emit } from './sessionTypes';

/**
 * A session whose worker is gone: if the worker recorded an outcome, that is
 * the truth; if not, it died hard — mark it lost and make sure its agent does
 * not live on without supervision.
 */
/** Returns the status it decided: the journal may only record it later (a full disk keeps the write). */
export function reconcileDead(d: CoreBase & { emit: Emit; endApprovals(id: string, status: SessionStatus): void }, row: SessionRow): SessionStatus {
  const final = readFinalState(row.session_dir);
  if (final?.ok) {
    d.journalGuard.write(() => d.journal.applyWorkerState(final.state, final.state.status, { recoveredFrom: 'final record' }));
    d.endApprovals(row.id, final.state.status);
    d.emit('lifecycle', row.id, final.state.status, { endReason: final.state.endReason });
    return final.state.status;
  }
  // A worker that is alive but unreachable is as good as lost: end it too.
  killGroupIfSame(row.worker_pid, row.worker_start_time);
  const killedAgent = killGroupIfSame(row.agent_pid, row.agent_start_time);
  d.journalGuard.write(() =>
    d.journal.markLost(
      row.id,
      row.worker_pid === null
        ? 'agentvisor stopped while starting this session; its worker never reported ready'
        : (final ? `worker process ${row.worker_pid} died and its ${final.error}` : `worker process ${row.worker_pid} died without recording an outcome`) +
            (killedAgent ? '; its agent was killed' : ''),
    ),
  );
  d.endApprovals(row.id, 'lost');
  d.log.warn('session lost: worker died', { sessionId: row.id, workerPid: row.worker_pid, killedAgent });
  d.emit('lifecycle', row.id, 'lost', { reason: 'worker died' });
  return 'lost';
}

export interface ReattachHost extends CoreBase {
  sessionsRoot: string;
  connect: Connect;
  /** Takes a connected worker into the registry (journal, lifecycle event, listeners). */
  adopt(id: string, client: WorkerClient, state: WorkerState): Promise<void>;
  /** Ends the record of a session whose worker is gone. */
  reconcileDead(row: SessionRow): SessionStatus;
}

/** On start-up: re-attach to every worker the journal believes alive, in parallel; then to live workers it does not know. */
export async function reattachAll(host: ReattachHost): Promise<{ reattached: number; lost: number; ended: number }> {
  const { journal, journalGuard, log } = host;
  const counts = { reattached: 0, lost: 0, ended: 0 };
  const rows = journal.live();
  // Every worker is connected to at once, and what they say is journalled in one
  // transaction: one disk sync for all of them, not one each (each is milliseconds).
  const connected = await Promise.all(
    // A tagged result, not `instanceof Error`: a socket error raised in another realm (a test VM) is no instance of ours.
    rows.map((row) =>
      connectOrRevive(row, WorkerTimeouts.requestMs, host.connect).then(
        (ok) => ({ ...ok, error: null }),
        (err: Error) => ({ error: err }),
      ),
    ),
  );
  const adopting: Array<Promise<void>> = [];
  const adopt = () =>
    rows.forEach((row, i) => {
      const c = connected[i];
      if (!c.error) adopting.push(host.adopt(row.id, c.client, c.state));
    });
  // A journal that refuses the batch (full disk) must not stop the start: adopt one by one, writes kept by the guard.
  if (journalGuard.unwritable) adopt();
  else {
    try {
      journal.tx(adopt);
    } catch {
      // The commit failed after every write in it was accepted: record them again, one by one.
      connected.forEach((c) => c.error || journalGuard.write(() => journal.applyWorkerState(c.state, 're_attached')));
    }
  }
  await Promise.all(
    rows.map(async (row, i) => {
      const c = connected[i];
      // The row's socket and secret identify its worker, whatever pid the row holds: a
      // supervisor killed inside session_start (or a resume) after launching a worker but
      // before journalling its pid leaves a row with no pid, or the previous worker's. Such
      // a worker, if it came up, listens on the socket (from before its ready line) and is
      // adopted like any other; one that missed its launcher exits without starting its
      // agent (worker/main.ts). A dead worker's socket refuses at once.
      if (!c.error) {
        counts.reattached++;
        return;
      }
      if (isSameProcess(row.worker_pid, row.worker_start_time)) {
        log.warn('could not re-attach to a live worker', { sessionId: row.id, error: c.error.message });
      }
      if (host.reconcileDead(row) === 'lost') counts.lost++;
      else counts.ended++;
    }),
  );
  await Promise.all(adopting);
  // Live workers the journal does not know (it was deleted): their session directories say how to reach them.
  for (const { row, connected } of await findUnjournalled(host.sessionsRoot, (id) => journal.get(id) !== undefined, WorkerTimeouts.requestMs, host.connect)) {
    journalGuard.write(() => journal.insertSession(row));
    await host.adopt(row.id, connected.client, connected.state);
    counts.reattached++;
  }
  return counts;
}
