/**
 * The dashboard under load (issue 17): a real headless Chromium following one
 * 200,000-line session that keeps printing, with 50 other sessions printing at
 * the same time. Reported: the longest main-thread task (PerformanceObserver
 * 'longtask': any task over 50 ms) while following, opening the session, jumping
 * to its first line, and on the session list; and how long a printed line takes
 * to show (the bench agent stamps each tick with its wall-clock time).
 * Its own supervisor, so RING_LINES can keep every one of the 200,000 lines.
 */
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../harness/browser';
import { call, connect, killPids, leftovers, makeDirs, pool, sleep, startServer } from './harness';
import { round, summarize } from './stats';

export const UiBench = {
  sessions: 50,
  bigLines: 200_000,
  /** Each of the 50 prints a line this often: 250 lines/s together. */
  tickMs: 200,
  /** The followed session prints this often after its 200,000 lines (~175 lines/s measured: a chatty agent). */
  bigTickMs: 5,
  /** How long the page follows while long tasks and line latency are recorded. */
  followMs: 15_000,
  /** How long the list page is watched with every session printing. */
  listMs: 5_000,
  /** A generous bound for one step of the page (open, jump): it is measured, not asserted. */
  stepTimeoutMs: 60_000,
};

/** Installs the recorders in the page: long tasks, and the latency of each `tick <i> <epoch ms>` line shown. */
function record(page: Page): Promise<void> {
  // Page code: the bench compiles without DOM types, so the page's globals are reached through `w`.
  return page.evaluate(() => {
    const w = globalThis as any;
    w.__long = [];
    w.__lat = [];
    const seen = new Set<string>();
    new w.PerformanceObserver((list: any) => {
      for (const e of list.getEntries()) w.__long.push(e.duration);
    }).observe({ type: 'longtask' });
    const out = w.document.querySelector('[data-testid=output]');
    if (!out) return;
    const scan = (measure: boolean) => {
      const now = Date.now();
      for (const el of Array.from(out.querySelectorAll('.line')) as any[]) {
        const m = /^tick (\d+) (\d+(?:\.\d+)?)$/.exec(el.textContent ?? '');
        if (m && !seen.has(m[1])) {
          seen.add(m[1]);
          if (measure) w.__lat.push(now - Number(m[2]));
        }
      }
    };
    // Lines already on screen were shown before the recorder started: not measured.
    scan(false);
    new w.MutationObserver(() => scan(true)).observe(out, { childList: true, subtree: true, characterData: true });
  });
}

async function take(page: Page): Promise<{ long: number[]; lat: number[] }> {
  return page.evaluate(() => {
    const w = globalThis as any;
    const r = { long: w.__long as number[], lat: w.__lat as number[] };
    w.__long = [];
    w.__lat = [];
    return r;
  });
}

const longest = (xs: number[]) => round(xs.length ? Math.max(...xs) : 0, 0);

export async function benchUi(log: (msg: string) => void): Promise<Record<string, any>> {
  const P = UiBench;
  const dirs = makeDirs('agentvisor-bench-ui-');
  const server = await startServer(dirs, { RING_LINES: String(P.bigLines * 2) });
  const c = await connect(server.url);
  const browser = await launchBrowser(dirs.base, { width: 1280, height: 900 });
  try {
    log(`ui: one session of ${P.bigLines} lines, then ${P.sessions} printing every ${P.tickMs} ms`);
    const big = (await call(c, 'session_start', { agent: 'claude-code', cwd: 'big', task: `floodticks ${P.bigLines} ${P.bigTickMs}` })).sessionId as string;
    for (;;) {
      const page = await call(c, 'session_output', { sessionId: big, since: P.bigLines, limit: 1 });
      if (page.lines.length > 0) break;
      await sleep(250);
    }
    await pool(
      Array.from({ length: P.sessions }, (_, i) => i),
      10,
      (i) => call(c, 'session_start', { agent: 'claude-code', cwd: `s${i}`, task: `ticks 0 ${P.tickMs}` }),
    );

    const { page } = browser;
    await page.goto(`${server.url}/ui`);
    await page.fill('#token', server.token);
    await page.click('button[type=submit]');
    await page.waitForSelector('a.row');
    // The list with 51 sessions printing.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.__long = [];
      new w.PerformanceObserver((list: any) => {
        for (const e of list.getEntries()) w.__long.push(e.duration);
      }).observe({ type: 'longtask' });
    });
    await sleep(P.listMs);
    const listRows = await page.locator('a.row').count();
    const list = await take(page);

    // Open the big session: from the click to its newest lines on screen.
    const t0 = Date.now();
    await page.goto(`${server.url}/ui#/s/${big}`);
    await page
      .locator('[data-testid=output] .line', { hasText: /^tick \d+ / })
      .first()
      .waitFor({ timeout: P.stepTimeoutMs });
    const openMs = Date.now() - t0;
    await record(page);
    await sleep(P.followMs);
    const follow = await take(page);
    const bottomOffset = await page.locator('[data-testid=output] .line').last().getAttribute('data-offset');

    // Jump to the first line, 200,000 lines up: the page fetches that page only.
    const t1 = Date.now();
    await page.locator('[data-testid=output]').evaluate((el: any) => (el.scrollTop = 0));
    // Offset 0 is the agent's [session] line; the flood's first line is offset 1.
    await page.locator('[data-testid=output] .line[data-offset="1"]', { hasText: 'line 0' }).waitFor({ timeout: P.stepTimeoutMs });
    const jumpMs = Date.now() - t1;
    const jump = await take(page);
    const heapMB = await page.evaluate(() => Math.round(((globalThis as any).performance.memory?.usedJSHeapSize ?? 0) / 2 ** 20));
    const domNodes = await page.evaluate(() => (globalThis as any).document.getElementsByTagName('*').length as number);

    const lat = summarize(follow.lat);
    const result = {
      sessions: P.sessions + 1,
      bigLines: P.bigLines,
      listRows,
      listLongestTaskMs: longest(list.long),
      listLongTasks: list.long.length,
      openMs,
      followSeconds: P.followMs / 1000,
      followLongestTaskMs: longest(follow.long),
      followLongTasks: follow.long.length,
      lineLatencyMs: { n: lat.n, p50: round(lat.p50, 0), p95: round(lat.p95, 0), max: round(lat.max, 0) },
      bottomOffset: Number(bottomOffset),
      jumpToFirstLineMs: jumpMs,
      jumpLongestTaskMs: longest(jump.long),
      domNodes,
      heapMB,
    };
    log(`ui: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await browser.close();
    await c.close().catch(() => undefined);
    await server.kill('SIGKILL');
    killPids(leftovers(dirs));
    fs.rmSync(dirs.base, { recursive: true, force: true });
  }
}
