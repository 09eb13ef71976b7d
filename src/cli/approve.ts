/** `agentvisor approve <session> <approval> allow|allow-session|deny`: answers a permission request through the running server. */
import { CliError, USAGE_EXIT, operatorConfig, out, parseCommand } from './common';
import { printJson } from './format';
import { findSession, openJournal } from './journalView';
import { ToolFailed, connectMcp, requireServer } from './server';

export const USAGE = `usage: agentvisor approve <session> <approval> allow|allow-session|deny [--message TEXT] [--json]

Answers a permission request of a mode "ask" session (agentvisor approvals lists
them) through the running server; recorded as decided by "cli". <session> may be
any unique prefix of the session id. Answering a request already decided changes
nothing and says who decided it and how.

options:
  --message TEXT  shown to the agent (with deny: why)
  --json          the approval as recorded, and alreadyDecided
`;

const DECISIONS: Record<string, 'allow' | 'allow_for_session' | 'deny'> = { allow: 'allow', 'allow-session': 'allow_for_session', deny: 'deny' };

interface Reply {
  approval: { approvalId: string; summary: string; decision: string | null; decidedBy: string | null; state: string; message: string | null };
  alreadyDecided: boolean;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { message: { type: 'string' }, json: { type: 'boolean' } }, { min: 3, max: 3 });
  if (!args) return;
  const [prefix, approvalId, word] = args.positionals;
  const decision = Object.hasOwn(DECISIONS, word) ? DECISIONS[word] : undefined;
  if (!decision) throw new CliError(`the decision must be allow, allow-session or deny, not "${word.slice(0, 40)}" (see agentvisor approve --help)`, USAGE_EXIT);
  const config = operatorConfig();
  const journal = openJournal(config.STATE_DIR);
  let id: string;
  try {
    id = findSession(journal, prefix).id;
  } finally {
    journal.close();
  }
  const mcp = await connectMcp(config, await requireServer(config));
  let reply: Reply;
  try {
    const message = typeof args.values.message === 'string' ? { message: args.values.message } : {};
    reply = await mcp.call<Reply>('session_approve', { sessionId: id, approvalId, decision, ...message });
  } catch (err) {
    if (err instanceof ToolFailed) throw new CliError(err.message);
    throw err;
  } finally {
    await mcp.close();
  }
  if (args.values.json) return printJson(reply);
  const a = reply.approval;
  const how = a.state === 'decided' ? `${a.decision} by ${a.decidedBy}` : `${a.state}${a.message ? ` (${a.message})` : ''}`;
  out(reply.alreadyDecided ? `${id.slice(0, 8)} ${a.approvalId}: already ${how}; nothing changed\n` : `${id.slice(0, 8)} ${a.approvalId}: ${how}\n`);
}
