/**
 * The dashboard's live feed: one Server-Sent Events stream per open page,
 * behind the login cookie and key. It carries which sessions changed (ids only,
 * batched); the page then reads what it shows through the API, so the feed never
 * holds output. A page that does not read is not written to: while its socket
 * needs 'drain' its batch waits (a set of ids, bounded by the number of
 * sessions), and past MAX_FEED_BUFFERED_BYTES, or MAX_STALLED_HEARTBEATS
 * heartbeats without draining, its feed is dropped (EventSource reconnects).
 */
import type { Request, Response } from 'express';
import type { Logger } from 'winston';
import type { SessionManager } from '../sessionManager';
import { cookieValid, uiCookieOf } from './uiAuth';

export const UiFeedTimeouts = {
  /** Changes are batched this long: a session printing 1,000 lines/s costs a page 10 events/s, and a new line shows well within a second. */
  flushMs: 100,
  /** A comment this often keeps proxies from closing a quiet stream, and re-checks the cookie (a rotated token ends the stream). */
  heartbeatMs: 15_000,
} as const;

/** Open feeds at once: a few pages per operator; a flood of streams is refused rather than held. */
export const MAX_UI_FEEDS = 64;
/** Bytes buffered for one page past which it is taken as not reading and its feed ends (an event is ids only: tens of kB for thousands of sessions). */
export const MAX_FEED_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Heartbeats a feed may stay undrained before it is dropped: a page gone quiet for a minute frees its slot in MAX_UI_FEEDS. */
export const MAX_STALLED_HEARTBEATS = 4;

interface Feed {
  res: Response;
  cookie: string;
  changed: Set<string>;
  /** Heartbeats in a row at which the socket still needed 'drain'. */
  stalled: number;
}

export class UiFeeds {
  private readonly feeds = new Set<Feed>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly onChanged = (id: string) => {
    for (const f of this.feeds) f.changed.add(id);
  };

  constructor(
    private readonly sessions: SessionManager,
    private readonly digest: () => Buffer,
    private readonly log: Logger,
    timeouts: Partial<Record<keyof typeof UiFeedTimeouts, number>> = {},
  ) {
    const t = { ...UiFeedTimeouts, ...timeouts };
    sessions.on('changed', this.onChanged);
    sessions.on('lifecycle', this.onChanged);
    sessions.on('approval', this.onChanged);
    this.flushTimer = setInterval(() => this.flush(), t.flushMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), t.heartbeatMs);
    this.flushTimer.unref();
    this.heartbeatTimer.unref();
  }

  get size(): number {
    return this.feeds.size;
  }

  open(req: Request, res: Response): void {
    if (this.feeds.size >= MAX_UI_FEEDS) {
      res
        .status(503)
        .set('Retry-After', '30')
        .json({ error: 'too_many_feeds', message: `${MAX_UI_FEEDS} dashboard pages are open already` });
      return;
    }
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // A proxy must pass events on as they come (nginx buffers otherwise).
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const feed: Feed = { res, cookie: uiCookieOf(req) ?? '', changed: new Set(), stalled: 0 };
    this.feeds.add(feed);
    res.write('event: hello\ndata: {}\n\n');
    res.on('close', () => this.feeds.delete(feed));
  }

  /** Ends every stream whose cookie the current token no longer signs (after a rotation): the page goes back to its login. */
  closeStale(): void {
    for (const f of this.feeds) if (!cookieValid(f.cookie, this.digest())) this.end(f, 'event: logout\ndata: {}\n\n');
  }

  private flush(): void {
    for (const f of this.feeds) {
      // Not drained: the batch waits in the set (one entry per session) instead of in the socket's buffer.
      if (f.changed.size === 0 || f.res.writableNeedDrain) continue;
      const ids = [...f.changed];
      f.changed.clear();
      this.write(f, `event: changed\ndata: ${JSON.stringify(ids)}\n\n`);
    }
  }

  private heartbeat(): void {
    this.closeStale();
    for (const f of this.feeds) {
      if (!f.res.writableNeedDrain) {
        f.stalled = 0;
        this.write(f, ': ping\n\n');
      } else if (++f.stalled >= MAX_STALLED_HEARTBEATS) this.drop(f, 'not reading');
    }
  }

  private write(f: Feed, text: string): void {
    try {
      f.res.write(text);
      if (f.res.writableLength > MAX_FEED_BUFFERED_BYTES) this.drop(f, 'too far behind');
    } catch (err) {
      // A socket torn down under us: its 'close' removes the feed; nothing else to do.
      this.log.debug('ui feed write failed', { error: (err as Error).message });
    }
  }

  /** A page that does not read: its socket is torn down, nothing more is buffered for it. */
  private drop(f: Feed, why: string): void {
    this.feeds.delete(f);
    this.log.debug('ui feed dropped', { why });
    f.res.destroy();
  }

  private end(f: Feed, last: string): void {
    this.feeds.delete(f);
    this.write(f, last);
    f.res.end();
  }

  close(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.heartbeatTimer);
    this.sessions.off('changed', this.onChanged);
    this.sessions.off('lifecycle', this.onChanged);
    this.sessions.off('approval', this.onChanged);
    for (const f of [...this.feeds]) this.end(f, 'event: bye\ndata: {}\n\n');
  }
}
