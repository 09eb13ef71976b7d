/**
 * At most once per idempotency key (#12 item 4). A client whose session_send timed out (a
 * worker stopped or starved, the message delivered later) cannot tell whether it arrived; it
 * retries with the same key, and the worker answers the retry with the first outcome instead
 * of delivering the message again. Keys live as long as the worker, the newest
 * Limits.idempotencyKeysKept of them.
 */
import { Limits } from '../shared/constants';
import type { SendOutcome } from './agentSession';

export interface Delivery extends SendOutcome {
  /** The id of the delivery that took the input: for a repeat, the first one's. */
  inputId: string;
  duplicate?: boolean;
}

export class DeliveryLog {
  private readonly byKey = new Map<string, Delivery>();

  constructor(private readonly capacity: number = Limits.idempotencyKeysKept) {}

  /** Runs `send` unless `key` has been taken before; throws what `send` throws, remembering nothing then. */
  deliver(key: string | undefined, inputId: string, send: () => SendOutcome): Delivery {
    const first = key === undefined ? undefined : this.byKey.get(key);
    if (first) return { ...first, duplicate: true };
    const delivery: Delivery = { ...send(), inputId };
    // Refused (the session is being killed): nothing happened, so a retry may try afresh.
    if (key !== undefined && (delivery.delivered || delivery.queued)) {
      this.byKey.set(key, delivery);
      // A Map iterates in insertion order: the first key is the oldest.
      if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
    }
    return delivery;
  }
}
