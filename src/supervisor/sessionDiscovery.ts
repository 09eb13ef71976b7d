/**
 * Finding live workers the journal does not know (it was deleted, or restored
 * from an older copy): every session directory holds its worker's spec, so the
 * worker can be reached on its socket with its secret. A worker that answers
 * is adopted again; one that does not is left alone (its files stay).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type WorkerSpec, sessionProtocol } from '../shared/protocol';
import type { NewSession } from './journal';
import { readSpec } from './sessionDir';
import { WorkerClient } from './workerClient';

export interface Found {
  row: NewSession;
  connected: Awaited<ReturnType<typeof WorkerClient.connect>>;
}

function specOf(dir: string): WorkerSpec | null {
  try {
    return readSpec(dir);
  } catch {
    return null; // no spec (not a session directory) or an unreadable one: nothing to reach
  }
}

export async function findUnjournalled(sessionsRoot: string, known: (id: string) => boolean, requestMs: number, connect: typeof WorkerClient.connect = WorkerClient.connect): Promise<Found[]> {
  let ids: string[];
  try {
    ids = fs.readdirSync(sessionsRoot);
  } catch {
    return [];
  }
  const specs = ids
    .filter((id) => !known(id))
    .map((id) => specOf(path.join(sessionsRoot, id)))
    .filter((s): s is WorkerSpec => s !== null);
  const found = await Promise.all(
    specs.map(async (spec) => {
      try {
        const connected = await connect(spec.socketPath, spec.secret, requestMs);
        const { sessionId: id, agent, cwd, task, model, mode, socketPath: socket_path, sessionDir: session_dir, secret } = spec;
        const row: NewSession = { id, agent, cwd, task, model, mode, protocol: sessionProtocol(spec), socket_path, session_dir, secret };
        return { row, connected };
      } catch {
        return null; // its worker is gone: an ended or lost session of a forgotten journal
      }
    }),
  );
  return found.filter((f): f is Found => f !== null);
}
