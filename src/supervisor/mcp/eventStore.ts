/**
 * Streamable HTTP resumability: the events sent on each stream, kept so a client
 * that reconnects with Last-Event-ID gets what it missed. A client that never
 * reconnects must not make us remember its traffic forever (300 session_output
 * pages of 1 MB grew the supervisor by 340 MB, kept after DELETE), so:
 *
 * - each connection keeps at most MAX_STORED_EVENTS events and
 *   MAX_STORED_BYTES_PER_CONNECTION bytes (oldest fall off), and all of them
 *   together at most MAX_STORED_BYTES_TOTAL (the biggest store gives up its
 *   oldest first);
 * - the events of a POST's stream are dropped once the HTTP response carrying
 *   them has been written out completely: a client resumes only a stream that
 *   broke, so a delivered reply is never asked for again;
 * - a connection's events go when it closes (DELETE, eviction, shutdown).
 *
 * An event too big for a connection's share is sent but not kept: a client
 * that loses it resumes after it.
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type JSONRPCMessage, isJSONRPCErrorResponse, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';
import { keyOf } from '../http/inFlightRequests';

/** Events remembered per MCP connection: minutes of a busy session_wait loop. */
export const MAX_STORED_EVENTS = 1_000;
/** Four of the largest replies (a 1 MB session_output page is ~2 MB as JSON-RPC: text plus structuredContent). */
export const MAX_STORED_BYTES_PER_CONNECTION = 8 * 1024 * 1024;
/** What resumability may cost the supervisor in all, whatever the number of connections. */
export const MAX_STORED_BYTES_TOTAL = 64 * 1024 * 1024;

// 1 and "1" are different JSON-RPC ids.

interface Stored {
  streamId: StreamId;
  message: JSONRPCMessage;
  bytes: number;
}

/** The byte budget every connection's store draws on. */
export class EventStoreBudget {
  private readonly stores = new Set<BoundedEventStore>();
  private used = 0;

  constructor(readonly maxBytes = MAX_STORED_BYTES_TOTAL) {}

  get bytes(): number {
    return this.used;
  }

  /** Called by a store after it keeps `bytes`; over budget, the biggest stores give up their oldest events. */
  charge(store: BoundedEventStore, bytes: number): void {
    this.stores.add(store);
    this.used += bytes;
    while (this.used > this.maxBytes) {
      let biggest: BoundedEventStore | undefined;
      for (const s of this.stores) if (!biggest || s.bytes > biggest.bytes) biggest = s;
      if (!biggest || biggest.bytes === 0) return;
      biggest.dropOldest();
    }
  }

  refund(store: BoundedEventStore, bytes: number): void {
    this.used -= bytes;
    if (store.bytes === 0) this.stores.delete(store);
  }
}

export class BoundedEventStore implements EventStore {
  private readonly events = new Map<EventId, Stored>();
  /** The stream each reply went out on, by request id: delivered() finds the stream to forget by it. */
  private readonly replyStreams = new Map<string, StreamId>();
  private seq = 0;
  private used = 0;

  constructor(
    private readonly budget = new EventStoreBudget(),
    private readonly maxEvents = MAX_STORED_EVENTS,
    private readonly maxBytes = MAX_STORED_BYTES_PER_CONNECTION,
  ) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.events.size;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // Stream id first so replay can find the stream; a counter keeps ids ordered.
    const id = `${streamId}_${String(++this.seq).padStart(12, '0')}`;
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      this.replyStreams.set(keyOf(message.id), streamId);
      // Replies whose response never finished (the client went away) are remembered no longer than events.
      if (this.replyStreams.size > this.maxEvents) this.replyStreams.delete(this.replyStreams.keys().next().value!);
    }
    const bytes = Buffer.byteLength(JSON.stringify(message), 'utf8');
    if (bytes > this.maxBytes) return id;
    this.events.set(id, { streamId, message, bytes });
    this.used += bytes;
    while (this.events.size > this.maxEvents || this.used > this.maxBytes) this.dropOldest();
    this.budget.charge(this, bytes);
    return id;
  }

  /** The HTTP response that carried the replies to these requests has been written out: their stream is done. */
  delivered(requestIds: unknown[]): void {
    for (const requestId of requestIds) {
      const key = keyOf(requestId);
      const streamId = this.replyStreams.get(key);
      if (streamId === undefined) continue;
      this.replyStreams.delete(key);
      for (const [id, ev] of this.events) if (ev.streamId === streamId) this.drop(id, ev);
    }
  }

  dropOldest(): void {
    const first = this.events.entries().next();
    if (!first.done) this.drop(first.value[0], first.value[1]);
  }

  /** Forgets everything (the connection closed). */
  dispose(): void {
    for (const [id, ev] of this.events) this.drop(id, ev);
    this.replyStreams.clear();
  }

  private drop(id: EventId, ev: Stored): void {
    this.events.delete(id);
    this.used -= ev.bytes;
    this.budget.refund(this, ev.bytes);
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (id: EventId, m: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const last = this.events.get(lastEventId);
    if (!last) return '';
    let after = false;
    for (const [id, ev] of this.events) {
      if (id === lastEventId) {
        after = true;
        continue;
      }
      if (after && ev.streamId === last.streamId) await send(id, ev.message);
    }
    return last.streamId;
  }
}
