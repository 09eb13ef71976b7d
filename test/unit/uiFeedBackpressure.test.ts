/**
 * The dashboard feed against a page that never reads: a real HTTP server and a
 * real socket that is paused, the feed (UiFeeds) under test, and a session
 * manager stand-in that only emits change events (many, with long ids, so each
 * batch is large). The bytes the supervisor buffers for that page must stay
 * bounded: the feed waits for 'drain' instead of writing on.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import winston from 'winston';
import type { SessionManager } from '../../src/supervisor/sessionManager';
import { MAX_FEED_BUFFERED_BYTES, UiFeeds } from '../../src/supervisor/ui/uiFeed';

/** Batches written while the page does not read: far more than the socket's buffers take in. */
const FLUSHES = 60;
const FLUSH_MS = 5;

test('a page that never reads does not make the feed buffer without bound', async () => {
  const sessions = new EventEmitter();
  const feeds = new UiFeeds(sessions as unknown as SessionManager, () => Buffer.alloc(32), winston.createLogger({ silent: true }), { flushMs: FLUSH_MS, heartbeatMs: 60_000 });
  let res: Response | undefined;
  const app = express();
  app.get('/feed', (req, r) => {
    res = r;
    feeds.open(req, r);
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.pause(); // the page that never reads
  socket.write('GET /feed HTTP/1.1\r\nHost: x\r\n\r\n');
  try {
    let most = 0;
    for (let i = 0; i < FLUSHES; i++) {
      // One batch: the same 1,000 sessions changed, ids of 1 kB each (a feed event of ~1 MB).
      for (let k = 0; k < 1_000; k++) sessions.emit('changed', `${k}-${'x'.repeat(1_000)}`);
      await new Promise((r) => setTimeout(r, FLUSH_MS * 2));
      most = Math.max(most, res?.writableLength ?? 0);
    }
    expect(res).toBeDefined();
    // Held back, not dropped: the page keeps its feed and gets the batch once it reads.
    expect(feeds.size).toBe(1);
    expect(most).toBeLessThanOrEqual(MAX_FEED_BUFFERED_BYTES);
  } finally {
    socket.destroy();
    feeds.close();
    await new Promise((r) => server.close(r));
  }
});
