/**
 * `agentvisor doctor`: checks what agentvisor needs on this host and explains
 * each finding — OK, WARN or FAIL with the fix. Exit code 1 if anything FAILs.
 * It reads and probes only: the one write is a temporary file in STATE_DIR
 * (removed at once), and credentials are reported present or absent, never shown.
 */
import { agentEnv } from '../supervisor/agentEnv';
import { out, parseCommand, scrub } from './common';
import { agentCheck, credentialsCheck, userCheck } from './doctor/agents';
import type { Check } from './doctor/check';
import { portCheck, pm2Check, workspaceCheck } from './doctor/deployment';
import { nodeCheck, ptyCheck, sqliteCheck } from './doctor/runtime';
import { sandboxCheck } from './doctor/sandbox';
import { journalCheck, stateDirCheck, tokenCheck, tolerantConfig } from './doctor/state';
import { printJson } from './format';

export type { Check, Status } from './doctor/check';

export const USAGE = `usage: agentvisor doctor [--json]

Checks this host for agentvisor: Node.js, the native modules, the agent CLIs and
their credentials, root and the Claude sandbox opt-in, STATE_DIR and the token
file, the port, the journal's integrity and pm2. Each line is OK, WARN or FAIL
with the fix. Reads the same variables (and .env) as serve.

Exit code: 0 when nothing FAILs, 1 otherwise.

options:
  --json   {"ok": bool, "counts": {...}, "checks": [{"check", "status", "message", "fix"}]}
`;

export async function runChecks(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const { config, checks } = tolerantConfig(env);
  const childEnv = agentEnv(env, config.childEnv);
  const [pty, claude, codex, server] = await Promise.all([ptyCheck(), agentCheck('claude-code', config, env, childEnv), agentCheck('codex', config, env, childEnv), portCheck(config)]);
  if (!claude.path && !codex.path) {
    for (const a of [claude, codex]) {
      if (a.check.status === 'WARN') a.check = { ...a.check, status: 'FAIL', message: `${a.check.message}, and neither agent is available` };
    }
  }
  const state = stateDirCheck(config.STATE_DIR);
  checks.push(
    nodeCheck(),
    sqliteCheck(),
    pty,
    claude.check,
    codex.check,
    ...[claude, codex].filter((a) => a.path).map((a) => credentialsCheck(a.agent, childEnv)),
    userCheck(claude.path !== null, childEnv),
    sandboxCheck(config, env),
    state.check,
    tokenCheck(config, state.usable),
    journalCheck(config, state.usable),
    server,
    workspaceCheck(config.WORKSPACE_DIR),
    pm2Check(env),
  );
  return checks.map((c) => ({ ...c, message: scrub(c.message), ...(c.fix ? { fix: scrub(c.fix) } : {}) }));
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const checks = await runChecks();
  const counts = { OK: 0, WARN: 0, FAIL: 0 };
  for (const c of checks) counts[c.status]++;
  if (counts.FAIL > 0) process.exitCode = 1;
  if (args.values.json) return printJson({ ok: counts.FAIL === 0, counts, checks });
  const width = Math.max(...checks.map((c) => c.check.length));
  const indent = ' '.repeat(6 + width + 2);
  for (const c of checks) {
    out(`${c.status.padEnd(6)}${c.check.padEnd(width)}  ${c.message}\n`);
    if (c.fix && c.status !== 'OK') out(`${indent}fix: ${c.fix}\n`);
  }
  out(`\n${counts.FAIL} FAIL, ${counts.WARN} WARN, ${counts.OK} OK\n`);
}
