/** The resumability store's bounds (src/supervisor/mcp/eventStore.ts), in memory. */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { BoundedEventStore, EventStoreBudget } from '../../src/supervisor/mcp/eventStore';

const MB = 1024 * 1024;
/** A notification of about `bytes` bytes as JSON. */
const big = (bytes: number, n = 0): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n, data: 'x'.repeat(bytes - 80) } });
const reply = (id: number, bytes: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: { text: 'y'.repeat(bytes - 60) } });

async function replayed(store: BoundedEventStore, after: string): Promise<string[]> {
  const ids: string[] = [];
  await store.replayEventsAfter(after, { send: async (id) => void ids.push(id) });
  return ids;
}

test('a connection keeps at most its byte share, dropping the oldest', async () => {
  const budget = new EventStoreBudget(100 * MB);
  const store = new BoundedEventStore(budget, 1_000, 8 * MB);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) ids.push(await store.storeEvent('s', big(MB, i)));
  expect(store.bytes).toBeLessThanOrEqual(8 * MB);
  expect(store.size).toBe(8);
  expect(budget.bytes).toBe(store.bytes);
  expect(await store.getStreamIdForEventId(ids[0])).toBeUndefined();
  expect(await replayed(store, ids[25])).toEqual(ids.slice(26));
});

test('all connections together stay within the total budget; the biggest gives up its oldest first', async () => {
  const budget = new EventStoreBudget(10 * MB);
  const hog = new BoundedEventStore(budget, 1_000, 8 * MB);
  const modest = new BoundedEventStore(budget, 1_000, 8 * MB);
  const modestId = await modest.storeEvent('m', big(MB));
  for (let i = 0; i < 8; i++) await hog.storeEvent('h', big(MB, i));
  for (let i = 0; i < 4; i++) await modest.storeEvent('m', big(MB, i));
  expect(budget.bytes).toBeLessThanOrEqual(10 * MB);
  expect(budget.bytes).toBe(hog.bytes + modest.bytes);
  // The hog lost events to make room; the modest connection kept all it stored.
  expect(hog.size).toBeLessThan(8);
  expect(await modest.getStreamIdForEventId(modestId)).toBe('m');
});

test("a delivered reply's stream is forgotten; other streams are kept", async () => {
  const budget = new EventStoreBudget();
  const store = new BoundedEventStore(budget);
  const priming = await store.storeEvent('post', {} as JSONRPCMessage);
  await store.storeEvent('post', reply(7, 2 * MB));
  const listening = await store.storeEvent('get', big(1_000));
  store.delivered([7]);
  expect(await store.getStreamIdForEventId(priming)).toBeUndefined();
  expect(await store.getStreamIdForEventId(listening)).toBe('get');
  expect(budget.bytes).toBe(store.bytes);
  expect(store.bytes).toBeLessThan(2_000);
});

test('dispose gives every byte back to the budget', async () => {
  const budget = new EventStoreBudget();
  const a = new BoundedEventStore(budget);
  const b = new BoundedEventStore(budget);
  for (let i = 0; i < 5; i++) await a.storeEvent('s', big(MB, i));
  await b.storeEvent('t', big(MB));
  a.dispose();
  expect(a.size).toBe(0);
  expect(budget.bytes).toBe(b.bytes);
  b.dispose();
  expect(budget.bytes).toBe(0);
});

test("an event larger than a connection's share is sent (it gets an id) but not kept", async () => {
  const store = new BoundedEventStore(new EventStoreBudget(), 1_000, MB);
  const id = await store.storeEvent('s', big(2 * MB));
  expect(id).toMatch(/^s_/);
  expect(store.size).toBe(0);
  expect(store.bytes).toBe(0);
});
