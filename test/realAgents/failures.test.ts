/**
 * How the REAL agents fail, seen through agentvisor's MCP tools: each failure ends (or refuses) the
 * session with a status and a one-line reason a user can act on, and nothing hangs.
 */
import { closeRigs, closedPort, readAll, sessionInfo, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

const AGENTS = ['claude-code', 'codex'] as const;

/** Starts one session per agent in the rig and waits for both to end; returns their last pages and lines. */
async function runBoth(rig: Awaited<ReturnType<typeof startRealRig>>, task: string) {
  const t0 = Date.now();
  const started = await Promise.all(AGENTS.map((agent) => rig.call('session_start', { agent, cwd: agent, task })));
  const ended = await Promise.all(started.map((s) => waitEnded(rig.client, s.sessionId, 45_000)));
  const lines = await Promise.all(started.map(async (s) => (await readAll(rig.client, s.sessionId)).lines));
  return { started, ended, lines, elapsedMs: Date.now() - t0 };
}

test('agent binary missing: session_start refuses with a clear error and starts nothing', async () => {
  const rig = await startRealRig([], { env: { CLAUDE_BIN: '/nonexistent/bin/claude', CODEX_BIN: '/nonexistent/bin/codex' } });
  const claude = await rig.callError('session_start', { agent: 'claude-code', cwd: 'p', task: 'hi' });
  expect(claude).toMatch(/CLAUDE_BIN=\/nonexistent\/bin\/claude is not an executable file\. Fix CLAUDE_BIN or unset it to search PATH\./);
  const codex = await rig.callError('session_start', { agent: 'codex', cwd: 'p', task: 'hi' });
  expect(codex).toMatch(/CODEX_BIN=\/nonexistent\/bin\/codex is not an executable file\. Fix CODEX_BIN or unset it to search PATH\./);
  expect((await rig.call('session_list')).sessions).toEqual([]);
  expect(rig.model.requests).toEqual([]);
});

test('root without the sandbox opt-in: Claude is refused with the fix, Codex is unaffected', async () => {
  // No CHILD_ENV_IS_SANDBOX at all (the rig removes startServer's default).
  const rig = await startRealRig([{ text: 'codex is fine' }], { sandbox: false });
  if (process.getuid?.() === 0) {
    const err = await rig.callError('session_start', { agent: 'claude-code', cwd: 'p', task: 'hi' });
    expect(err).toMatch(/Claude Code refuses full-permission mode \(--dangerously-skip-permissions\) when run as root/);
    expect(err).toMatch(/start agentvisor with CHILD_ENV_IS_SANDBOX=1/);
    expect((await rig.call('session_list')).sessions).toEqual([]);
  } else {
    // Not root: the opt-in is not needed and Claude starts (this branch only runs off-root).
    const s = await rig.call('session_start', { agent: 'claude-code', cwd: 'p', task: 'hi' });
    expect((await waitEnded(rig.client, s.sessionId)).status).toBe('exited');
  }
  const c = await rig.call('session_start', { agent: 'codex', cwd: 'p', task: 'hi' });
  expect(await waitEnded(rig.client, c.sessionId)).toMatchObject({ status: 'exited', completedSuccessfully: true });
  expect((await readAll(rig.client, c.sessionId)).lines).toContain('codex is fine');
});

test('bad API key (401): both agents end exited, unsuccessful, with the key named as the reason', async () => {
  // A gateway's own wording, not the provider's "invalid x-api-key": the status must be enough.
  const rig = await startRealRig([{ httpStatus: 401, error: 'token rejected by gateway', times: Infinity }], { maxRetries: 0 });
  const { ended, lines, elapsedMs } = await runBoth(rig, 'hello?');
  for (const e of ended) {
    expect(e).toMatchObject({ status: 'exited', exitCode: 1, completedSuccessfully: false });
    expect(e.errorSummary).toBe('the model provider rejected the API key (not logged in or a wrong key)');
  }
  expect(lines[0]).toContain('[error] Failed to authenticate. API Error: 401 token rejected by gateway');
  expect(lines[1]).toContain(`ERROR: unexpected status 401 Unauthorized: token rejected by gateway, url: ${rig.model.url}/v1/responses`);
  expect(rig.model.requests.map((r) => r.api).sort()).toEqual(['anthropic', 'openai']); // no retries
  expect(elapsedMs).toBeLessThan(30_000);
});

test('model server unreachable: both agents end promptly with "could not be reached"', async () => {
  const port = await closedPort();
  const rig = await startRealRig([], { maxRetries: 0, modelUrl: `http://127.0.0.1:${port}` });
  const { ended, lines, elapsedMs } = await runBoth(rig, 'hello?');
  for (const e of ended) {
    expect(e).toMatchObject({ status: 'exited', exitCode: 1, completedSuccessfully: false });
    expect(e.errorSummary).toBe('the model server could not be reached');
  }
  expect(lines[0]).toContain('[error] API Error: Unable to connect to API (ConnectionRefused)');
  // Without `--disable unbounded_connection_retries` Codex would print "Reconnecting... waiting
  // for network" with a growing backoff for ever, whatever its provider's retry settings.
  expect(lines[1]).toContain('ERROR: Connection failed: error sending request');
  expect(lines[1].some((l) => l.includes('waiting for network'))).toBe(false);
  expect(elapsedMs).toBeLessThan(30_000);
});

test('not logged in (no API key anywhere): both agents end with "not logged in", without calling the model', async () => {
  const rig = await startRealRig([], {
    maxRetries: 0,
    // undefined: left out of the supervisor's environment entirely, so the agents have no key.
    env: { CHILD_ENV_ANTHROPIC_API_KEY: undefined as unknown as string, CHILD_ENV_OPENAI_API_KEY: undefined as unknown as string },
  });
  const { started, ended, lines } = await runBoth(rig, 'hello?');
  for (const e of ended) {
    expect(e).toMatchObject({ status: 'exited', exitCode: 1, completedSuccessfully: false });
    expect(e.errorSummary).toBe('the agent is not logged in and has no API key');
  }
  expect(lines[0]).toContain('[error] Not logged in · Please run /login');
  expect(lines[1]).toContain('ERROR: Missing environment variable: `OPENAI_API_KEY`.');
  expect(rig.model.requests).toEqual([]);
  // The reason is in session_list too, where a client looking at all sessions sees it.
  for (const s of started) expect((await sessionInfo(rig.client, s.sessionId)).errorSummary).toBe('the agent is not logged in and has no API key');
});
