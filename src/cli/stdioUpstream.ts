/**
 * The relay's side toward the supervisor: one Streamable HTTP client transport at a time, replaced
 * when the server restarts. Sessions outlive a restart, so the client should too: when a message
 * cannot be delivered because the server's MCP session is gone (404 after a restart) or the server
 * does not answer at all, the server is found again (or started), the client's own `initialize`
 * is replayed to it under an id of the relay's, and the message is sent again. Requests that were
 * in flight on the old connection are answered with an error saying to call them again.
 */
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../supervisor/config';
import { note, requireOperatorToken } from './common';
import type { RunningServer } from './server';
import { findOrStartServer } from './serverStart';

export const UpstreamTimeouts = {
  /** The replayed initialize: a local server answers at once once it listens. */
  reinitializeMs: 15_000,
} as const;

/** JSON-RPC "internal error": the relay could not get a request to the server or its answer back. */
export const RELAY_ERROR = -32603;

type Id = string | number;
const REPLAY_ID = 'agentvisor-stdio-replay';

function idOf(m: JSONRPCMessage): Id | undefined {
  return 'id' in m && m.id !== undefined ? (m.id as Id) : undefined;
}

/** A failure a new connection may cure: the server forgot the MCP session, or nothing answers. */
function reconnectable(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404;
  return err instanceof TypeError && /fetch failed/i.test(err.message);
}

export class Upstream {
  private transport!: StreamableHTTPClientTransport;
  private initialize: JSONRPCRequest | undefined;
  private protocolVersion: string | undefined;
  /** Client requests sent and not answered yet: answered with an error if their connection is replaced. */
  private readonly pending = new Set<Id>();
  private reconnecting: Promise<void> | undefined;
  private replayAnswer: ((m: JSONRPCMessage) => void) | undefined;
  private closed = false;

  constructor(
    private readonly config: Config,
    private server: RunningServer,
    /** A message for the client. */
    private readonly toClient: (m: JSONRPCMessage) => void,
  ) {}

  async start(): Promise<void> {
    await this.open();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const id = 'method' in message ? idOf(message) : undefined;
    if ('method' in message && message.method === 'initialize' && id !== undefined) this.initialize = message as JSONRPCRequest;
    if (id !== undefined) this.pending.add(id);
    try {
      await this.reconnecting;
      await this.transport.send(message);
    } catch (err) {
      // Only once the client has initialized is there a handshake to replay.
      if (this.closed || !this.initialize || message === this.initialize || !reconnectable(err)) throw err;
      note(`stdio: the server connection is gone (${(err as Error).message}); reconnecting`);
      await this.reconnect(id);
      await this.transport.send(message);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Frees the server's connection slot now rather than at its idle timeout; a server already gone is fine.
    await this.transport.terminateSession().catch(() => undefined);
    await this.transport.close().catch(() => undefined);
  }

  private async open(): Promise<void> {
    const { token } = requireOperatorToken(this.config);
    const t = new StreamableHTTPClientTransport(new URL(`${this.server.connectUrl}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    t.onmessage = (m) => this.fromServer(t, m);
    t.onerror = (err) => note(`stdio: server connection: ${err.message}`);
    this.transport = t;
    await t.start();
  }

  private fromServer(from: StreamableHTTPClientTransport, message: JSONRPCMessage): void {
    if (from !== this.transport) return; // a replaced connection's late words
    const id = 'method' in message ? undefined : idOf(message);
    if (id === REPLAY_ID) {
      this.replayAnswer?.(message);
      return;
    }
    if (id !== undefined) this.pending.delete(id);
    // The client transport sends the negotiated version on later requests, as the SDK's Client would tell it.
    if (this.initialize && id === this.initialize.id && 'result' in message) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') {
        this.protocolVersion = version;
        this.transport.setProtocolVersion(version);
      }
    }
    this.toClient(message);
  }

  /** One reconnection however many sends failed at once; `resending` is the request about to be sent again. */
  private reconnect(resending: Id | undefined): Promise<void> {
    this.reconnecting ??= this.replaceConnection(resending).finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private async replaceConnection(resending: Id | undefined): Promise<void> {
    const old = this.transport;
    for (const id of this.pending) {
      if (id === resending) continue;
      this.toClient({ jsonrpc: '2.0', id, error: { code: RELAY_ERROR, message: 'the agentvisor server restarted while this request ran; call it again (sessions kept running)' } });
    }
    this.pending.clear();
    if (resending !== undefined) this.pending.add(resending);
    await old.close().catch(() => undefined);
    this.server = await findOrStartServer(this.config);
    await this.open();
    const answer = new Promise<JSONRPCMessage>((resolve, reject) => {
      this.replayAnswer = resolve;
      setTimeout(() => reject(new Error(`the server did not answer initialize within ${UpstreamTimeouts.reinitializeMs / 1000} s`)), UpstreamTimeouts.reinitializeMs).unref();
    });
    await this.transport.send({ ...this.initialize!, id: REPLAY_ID });
    const reply = await answer.finally(() => (this.replayAnswer = undefined));
    if ('error' in reply) throw new Error(`the server refused the replayed initialize: ${JSON.stringify(reply.error).slice(0, 300)}`);
    if (this.protocolVersion) this.transport.setProtocolVersion(this.protocolVersion);
    await this.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    note(`stdio: reconnected to the server at ${this.server.connectUrl}`);
  }
}
