/** Percentiles and the machine description for bench results. */
import fs from 'node:fs';
import os from 'node:os';

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an already sorted array. */
function rank(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: rank(s, 50),
    p95: rank(s, 95),
    p99: rank(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean: s.length ? sum / s.length : NaN,
  };
}

export const median = (values: number[]): number =>
  rank(
    [...values].sort((a, b) => a - b),
    50,
  );

export function round(v: number, digits = 1): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function machine(): Record<string, unknown> {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux
  }
  return {
    cores: os.availableParallelism(),
    cpuModel,
    memTotalMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** VmRSS of a process in kB, or null if it is gone. */
export function rssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** utime + stime of a process in seconds, or null if it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) are f[11], f[12]; clock ticks are 100/s on Linux.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** Follows the CPU time of some processes until they exit (their last reading is kept). */
export class CpuWatch {
  private readonly last = new Map<string, number>();
  private readonly first = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: Map<string, number>,
    intervalMs = 25,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    for (const [name, pid] of this.pids) {
      const s = cpuSeconds(pid);
      if (s === null) continue;
      if (!this.first.has(name)) this.first.set(name, s);
      this.last.set(name, s);
    }
  }

  /** CPU seconds used by each process while watched. */
  stop(): Record<string, number> {
    this.sample();
    clearInterval(this.timer);
    const out: Record<string, number> = {};
    for (const [name, v] of this.last) out[name] = Math.round((v - (this.first.get(name) ?? v)) * 100) / 100;
    return out;
  }
}

/** Proportional (shared pages split among their users) and private resident memory in MB, from smaps_rollup. */
export function pssMb(pid: number): { pss: number; private: number } | null {
  try {
    const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN);
    return { pss: kb('Pss') / 1024, private: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
  } catch {
    return null;
  }
}
