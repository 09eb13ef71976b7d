/**
 * The worker's Unix socket. A connection is served only after a `hello` with the
 * session's secret and our protocol version; the newest authenticated
 * connection is the supervisor (a restarted supervisor replaces the old one).
 * Every frame is checked against the contract (shared/protocol.ts) before it is acted on.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type ErrorCode, FrameReader, PROTOCOL_VERSION, SupervisorFrame, encodeFrame } from '../shared/protocol';
import type { WorkerLog } from './workerLog';

export interface WorkerHandlers {
  handle(frame: SupervisorFrame): unknown;
  /** A supervisor became attached (true) or none is attached any more (false). */
  attached(yes: boolean): void;
}

class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
export { RequestError };

function secretsEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export class IpcServer {
  private server: net.Server;
  private current: net.Socket | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly secret: string,
    private readonly helloMs: number,
    private readonly handlers: WorkerHandlers,
    private readonly log: WorkerLog,
  ) {
    this.server = net.createServer((sock) => this.accept(sock));
  }

  listen(): Promise<void> {
    // A stale socket file from a crashed predecessor of this session would make listen fail.
    fs.rmSync(this.socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        fs.chmodSync(this.socketPath, 0o600);
        resolve();
      });
    });
  }

  /**
   * Listens anew when the socket file is gone (deleted by hand), re-creating it; the attached
   * connection stays. A file that exists is left alone: it may be a resumed worker's, on the same path.
   */
  relisten(): Promise<boolean> {
    if (fs.existsSync(this.socketPath)) return Promise.resolve(false);
    const old = this.server;
    this.server = net.createServer((sock) => this.accept(sock));
    // Stops accepting on the old listener; its connections (the supervisor's) are not touched.
    old.close();
    // The whole socket directory may have been removed.
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o700 });
    return this.listen().then(() => true);
  }

  get isAttached(): boolean {
    return this.current !== undefined;
  }

  /** Pushes an event to the attached supervisor, if any. */
  emit(frame: unknown): void {
    if (this.current && !this.current.destroyed) this.current.write(encodeFrame(frame));
  }

  close(): Promise<void> {
    this.current?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(sock: net.Socket): void {
    sock.setEncoding('utf8');
    let authed = false;
    const helloTimer = setTimeout(() => sock.destroy(), this.helloMs);
    const reply = (frame: unknown) => {
      if (!sock.destroyed) sock.write(encodeFrame(frame));
    };
    const reader = new FrameReader(
      (raw) => {
        const parsed = SupervisorFrame.safeParse(raw);
        if (!parsed.success) {
          const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : -1;
          if (!authed) return sock.destroy();
          reply({ id, error: { code: 'bad_request', message: 'malformed frame: ' + parsed.error.message } });
          return;
        }
        const frame = parsed.data;
        if (!authed) {
          if (frame.method !== 'hello') return sock.destroy();
          if (!secretsEqual(frame.params.secret, this.secret)) {
            this.log.warn('refused an IPC connection with a wrong secret');
            reply({ id: frame.id, error: { code: 'unauthorized', message: 'wrong secret' } });
            return sock.end();
          }
          if (frame.params.protocolVersion !== PROTOCOL_VERSION) {
            reply({ id: frame.id, error: { code: 'version_mismatch', message: `worker speaks protocol ${PROTOCOL_VERSION}` } });
            return sock.end();
          }
          authed = true;
          clearTimeout(helloTimer);
          const previous = this.current;
          this.current = sock;
          previous?.destroy();
          this.handlers.attached(true);
        }
        try {
          reply({ id: frame.id, result: this.handlers.handle(frame) });
        } catch (err) {
          const code = err instanceof RequestError ? err.code : 'internal';
          reply({ id: frame.id, error: { code, message: (err as Error).message } });
        }
      },
      () => sock.destroy(),
    );
    sock.on('data', (chunk: string) => reader.push(chunk));
    sock.on('error', () => undefined); // a vanished supervisor; 'close' follows
    sock.on('close', () => {
      clearTimeout(helloTimer);
      if (this.current === sock) {
        this.current = undefined;
        this.handlers.attached(false);
      }
    });
  }
}
