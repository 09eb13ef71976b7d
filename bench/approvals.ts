/**
 * Mode ask's relay latency on loopback (issue 15), both legs through the real supervisor and
 * worker: the agent asks → the client's session_wait (in flight) returns the request; the
 * client's session_approve → the agent reads its answer and goes on. The agent is the bench's
 * fake Claude (bench/fixtures/bench-agent.js, task "ask N") speaking Claude's stream-json
 * control_request / control_response protocol: the model is not what is measured, so there is
 * none. Both ends stamp wall-clock times (performance.timeOrigin + now(), sub-ms, one host).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call } from './harness';

const now = () => performance.timeOrigin + performance.now();
const CONTINUED = /^continued (\d+) (\d+(?:\.\d+)?)$/;
/** A request the bench agent made, as session_wait lists it. */
interface Pending {
  approvalId: string;
  request: { input?: { sentAt?: number } };
}

/** `reps` requests of one session, one after another; returns the two legs' samples in ms. */
export async function relayLatency(c: Client, reps: number): Promise<{ askToWaitMs: number[]; approveToAgentMs: number[] }> {
  const start = await call(c, 'session_start', { agent: 'claude-code', cwd: 'bench-ask', task: `ask ${reps}`, mode: 'ask' });
  const id: string = start.sessionId;
  const askToWaitMs: number[] = [];
  const approveToAgentMs: number[] = [];
  const approvedAt = new Map<number, number>();
  const answered = new Set<string>();
  let since = start.initialOutput.nextOffset as number;
  let continued = 0;
  const note = (lines: string[]) => {
    for (const line of lines) {
      const m = CONTINUED.exec(line);
      const sent = m ? approvedAt.get(Number(m[1])) : undefined;
      if (m && sent !== undefined) {
        approveToAgentMs.push(Number(m[2]) - sent);
        continued++;
      }
    }
  };
  note(start.initialOutput.lines);
  while (continued < reps) {
    const page = await call(c, 'session_wait', { sessionId: id, since, timeoutMs: 10_000 });
    const at = now();
    since = page.nextOffset;
    note(page.lines);
    const fresh = ((page.pendingApprovals ?? []) as Pending[]).filter((p) => !answered.has(p.approvalId));
    for (const p of fresh) {
      const sentAt = p.request.input?.sentAt;
      if (typeof sentAt === 'number') askToWaitMs.push(at - sentAt);
      answered.add(p.approvalId);
      approvedAt.set(approvedAt.size, now());
      await call(c, 'session_approve', { sessionId: id, approvalId: p.approvalId, decision: 'allow' });
    }
    if (fresh.length === 0 && continued < reps && !['running', 'awaiting_approval'].includes(page.status)) throw new Error(`ask session ended early: ${page.status}`);
  }
  await call(c, 'session_kill', { sessionId: id }).catch(() => undefined);
  return { askToWaitMs, approveToAgentMs };
}
