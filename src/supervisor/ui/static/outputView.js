// A session's output as a virtual list: only the lines on screen (and a few
// around them) are in the DOM, fetched by absolute offset in pages and kept in a
// bounded cache, so a 200,000-line session costs what a screenful does. Lines
// are text nodes (preact escapes them), never markup.
import { h } from '/ui/vendor/preact.mjs';
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from '/ui/vendor/hooks.mjs';
import htm from '/ui/vendor/htm.mjs';
import { api } from './api.js';

const html = htm.bind(h);
/** Must match .line's height in style.css: the list positions lines by it. */
const LINE_PX = 18;
const PAGE = 500;
/** Pages kept in memory: a few screens around where the reader is, ~15 MB at worst. */
const MAX_PAGES = 40;
const OVERSCAN = 30;
/** Browsers cap an element's height (Chromium ~33.5M px); beyond this many lines the list shows the newest. */
const MAX_VIRTUAL_LINES = 1_500_000;
/** A failed read is tried again after this long (or when the session's total changes), not at once: a failing server is not hammered. */
const READ_RETRY_MS = 3_000;

/**
 * Lines by absolute offset, in pages of PAGE; undefined = not fetched, null = no
 * longer kept by the server. What the server dropped is one number, goneBelow,
 * never cached line by line: marks in LRU pages were evicted and fetched again forever.
 */
class LineCache {
  constructor() {
    this.pages = new Map();
    this.goneBelow = 0;
  }
  page(p) {
    let pg = this.pages.get(p);
    if (pg) {
      this.pages.delete(p); // re-insert: Map order is the LRU order
      this.pages.set(p, pg);
      return pg;
    }
    pg = new Array(PAGE);
    this.pages.set(p, pg);
    while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value);
    return pg;
  }
  get(i) {
    if (i < this.goneBelow) return null;
    const pg = this.pages.get(Math.floor(i / PAGE));
    return pg ? pg[i % PAGE] : undefined;
  }
  /** `asked` was the offset requested; an answer starting later means the server keeps nothing below `offset`. */
  put(asked, offset, lines) {
    if (offset > asked) this.goneBelow = Math.max(this.goneBelow, offset);
    for (let k = 0; k < lines.length; k++) {
      const i = offset + k;
      this.page(Math.floor(i / PAGE))[i % PAGE] = lines[k];
    }
  }
  /** The first offset in [from, to) not yet fetched, or -1. */
  firstMissing(from, to) {
    for (let i = Math.max(from, this.goneBelow); i < to; i++) if (this.get(i) === undefined) return i;
    return -1;
  }
}

export function OutputView({ sessionId, total }) {
  const box = useRef(null);
  const cache = useRef(null);
  const inFlight = useRef(false);
  // An empty answer at an offset: not asked again until the session has more lines.
  const stall = useRef({ at: -1, total: -1 });
  // A failed read: not tried again before `until` unless the session's total changes.
  const failed = useRef({ until: 0, total: -1 });
  const [, redraw] = useReducer((n) => n + 1, 0);
  const [view, setView] = useState({ top: 0, height: 600 });
  const [following, setFollowing] = useState(true);
  if (!cache.current || cache.current.id !== sessionId) cache.current = Object.assign(new LineCache(), { id: sessionId });

  const shown = Math.min(total, MAX_VIRTUAL_LINES);
  const base = total - shown; // the offset of the list's first line
  const first = Math.max(0, Math.floor(view.top / LINE_PX) - OVERSCAN);
  const last = Math.min(shown, Math.ceil((view.top + view.height) / LINE_PX) + OVERSCAN);

  // Fetch what is on screen and missing, one page at a time (the next render asks for more).
  useEffect(() => {
    if (inFlight.current) return;
    const missing = cache.current.firstMissing(base + first, base + last);
    if (missing < 0 || (stall.current.at === missing && stall.current.total === total)) return;
    if (failed.current.total === total && Date.now() < failed.current.until) return;
    const c = cache.current;
    inFlight.current = true;
    api
      .output(sessionId, missing, PAGE)
      .then((page) => {
        const got = page.lines.length;
        // Lines older than the server keeps come back as `dropped`: shown as such, not fetched again.
        c.put(missing, page.offset, page.lines);
        if (got === 0 && page.offset === missing) stall.current = { at: missing, total };
      })
      .catch(() => {
        // Shown as not yet loaded; asked again after READ_RETRY_MS, or sooner if the session grows.
        failed.current = { until: Date.now() + READ_RETRY_MS, total };
        setTimeout(redraw, READ_RETRY_MS);
      })
      .finally(() => {
        inFlight.current = false;
        redraw();
      });
  });

  // Follow the end while the reader is at the bottom.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && following) el.scrollTop = el.scrollHeight;
  }, [total, following, sessionId]);

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setView({ top: el.scrollTop, height: el.clientHeight });
        setFollowing(el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_PX * 2);
      });
    };
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    el.addEventListener('scroll', onScroll, { passive: true });
    onScroll();
    return () => {
      el.removeEventListener('scroll', onScroll);
      ro.disconnect();
      cancelAnimationFrame(frame);
    };
  }, []);

  const rows = [];
  for (let i = first; i < last; i++) {
    const text = cache.current.get(base + i);
    const cls = text === null ? 'line gone' : text === undefined ? 'line wait' : 'line';
    rows.push(html`<div class=${cls} key=${base + i} data-offset=${base + i}>${text === null ? '(no longer kept)' : text === undefined ? '…' : text}</div>`);
  }
  const jump = () => {
    setFollowing(true);
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  };
  return html`<div class="output-wrap">
    <div class="output" ref=${box} data-testid="output" tabindex="0">
      <div class="spacer" style=${{ height: `${shown * LINE_PX}px` }}>
        <div class="window" style=${{ transform: `translateY(${first * LINE_PX}px)` }}>${rows}</div>
      </div>
    </div>
    <div class="output-bar">
      <span>${total.toLocaleString()} lines${base > 0 ? ` (showing the newest ${shown.toLocaleString()})` : ''}</span>
      ${following ? html`<span class="follow on">following</span>` : html`<button class="follow" onClick=${jump}>follow ↓</button>`}
    </div>
  </div>`;
}
