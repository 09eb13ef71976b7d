/**
 * Open MCP client connections (SSE streams and Streamable HTTP sessions), with
 * the cap and idle eviction that keep a flood or forgotten clients from using
 * up the server. Each entry owns its McpServer and transport and closes both.
 */
import crypto from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { BoundedEventStore } from '../mcp/eventStore';
import type { InFlightRequests } from './inFlightRequests';

export interface Connection {
  id: string;
  kind: 'sse' | 'streamable';
  server: McpServer;
  transport: Transport;
  /** Digest of the token the connection was opened with: a later request must carry the same. */
  tokenDigest: Buffer;
  lastActivity: number;
  /** Open HTTP requests on a Streamable HTTP session: POSTs awaiting their reply and GET (listening) streams. */
  busy?: number;
  /** JSON-RPC requests in flight, whatever carries their replies. */
  requests: InFlightRequests;
  /** Streamable HTTP: the events kept for clients that resume a broken stream. */
  replay?: BoundedEventStore;
}

/** Working for its client, so never idle: a request in flight or an open listening stream. */
function inUse(c: Connection): boolean {
  return (c.busy ?? 0) > 0 || c.requests.size > 0;
}

function lastActive(c: Connection): number {
  return Math.max(c.lastActivity, c.requests.lastSettled);
}

/**
 * A Streamable HTTP session with nothing in flight and no open stream for this
 * long may give its slot to a new client when all are taken: one-shot clients
 * (CLI tools, `claude -p`) exit without DELETE, and their sessions would
 * otherwise hold every slot until SSE_IDLE_TIMEOUT. A client that comes back
 * gets 404 and, per the specification, initializes again.
 */
export const ConnectionTimeouts = {
  /** A Streamable HTTP session idle this long may be reclaimed when the slots are full: a live client is rarely silent for a second. */
  reclaimMinIdleMs: 1_000,
  /** Bounds of the idle sweep (a quarter of SSE_IDLE_TIMEOUT): often enough to evict on time, rarely enough to cost nothing. */
  sweepMinMs: 50,
  sweepMaxMs: 30_000,
} as const;

export class Connections {
  private readonly map = new Map<string, Connection>();
  private readonly sweeper: NodeJS.Timeout;
  /**
   * Slots promised to Streamable HTTP initializations still in flight: their
   * connection is added only once the SDK has answered the initialize, several
   * awaits after the capacity check, so without this a burst of concurrent
   * initializations could all pass the check and overshoot the cap.
   */
  private pending = 0;

  constructor(
    readonly max: number,
    private readonly idleMs: number,
  ) {
    // Sweep at a fraction of the idle limit so eviction is never much late.
    this.sweeper = setInterval(() => this.evictIdle(), Math.max(ConnectionTimeouts.sweepMinMs, Math.min(idleMs / 4, ConnectionTimeouts.sweepMaxMs)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.map.size;
  }

  get full(): boolean {
    return this.map.size + this.pending >= this.max;
  }

  /** True if a slot is free, after reclaiming the least recently used idle Streamable HTTP session if need be. */
  makeRoom(): boolean {
    if (!this.full) return true;
    const cutoff = Date.now() - ConnectionTimeouts.reclaimMinIdleMs;
    let victim: Connection | undefined;
    for (const c of this.map.values()) {
      if (c.kind !== 'streamable' || inUse(c) || lastActive(c) > cutoff) continue;
      if (!victim || lastActive(c) < lastActive(victim)) victim = c;
    }
    if (!victim) return false;
    void this.close(victim); // leaves the map at once; the close itself may finish later
    return !this.full;
  }

  /** Holds a slot for a connection about to be added; returns the release function, or null at capacity. */
  reserve(): (() => void) | null {
    if (!this.makeRoom()) return null;
    this.pending++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.pending--;
    };
  }

  add(c: Connection): void {
    this.map.set(c.id, c);
  }

  get(id: string): Connection | undefined {
    const c = this.map.get(id);
    if (c) c.lastActivity = Date.now();
    return c;
  }

  /** Forgets a connection (called from the transport's onclose). */
  remove(id: string): void {
    this.map.delete(id);
  }

  private evictIdle(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const c of [...this.map.values()]) {
      // A long session_wait or a client that only listens is not idle, however long it has been.
      if (!inUse(c) && lastActive(c) < cutoff) void this.close(c);
    }
  }

  private async close(c: Connection): Promise<void> {
    this.map.delete(c.id);
    try {
      await c.server.close();
    } catch {
      // Already closed by the client: nothing left to release.
    }
  }

  /**
   * Closes every connection not opened with the token whose digest is given. Called
   * after a token rotation: the streams a leaked token opened, and the notifications
   * they would go on receiving, end with it.
   */
  async closeOthers(digest: Buffer): Promise<void> {
    const stale = [...this.map.values()].filter((c) => !crypto.timingSafeEqual(c.tokenDigest, digest));
    await Promise.all(stale.map((c) => this.close(c)));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.map.values()].map((c) => this.close(c)));
  }
}
