/**
 * The rate limiter's memory: a fixed window per client address, like
 * express-rate-limit's MemoryStore, but with a hard bound on how many addresses
 * it remembers.
 *
 * MemoryStore forgets an address only after a whole window in which it sent
 * nothing (it keeps a `current` and a `previous` map and drops `previous` every
 * window), so its size is "addresses seen in the last two windows": bounded in
 * time, not in count. Here, once `maxKeys` addresses are tracked, every further
 * new address shares one overflow bucket until old windows expire. That fails
 * closed (the newcomers are limited together, never let through), and cycling
 * through addresses cannot reset anyone's count the way evicting the oldest
 * entry would.
 *
 * Entries live in a Map in the order their windows started, and every window is
 * equally long, so expired entries are always at the front: sweeping is
 * amortised O(1) per request.
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

/** The shared bucket of addresses that arrive while the store is full (not a valid IP, so it collides with none). */
export const OVERFLOW_KEY = 'overflow:';

interface Entry {
  totalHits: number;
  resetTime: Date;
}

export class BoundedMemoryStore implements Store {
  readonly localKeys = true;
  private windowMs = 60_000;
  private readonly hits = new Map<string, Entry>();

  constructor(private readonly maxKeys: number) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  /** Addresses (and the overflow bucket) currently remembered; never more than maxKeys. */
  get size(): number {
    this.sweep(Date.now());
    return this.hits.size;
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.hits) {
      if (entry.resetTime.getTime() > now) break;
      this.hits.delete(key);
    }
  }

  /** The bucket `key` counts against: its own if known or if there is room, else the shared overflow one. */
  private bucketOf(key: string): string {
    // One slot stays free for the overflow bucket, so the total never exceeds maxKeys.
    return this.hits.has(key) || this.hits.size < this.maxKeys - 1 ? key : OVERFLOW_KEY;
  }

  /** Counts `n` hits at once (a JSON-RPC batch is that many messages). */
  async incrementBy(key: string, n: number): Promise<ClientRateLimitInfo> {
    const now = Date.now();
    this.sweep(now);
    const bucket = this.bucketOf(key);
    let entry = this.hits.get(bucket);
    if (!entry) {
      entry = { totalHits: 0, resetTime: new Date(now + this.windowMs) };
      this.hits.set(bucket, entry);
    }
    entry.totalHits += n;
    return { totalHits: entry.totalHits, resetTime: entry.resetTime };
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.incrementBy(key, 1);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    this.sweep(Date.now());
    const entry = this.hits.get(key) ?? undefined;
    return entry && { totalHits: entry.totalHits, resetTime: entry.resetTime };
  }

  async decrement(key: string): Promise<void> {
    const entry = this.hits.get(this.hits.has(key) ? key : OVERFLOW_KEY);
    if (entry && entry.totalHits > 0) entry.totalHits--;
  }

  async resetKey(key: string): Promise<void> {
    this.hits.delete(key);
  }

  async resetAll(): Promise<void> {
    this.hits.clear();
  }
}
