/** Plain aligned text for people; `--json` output goes through `printJson`. */
import { terminalJson } from '../shared/sanitize';

/** Columns padded to their widest cell; the last column is never padded (long paths stay on one line). */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return (
    all
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `label  value` lines with the labels aligned. */
export function fields(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return (
    pairs
      .map(([k, v]) => {
        const [first, ...rest] = v.split('\n');
        return [`${k.padEnd(width)}  ${first}`, ...rest.map((l) => ' '.repeat(width + 2) + l)].join('\n');
      })
      .join('\n') + '\n'
  );
}

/** A duration for people: 850ms, 12s, 4m, 3h, 2d. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1_000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}

/** "3m ago" for an ISO time, "-" for none. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${duration(now - t)} ago`;
}

/** Tokens for a table cell: 950, 12.3k, 4.5M. */
export function tokens(n: number): string {
  if (n < 1_000) return String(n);
  if (n < 1_000_000) return `${(n / 1_000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** A session's spend in one cell: `$0.61 12k tok`, `150 tok` (no cost reported), `-` (nothing reported). */
export function spentText(usage: { inputTokens: number; outputTokens: number; costUsd: number | null } | null): string {
  if (!usage) return '-';
  const t = `${tokens(usage.inputTokens + usage.outputTokens)} tok`;
  return usage.costUsd === null ? t : `$${usage.costUsd.toFixed(2)} ${t}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(terminalJson(value, 2) + '\n');
}
