/**
 * Worker entry point: one process per session, detached from the supervisor so
 * that it outlives supervisor restarts. Reads its spec, listens on its socket,
 * tells the launcher it is ready (fd 3), starts the agent, and exits once the
 * session's outcome is safely on disk and, if a supervisor is attached, journalled.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExitTimeouts, WorkerTimeouts } from '../shared/constants';
import { type SupervisorFrame, WorkerReady, WorkerSpec } from '../shared/protocol';
import { processStartTime } from '../shared/procInfo';
import { FINAL_STATE_FILE } from '../shared/sessionFiles';
import { enterCwdOrExit } from './agentCwd';
import { AgentSession } from './agentSession';
import { DeliveryLog } from './deliveryLog';
import { FinalRecord } from './finalRecord';
import { IpcServer, RequestError, type WorkerHandlers } from './ipcServer';
import { closeInheritedFds } from './inheritedFds';
import { outputTail } from './outputTail';
import { SessionTree } from './sessionTree';
import { createWorkerLogger } from './workerLog';

/** The fd on which the launcher listens for our readiness line. */
const READY_FD = 3;

/** Names whose values are treated as secrets in log scrubbing. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

function readSpec(): WorkerSpec {
  const i = process.argv.indexOf('--spec');
  const file = i === -1 ? undefined : process.argv[i + 1];
  if (!file) throw new Error('usage: worker --spec <spec.json>');
  return WorkerSpec.parse(JSON.parse(fs.readFileSync(file, 'utf8')), 'invalid worker spec');
}

/**
 * Tells the launcher we are up. Returns false when the launcher is gone (EPIPE):
 * the supervisor that started us died, or gave up waiting, before it heard from
 * us, so it may have recorded nothing about this worker.
 */
function signalReady(): boolean {
  let heard = true;
  try {
    const ready: WorkerReady = { pid: process.pid, startTime: processStartTime(process.pid) };
    fs.writeSync(READY_FD, JSON.stringify(ready) + '\n');
  } catch (err) {
    // EBADF: started by hand without a launcher pipe; nobody is waiting for the line.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') heard = false;
  }
  try {
    // Closed before the agent is spawned, so the agent cannot inherit it.
    fs.closeSync(READY_FD);
  } catch {
    // not open: started by hand
  }
  return heard;
}

