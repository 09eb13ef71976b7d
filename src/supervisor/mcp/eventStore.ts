/**
 * Streamable HTTP resumability: the events sent on each stream, kept so a client
 * that reconnects with Last-Event-ID gets what it missed. Bounded per connection
 * (oldest events fall off), because a client that never reconnects must not
 * make us remember its traffic forever.
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Events remembered per MCP connection: minutes of a busy session_wait loop. */
export const MAX_STORED_EVENTS = 1_000;

export class BoundedEventStore implements EventStore {
  private readonly events = new Map<EventId, { streamId: StreamId; message: JSONRPCMessage }>();
  private seq = 0;

  constructor(private readonly max = MAX_STORED_EVENTS) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // Stream id first so replay can find the stream; a counter keeps ids ordered.
    const id = `${streamId}_${String(++this.seq).padStart(12, '0')}`;
    this.events.set(id, { streamId, message });
    if (this.events.size > this.max) this.events.delete(this.events.keys().next().value!);
    return id;
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
