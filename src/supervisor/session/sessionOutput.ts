/**
 * Output and waits: pages read from the live worker or, once it is gone, from
 * the session's files (the last few ended sessions' kept in memory, LRU); waits
 * woken by the worker's events, never by polling.
 */
import type { Config } from '../config';
import { type EndedOutput, loadEndedOutput } from '../endedOutput';
import { readFinalState } from '../finalState';
import type { ReadResult } from '../../shared/ringBuffer';
import type { SessionRow } from '../journal';
import { usageOf } from '../sessionBudget';
import { ENDED_RING_CACHE, FIRST_PAGE } from './coreTimeouts';
import { type CoreBase, type LiveWorker, type OutputPage, type WaitPage, isEnded, sessionEnded } from './sessionTypes';

export interface OutputDeps extends CoreBase {
  config: Pick<Config, 'RING_LINES' | 'START_OUTPUT_WAIT'>;
  live(id: string): LiveWorker | undefined;
  /** The journal row, or a SessionError for an unknown id. */
  row(id: string): SessionRow;
}

export class SessionOutput {
  private readonly endedRings = new Map<string, EndedOutput>();

  constructor(private readonly d: OutputDeps) {}

  /** The cached output of an ended session is stale once it continues, and gone once forgotten. */
  forget(id: string): void {
    this.endedRings.delete(id);
  }

  async read(id: string, since: number, limit: number, maxBytes: number): Promise<OutputPage> {
    return this.readRow(this.d.row(id), since, limit, maxBytes);
  }

  private async readRow(row: SessionRow, since: number, limit: number, maxBytes: number): Promise<OutputPage> {
    const id = row.id;
    const live = this.d.live(id);
    const connected = live?.client && !isEnded(row.status) ? live : undefined;
    // The lines the output events carried: nothing is awaited, so `row` is still current.
    const recent = connected?.recent.read(since, limit, maxBytes, connected.state.nextOffset);
    if (recent) return this.page(row, recent);
    let page;
    let files: EndedOutput | undefined;
    if (connected?.client) {
      try {
        page = await connected.client.request('read', { since, limit, maxBytes });
      } catch {
        // The worker died (or dropped the connection) while we asked: its crash is being
        // reconciled right now. Answer from the output it flushed to disk instead of
        // failing the read; the worker flushes before every read it answers, so this
        // holds every line a client has already been shown.
        page = (files = this.endedRing(row)).ring.read(since, limit, maxBytes);
      }
    } else {
      page = (files = this.endedRing(row)).ring.read(since, limit, maxBytes);
    }
    return this.page(this.d.journal.get(id) ?? row, page, files?.note);
  }

  private page(row: SessionRow, page: ReadResult, filesNote?: string | null): OutputPage {
    const result: OutputPage = {
      sessionId: row.id,
      status: row.status,
      ...page,
      exitCode: row.exit_code,
      completedSuccessfully: row.completed_successfully === null ? null : row.completed_successfully === 1,
      agentSessionId: row.agent_session_id,
      errorSummary: row.error_summary,
      usage: this.d.live(row.id)?.state.usage ?? usageOf(row),
    };
    if (filesNote) result.note = filesNote;
    else if (page.dropped > 0) {
      result.note = `${page.dropped} line(s) before offset ${page.offset} are no longer kept (the buffer holds the last ${this.d.config.RING_LINES}).`;
    }
    return result;
  }

  /** Output of a session without a live worker, from its files on disk. */
  private endedRing(row: SessionRow): EndedOutput {
    let ring = this.endedRings.get(row.id);
    // Only cache once the session has ended: a lost-but-flushing worker could still add lines.
    if (!ring) {
      ring = loadEndedOutput(row.session_dir, row.output_lines, this.d.config.RING_LINES);
      if (isEnded(row.status)) {
        this.endedRings.set(row.id, ring);
        if (this.endedRings.size > ENDED_RING_CACHE) this.endedRings.delete(this.endedRings.keys().next().value!);
      }
    }
    return ring;
  }

  /** Returns once the session has printed something or ended, or after START_OUTPUT_WAIT: never a fixed sleep. */
  async firstOutput(id: string): Promise<OutputPage> {
    const live = this.d.live(id);
    if (live && live.state.nextOffset === 0 && !isEnded(live.state.status)) {
      await this.waitForChange(
        id,
        () => {
          const l = this.d.live(id);
          return !l || l.state.nextOffset > 0 || isEnded(l.state.status);
        },
        this.d.config.START_OUTPUT_WAIT,
      );
    }
    return this.read(id, 0, FIRST_PAGE.lines, FIRST_PAGE.bytes);
  }

  /**
   * Blocks until output past `since` exists, the session ends, or its agent waits on an
   * approval (mode ask: answered at once while one is pending that is not in `knownApprovals`,
   * those the caller was already shown), then reads.
   * Woken by the worker's events: no polling.
   */
  async wait(id: string, since: number | undefined, timeoutMs: number, limit: number, maxBytes: number, signal?: AbortSignal, knownApprovals?: ReadonlySet<string>): Promise<WaitPage> {
    const row = this.d.row(id);
    const live = this.d.live(id);
    const from = since ?? live?.state.nextOffset ?? row.output_lines;
    const ready = () => {
      const l = this.d.live(id);
      if (!l) return true; // ended or lost: read what there is
      return l.state.nextOffset > from || isEnded(l.state.status) || l.state.pendingApprovals.some((a) => !knownApprovals?.has(a.approvalId));
    };
    let timedOut = false;
    if (!isEnded(row.status) && !ready()) {
      timedOut = !(await this.waitForChange(id, ready, timeoutMs, signal));
      return { ...(await this.read(id, from, limit, maxBytes)), timedOut };
    }
    return { ...(await this.readRow(row, from, limit, maxBytes)), timedOut };
  }

  /** Resolves true when `pred` holds, false on timeout, abort or close. */
  waitForChange(id: string, pred: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const live = this.d.live(id);
    if (!live) return Promise.resolve(pred());
    return live.waiters.wait(pred, timeoutMs, signal);
  }

  hasEnded(id: string): boolean {
    return sessionEnded(this.d.journal, this.d.live(id), id);
  }

  /**
   * Resolves true once the session has ended, false on timeout or cancellation;
   * `orApproval`: also true once its agent waits on an approval (the caller tells which).
   */
  async waitEnded(id: string, timeoutMs: number, signal?: AbortSignal, orApproval = false): Promise<boolean> {
    const ended = () => this.hasEnded(id) || (orApproval && (this.d.live(id)?.state.pendingApprovals.length ?? 0) > 0);
    if (ended()) return true;
    return this.waitForChange(id, ended, timeoutMs, signal);
  }

  /** The agent's last answer: from the live worker, or from the final record of an ended one. */
  finalAnswer(id: string): string | null {
    const live = this.d.live(id);
    if (live) return live.state.finalAnswer;
    const final = readFinalState(this.d.row(id).session_dir);
    return final?.ok ? final.state.finalAnswer : null; // none: lost, unreadable, or no longer kept
  }
}