async function main(): Promise<void> {
  // Security: nothing inherited from the supervisor's own parent may reach an agent (inheritedFds.ts).
  closeInheritedFds(READY_FD);
  process.umask(0o077);
  const spec = readSpec();
  // Security: agents start in the directory the supervisor checked, or the worker refuses (agentCwd.ts).
  enterCwdOrExit(spec.cwd, spec.cwdIdentity);
  const secrets = [
    spec.secret,
    ...Object.entries(spec.env)
      .filter(([k]) => SECRET_NAME.test(k))
      .map(([, v]) => v),
  ];
  const log = createWorkerLogger({
    level: spec.logLevel,
    file: path.join(spec.sessionDir, 'worker.log'),
    secrets,
    defaultMeta: { sessionId: spec.sessionId, pid: process.pid },
  });

  const deliveries = new DeliveryLog();
  const session = new AgentSession(spec, new SessionTree(spec.sessionId, (p) => log.debug('tracking process', { trackedPid: p.pid, startTime: p.startTime })));
  const finalRecord = new FinalRecord(path.join(spec.sessionDir, FINAL_STATE_FILE), log);
  let orphanTimer: NodeJS.Timeout | undefined;
  let exiting = false;
  /** Whether the supervisor that launched us has connected yet (see onEnd). */
  let everAttached = false;

  const exit = async (code: number) => {
    if (exiting) return;
    // An ended session's outcome must be on disk before its worker goes (a full disk delays this).
    if (session.ended && !finalRecord.isWritten) return finalRecord.whenWritten(() => void exit(code));
    exiting = true;
    finalRecord.dispose();
    if (orphanTimer) clearTimeout(orphanTimer);
    await ipc.close();
    session.dispose();
    log.info('worker exiting', { code });
    log.on('finish', () => process.exit(code));
    log.end();
    setTimeout(() => process.exit(code), ExitTimeouts.workerLogFlushMs).unref();
  };

  const handlers: WorkerHandlers = {
    handle(frame: SupervisorFrame) {
      switch (frame.method) {
        case 'hello':
        case 'state':
          return session.state();
        case 'read':
          // Lines are on disk before a client sees them: if this worker is then killed
          // hard, its session's output (read from disk) never loses a line already shown.
          session.output.flushSync();
          return session.output.ring.read(frame.params.since, frame.params.limit, frame.params.maxBytes);
        case 'send': {
          const { text, raw, inputId, idempotencyKey } = frame.params;
          // A repeated key is answered from memory even once the session has ended: it was delivered.
          return deliveries.deliver(idempotencyKey, inputId ?? crypto.randomUUID(), () => {
            if (session.ended) throw new RequestError('session_ended', `session has ended (${session.state().status})`);
            return session.send(text, raw);
          });
        }
        case 'kill':
          return session.kill(frame.params.reason);
        case 'interrupt':
          return session.interrupt();
        case 'approve': {
          const { approvalId, decision, message, decidedBy } = frame.params;
          const answer = session.answerApproval(approvalId, decision, message ?? null, decidedBy);
          if ('error' in answer) throw new RequestError('bad_request', answer.error);
          return answer;
        }
        case 'ackExit':
          if (session.ended) setImmediate(() => void exit(0));
          return {};
      }
    },
    attached(yes) {
      if (orphanTimer) clearTimeout(orphanTimer);
      orphanTimer = undefined;
      if (yes) {
        everAttached = true;
        log.info('supervisor attached');
      } else if (!session.ended) {
        log.warn('no supervisor attached; session ends if none returns', { orphanTimeoutMs: spec.orphanTimeoutMs });
        orphanTimer = setTimeout(() => {
          log.warn('orphaned: ending the session');
          session.kill('orphaned');
        }, spec.orphanTimeoutMs);
      }
    },
  };
  const ipc = new IpcServer(spec.socketPath, spec.secret, WorkerTimeouts.helloMs, handlers, log);

  // Lines are on disk before the event (append flushes first), so carrying them shows no client an unsaved line.
  let notified = session.output.nextOffset;
  session.onOutput((nextOffset, lastOutputAt) => {
    const tail = outputTail(session.output.ring, notified);
    notified = nextOffset;
    ipc.emit({ event: 'output', nextOffset, lastOutputAt, ...(tail ? { tail } : {}) });
  });
  session.onState((state) => ipc.emit({ event: 'state', state }));
  // Not queued for an absent supervisor: the next one's hello carries the pending ones in its state.
  session.onApproval((ev) => ipc.emit('approval' in ev ? { event: 'approvalPending', ...ev } : { event: 'approvalResolved', ...ev }));
  session.onEnd(() => {
    const state = session.state();
    finalRecord.write(JSON.stringify(state));
    log.info('session ended', { status: state.status, exitCode: state.exitCode, signal: state.signal, reason: state.endReason });
    // The outcome is on disk, so nothing is lost if no supervisor hears it; give an
    // attached one a moment to journal it (it answers with ackExit).
    if (ipc.isAttached) setTimeout(() => void exit(0), spec.exitAckMs).unref();
    // An agent that ends within milliseconds beats the launching supervisor to our socket: its
    // session_start would find the socket gone (#12 item 5a). Stay, socket and all, until a
    // supervisor has collected the outcome (ackExit) or none has come for ORPHAN_TIMEOUT.
    else if (!everAttached) setTimeout(() => void exit(0), spec.orphanTimeoutMs).unref();
    else void exit(0);
  });

  process.on('SIGTERM', () => {
    log.info('SIGTERM: ending the session');
    if (session.ended) void exit(0);
    else session.kill('shutdown');
  });
  // No terminal to lose: SIGHUP means "listen again", sent by a supervisor that found our socket file gone.
  process.on('SIGHUP', () => {
    ipc.relisten().then(
      (again) => log.info(again ? 'socket file was gone: listening again (SIGHUP)' : 'SIGHUP: socket file present, nothing to do'),
      (err: Error) => log.error('could not listen again', { error: err.message }),
    );
  });
  process.on('uncaughtException', (err) => {
    log.error('worker crashed', { error: err.stack ?? String(err) });
    session.kill('worker_lost');
    setTimeout(() => process.exit(1), ExitTimeouts.workerCrashMs).unref();
  });

  await ipc.listen();
  if (!signalReady()) {
    // Restart survival: nobody knows our pid, and a supervisor that starts later will
    // mark this session lost unless it finds us on our socket (which listens from
    // before the ready line, so one that wrote the line is always findable). Starting
    // the agent now would run it unsupervised until ORPHAN_TIMEOUT: do not.
    log.warn('the supervisor that launched this worker is gone before it heard we were ready; not starting the agent');
    void exit(3);
    return;
  }
  // Until the supervisor connects we are, strictly, an orphan.
  handlers.attached(false);
  session.start();
  log.info('agent started', { agent: spec.agent, agentPid: session.state().agentPid });
}

main().catch((err) => {
  process.stderr.write(`agentvisor worker failed to start: ${(err as Error).message}\n`);
  process.exit(2);
});
