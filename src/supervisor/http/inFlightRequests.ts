/**
 * The JSON-RPC requests a client connection has in flight, by id. Two jobs:
 *
 * - A second request reusing an id still in flight is refused before the SDK
 *   sees it: both transports key the reply by id (Streamable HTTP routes it to
 *   the newest stream with that id), so the first request's reply went to the
 *   wrong place and its stream hung.
 * - A connection with a request in flight is not idle (Connections.evictIdle):
 *   a long session_wait must get its reply.
 *
 * An id is in flight from the POST that carries it until the server sends its
 * response, or until the client cancels it (the SDK sends no response then).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';

// 1 and "1" are different JSON-RPC ids.
/** JSON-RPC ids 1 and "1" are different requests: the key keeps their type. */
export const keyOf = (id: unknown): string => `${typeof id}:${String(id)}`;

/** The ids of the requests in a POST body (one message or a batch). */
export function requestIdsOf(body: unknown): unknown[] {
  return (Array.isArray(body) ? body : [body]).filter(isJSONRPCRequest).map((m) => m.id);
}

export class InFlightRequests {
  private readonly ids = new Set<string>();
  /** When the last response went out: a connection is idle from then, not from its last request. */
  lastSettled = 0;

  get size(): number {
    return this.ids.size;
  }

  /**
   * Claims the ids of the requests in a POST body. Returns the refusal, with
   * nothing claimed, if one is already in flight or repeats within the body;
   * otherwise a function that gives the ids back (for a POST the transport
   * refused without handing it on).
   */
  admit(body: unknown): { refusal: string } | { release: () => void } {
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    const claimed: string[] = [];
    for (const m of messages) {
      if (!isJSONRPCRequest(m)) continue;
      const key = keyOf(m.id);
      if (this.ids.has(key) || claimed.includes(key)) {
        return { refusal: `duplicate request id ${JSON.stringify(m.id)}: a request with this id is still in flight on this connection; use a new id for each request` };
      }
      claimed.push(key);
    }
    for (const m of messages) {
      if (isJSONRPCNotification(m) && m.method === 'notifications/cancelled') this.settle((m.params as { requestId?: unknown } | undefined)?.requestId);
    }
    for (const key of claimed) this.ids.add(key);
    return { release: () => claimed.forEach((key) => this.ids.delete(key)) };
  }

  /** Makes every response the server sends on `transport` settle its request. Call before connecting the server. */
  track(transport: Transport): void {
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) this.settle(message.id);
      return send(message, options);
    };
  }

  private settle(id: unknown): void {
    if (id === undefined || !this.ids.delete(keyOf(id))) return;
    this.lastSettled = Date.now();
  }
}
