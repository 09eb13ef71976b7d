/** `agentvisor approvals`: the permission requests mode ask sessions wait on, every session, through the running server. */
import { CliError, operatorConfig, out, parseCommand } from './common';
import { ago, printJson, table } from './format';
import { ToolFailed, connectMcp, requireServer } from './server';

export const USAGE = `usage: agentvisor approvals [--json]

Lists the permission requests that sessions in mode "ask" are waiting on, in
every session, oldest first, as the running server knows them (session_list).
Answer one with: agentvisor approve <session> <approval> allow|allow-session|deny

options:
  --json   an array of {sessionId, agent, cwd, approvalId, kind, summary, decisions, createdAt, request}
`;

interface Pending {
  approvalId: string;
  kind: string;
  summary: string;
  decisions: string[];
  createdAt: string;
  request: unknown;
}

interface Listed {
  sessionId: string;
  agent: string;
  cwd: string;
  pendingApprovals?: Pending[];
}

/** session_list's largest page: every session awaiting approval at any sane MAX_SESSIONS. */
const PAGE = 500;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const config = operatorConfig();
  const mcp = await connectMcp(config, await requireServer(config));
  let sessions: Listed[];
  try {
    ({ sessions } = await mcp.call<{ sessions: Listed[] }>('session_list', { status: 'awaiting_approval', limit: PAGE }));
  } catch (err) {
    if (err instanceof ToolFailed) throw new CliError(err.message);
    throw err;
  } finally {
    await mcp.close();
  }
  const rows = sessions.flatMap((s) => (s.pendingApprovals ?? []).map((a) => ({ sessionId: s.sessionId, agent: s.agent, cwd: s.cwd, ...a }))).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  if (args.values.json) return printJson(rows);
  if (rows.length === 0) {
    out('no pending approvals\n');
    return;
  }
  const now = Date.now();
  out(
    table(
      ['SESSION', 'APPROVAL', 'KIND', 'ASKED', 'SUMMARY'],
      rows.map((r) => [r.sessionId.slice(0, 8), r.approvalId, r.kind, ago(r.createdAt, now), r.summary]),
    ),
  );
}
