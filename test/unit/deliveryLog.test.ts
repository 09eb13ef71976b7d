/** The worker's memory of idempotency keys (#12 item 4): at most once per key, bounded. */
import { DeliveryLog } from '../../src/worker/deliveryLog';

const ok = () => ({ delivered: true, queued: false });

test('a key is delivered once; a repeat gets the first outcome and id, marked duplicate', () => {
  const log = new DeliveryLog(10);
  let sends = 0;
  const send = () => (sends++, ok());
  expect(log.deliver('k', 'id-1', send)).toEqual({ delivered: true, queued: false, inputId: 'id-1' });
  expect(log.deliver('k', 'id-2', send)).toEqual({ delivered: true, queued: false, inputId: 'id-1', duplicate: true });
  expect(sends).toBe(1);
});

test('without a key every send is delivered', () => {
  const log = new DeliveryLog(10);
  let sends = 0;
  log.deliver(undefined, 'a', () => (sends++, ok()));
  log.deliver(undefined, 'b', () => (sends++, ok()));
  expect(sends).toBe(2);
});

test('a refused or failed send is not remembered: its retry is tried afresh', () => {
  const log = new DeliveryLog(10);
  expect(log.deliver('k', 'a', () => ({ delivered: false, queued: false, note: 'session is being killed' })).duplicate).toBeUndefined();
  expect(() =>
    log.deliver('k', 'b', () => {
      throw new Error('ended');
    }),
  ).toThrow('ended');
  expect(log.deliver('k', 'c', ok)).toEqual({ delivered: true, queued: false, inputId: 'c' });
});

test('only the newest keys are kept', () => {
  const log = new DeliveryLog(3);
  for (const k of ['a', 'b', 'c', 'd']) log.deliver(k, `id-${k}`, ok);
  expect(log.deliver('a', 'again', ok)).toEqual({ delivered: true, queued: false, inputId: 'again' });
  expect(log.deliver('d', 'again', ok).duplicate).toBe(true);
});
