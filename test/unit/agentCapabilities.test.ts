/** Capability detection reads each CLI's own --help: a Codex with `app-server` can run over it (issue 14). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentCatalog, detectCapabilities } from '../../src/supervisor/agentCapabilities';
import { CLAUDE_REAL, CODEX_REAL } from '../support/agentEnv';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-caps-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A CLI that prints `help` for --help and a version for --version. */
function fakeCli(name: string, help: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(`${file}.help`, help + '\n');
  fs.writeFileSync(file, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "codex-cli 9.9.9"; else cat "$0.help"; fi\n`, { mode: 0o755 });
  return file;
}

test('the real codex 0.169 lists app-server', async () => {
  const caps = await detectCapabilities('codex', CODEX_REAL);
  expect(caps).toMatchObject({ found: true, version: '0.169.0', supportsAppServer: true });
});

test('a codex whose --help has no app-server command, or only mentions the word, has none', async () => {
  const without = await detectCapabilities('codex', fakeCli('old-codex', 'Commands:\n  exec    Run Codex non-interactively\n  resume  Resume'));
  expect(without).toMatchObject({ found: true, supportsAppServer: false });
  const mention = await detectCapabilities('codex', fakeCli('mention-codex', 'Commands:\n  exec    Run; see the app-server docs'));
  expect(mention.supportsAppServer).toBe(false);
  const listed = await detectCapabilities('codex', fakeCli('new-codex', 'Commands:\n  exec        Run\n  app-server  [experimental] Run the app server'));
  expect(listed.supportsAppServer).toBe(true);
});

test('CODEX_PROTOCOL: auto follows detection (and waits for it), app-server is refused for a CLI without it, exec always goes', async () => {
  const withIt = new AgentCatalog();
  const detecting = withIt.detect({ 'claude-code': undefined, codex: fakeCli('has', 'Commands:\n  app-server  Run the app server') });
  // Asked before detection has finished: the answer waits for it rather than guessing exec.
  await expect(withIt.codexProtocol('auto')).resolves.toEqual({ ok: true, protocol: 'app-server' });
  await detecting;
  await expect(withIt.codexProtocol('exec')).resolves.toEqual({ ok: true, protocol: 'exec' });
  await expect(withIt.codexProtocol('app-server')).resolves.toEqual({ ok: true, protocol: 'app-server' });

  const without = new AgentCatalog();
  await without.detect({ 'claude-code': undefined, codex: fakeCli('lacks', 'Commands:\n  exec  Run') });
  await expect(without.codexProtocol('auto')).resolves.toEqual({ ok: true, protocol: 'exec' });
  await expect(without.codexProtocol('app-server')).resolves.toEqual({
    ok: false,
    error: expect.stringMatching(/^CODEX_PROTOCOL=app-server, but codex 9\.9\.9 at .*lacks.* has no app-server command/),
  });
});

test('mode ask is advertised where the installed CLI can relay permission requests: the real claude and codex; a claude without stream-json input or a codex without app-server cannot', async () => {
  expect((await detectCapabilities('claude-code', CLAUDE_REAL)).modes).toEqual(['full', 'edit', 'plan', 'ask']);
  expect((await detectCapabilities('codex', CODEX_REAL)).modes).toEqual(['full', 'edit', 'plan', 'ask']);
  const oldClaude = await detectCapabilities('claude-code', fakeCli('old-claude', '  --permission-mode <mode>  (choices: "acceptEdits", "plan")'));
  expect(oldClaude.modes).toEqual(['full', 'edit', 'plan']);
  const oldCodex = await detectCapabilities('codex', fakeCli('exec-codex', '  --sandbox <MODE>\nCommands:\n  exec  Run'));
  expect(oldCodex.modes).toEqual(['full', 'edit', 'plan']);
  const catalog = new AgentCatalog();
  await catalog.detect({ 'claude-code': undefined, codex: fakeCli('exec-codex2', '  --sandbox <MODE>\nCommands:\n  exec  Run') });
  expect(catalog.refusal('codex', 'ask', null)).toMatch(/does not support mode "ask".*supported: full, edit, plan/);
});
