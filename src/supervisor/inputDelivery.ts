/**
 * A session_send's input on its way to a live worker (#12 item 4). Every input gets an id of
 * agentvisor's own; a client's idempotency key goes with it, and the worker delivers each key at
 * most once (worker/deliveryLog.ts). A worker that does not answer in time (stopped, starved)
 * may still deliver the message later, so the reply then says the delivery is unknown, not that
 * it failed: a retry with the same key is safe, one without may deliver it twice.
 */
import crypto from 'node:crypto';
import type { ResultOf } from '../shared/protocol';
import type { z } from 'zod';
import type { Journal } from './journal';
import type { SendReplySchema } from './tools/schemas';
import { type WorkerClient, WorkerRequestError } from './workerClient';

export type SendReply = z.infer<typeof SendReplySchema>;

export interface Input {
  text: string;
  raw: boolean;
  idempotencyKey?: string;
}

export const newInputId = (): string => crypto.randomUUID();

/** The journal fields that record an input, so a later retry of its key finds it (priorDelivery). */
export function inputRecord(inputId: string, key: string | undefined): Record<string, unknown> {
  return key === undefined ? { inputId } : { inputId, idempotencyKey: key };
}

/**
 * `write` journals the input: the supervisor passes its JournalGuard's, so a full disk keeps the
 * record for later rather than turning a delivered message into an error (and a client's retry).
 */
export async function deliverInput(client: WorkerClient, journal: Journal, sessionId: string, input: Input, write: (fn: () => void) => void = (fn) => fn()): Promise<SendReply> {
  const key = input.idempotencyKey;
  const prior = priorDelivery(journal, sessionId, key);
  if (prior) return prior;
  const inputId = newInputId();
  const record = (result: ResultOf<'send'>) => {
    const taken = result.inputId ?? inputId;
    const detail = {
      chars: input.text.length,
      raw: input.raw,
      delivered: result.delivered,
      queued: result.queued,
      ...(result.steered ? { steered: true } : {}),
      ...inputRecord(taken, key),
      ...(result.duplicate ? { duplicate: true } : {}),
    };
    write(() => journal.event(sessionId, 'input', detail));
    return { ...result, inputId: taken };
  };
  let result;
  try {
    // A late answer is journalled too: a retry of its key after the session has ended (its worker
    // and the worker's memory of keys gone) then finds it here rather than continuing the session twice.
    const params = { text: input.text, raw: input.raw, inputId, ...(key === undefined ? {} : { idempotencyKey: key }) };
    result = await client.request('send', params, (late) => {
      try {
        record(late);
      } catch {
        // The journal is closed (agentvisor is stopping): the answer is lost, the delivery stays unknown.
      }
    });
  } catch (err) {
    if (!(err instanceof WorkerRequestError) || err.code !== 'timeout') throw err;
    const retry =
      key === undefined
        ? 'Look at session_output before sending it again (a retry may deliver it twice); pass an idempotencyKey to make retries safe.'
        : 'Retrying with the same idempotencyKey is safe: it is delivered at most once.';
    return { delivered: false, queued: false, deliveryUnknown: true, inputId, note: `delivery unknown: ${err.message}; the message may still arrive. ${retry}` };
  }
  return record(result);
}

/** A key the journal already holds as taken is answered like the first time, without a worker (or a resume). */
export function priorDelivery(journal: Journal, sessionId: string, key: string | undefined): SendReply | null {
  if (key === undefined) return null;
  const prior = journal.inputByKey(sessionId, key);
  if (!prior) return null;
  let d: { delivered?: boolean; queued?: boolean; inputId?: string };
  try {
    d = JSON.parse(prior.detail) as typeof d;
  } catch {
    return null; // a damaged journal row proves nothing was taken; deliver (the worker's own key log still holds)
  }
  if (prior.kind === 'input' && !d.delivered && !d.queued) return null; // refused then: nothing was taken
  const resumed = prior.kind === 'resumed';
  return {
    delivered: resumed || d.delivered === true,
    queued: !resumed && d.queued === true,
    ...(resumed ? { resumed: true } : {}),
    inputId: d.inputId,
    duplicate: true,
    note: 'already taken under this idempotencyKey; not delivered again',
  };
}
