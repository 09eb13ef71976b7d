/**
 * Finding live workers the journal does not know (it was deleted, or restored
 * from an older copy): every session directory holds its worker's spec, so the
 * worker can be reached on its socket with its secret. A worker that answers
 * is adopted again; one that does not is left alone (its files stay).
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkerSpec, sessionProtocol } from '../shared/protocol';
import { SPEC_FILE } from '../shared/sessionFiles';
import type { NewSession } from './journal';
import { WorkerClient } from './workerClient';

export interface Found {
  row: NewSession;
  connected: Awaited<ReturnType<typeof WorkerClient.connect>>;
}

function readSpec(dir: string): WorkerSpec | null {
  try {
    const parsed = WorkerSpec.safeParse(JSON.parse(fs.readFileSync(path.join(dir, SPEC_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // no spec (not a session directory) or an unreadable one: nothing to reach
  }
}

export async function findUnjournalled(
  sessionsRoot: string,
  known: (id: string) => boolean,
  requestMs: number,
  connect: typeof WorkerClient.connect = WorkerClient.connect,
): Promise<Found[]> {
  let ids: string[];
  try {
    ids = fs.readdirSync(sessionsRoot);
  } catch {
    return [];
  }
  const specs = ids.filter((id) => !known(id)).map((id) => readSpec(path.join(sessionsRoot, id))).filter((s): s is WorkerSpec => s !== null);
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
