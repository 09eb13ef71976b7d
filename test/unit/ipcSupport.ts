/**
 * A real worker IPC server (src/worker/ipcServer.ts) on a real Unix socket in
 * a temp dir, with scripted handlers, and a raw line-level client for it: the
 * in-process rig of the IPC server and worker client tests. Everything it
 * opens is closed by `close()`.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encodeFrame, PROTOCOL_VERSION } from '../../src/shared/framing';
import type { SupervisorFrame, WorkerState } from '../../src/shared/protocol';
import { IpcServer } from '../../src/worker/ipcServer';
import { WorkerLog } from '../../src/worker/workerLog';

export const SECRET = 'ipc-test-secret-0123456789abcdef';
/** Long enough never to fire in a test that says hello; the hello-timeout test makes its own shorter one. */
export const HELLO_MS = 10_000;

export function workerState(over: Partial<WorkerState> = {}): WorkerState {
  return {
    sessionId: 'sess-1',
    status: 'running',
    workerPid: process.pid,
    workerStartTime: null,
    agentPid: null,
    agentStartTime: null,
    nextOffset: 0,
    lastOutputAt: null,
    lastInputAt: null,
    endedAt: null,
    exitCode: null,
    signal: null,
    endReason: null,
    completedSuccessfully: null,
    agentSessionId: null,
    errorSummary: null,
    finalAnswer: null,
    outputNotPersisted: null,
    usage: null,
    pendingApprovals: [],
    ...over,
  };
}

export interface Rig {
  dir: string;
  socketPath: string;
  server: IpcServer;
  /** Every frame the handlers were asked to act on, in order. */
  handled: SupervisorFrame[];
  /** Every attached(yes) call, in order. */
  attached: boolean[];
  /** What `handle` does; a test replaces it. Default: answer with the worker's state. */
  handle: (frame: SupervisorFrame) => unknown;
  logText(): string;
  close(): Promise<void>;
}

export async function startIpc(helloMs = HELLO_MS): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-ipc-'));
  const socketPath = path.join(dir, 'worker.sock');
  const logFile = path.join(dir, 'worker.log');
  const log = new WorkerLog({ level: 'debug', file: logFile, secrets: [SECRET] });
  const handled: SupervisorFrame[] = [];
  const attached: boolean[] = [];
  const rig: Rig = {
    dir,
    socketPath,
    handled,
    attached,
    handle: () => workerState(),
    server: new IpcServer(
      socketPath,
      SECRET,
      helloMs,
      {
        handle: (frame) => {
          handled.push(frame);
          return rig.handle(frame);
        },
        attached: (yes) => attached.push(yes),
      },
      log,
    ),
    logText: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    async close() {
      await rig.server.close();
      log.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await rig.server.listen();
  return rig;
}

/** A raw client: writes any bytes, collects the frames the server answers, knows when it is closed. */
export class RawClient {
  readonly frames: any[] = [];
  readonly closed: Promise<void>;
  private buf = '';
  private waiters: Array<() => void> = [];

  private constructor(readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        this.frames.push(JSON.parse(this.buf.slice(0, nl)));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    sock.on('error', () => undefined); // the server hanging up on us is what some tests want; 'close' follows
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()));
    void this.closed.then(() => this.wake());
  }

  static connect(socketPath: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(socketPath);
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.sock.write(encodeFrame(frame));
  }

  hello(id = 0, secret = SECRET, protocolVersion = PROTOCOL_VERSION): void {
    this.send({ id, method: 'hello', params: { protocolVersion, secret } });
  }

  /** Resolves with the first frame (already here or to come) that has this id; rejects if the socket closes first. */
  async reply(id: number): Promise<any> {
    for (;;) {
      const f = this.frames.find((x) => x.id === id);
      if (f) return f;
      if (this.sock.destroyed) throw new Error(`connection closed before a reply to ${id}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  destroy(): void {
    this.sock.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
