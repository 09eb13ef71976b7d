/**
 * Issue 16: the REAL claude and codex CLIs, confined by bubblewrap (SANDBOX=auto on a host where
 * it works, as CI is), complete a task — write a file in their cwd and run a command — in `full`
 * and `edit` mode. In edit mode Codex runs its own sandbox (its bundled bubblewrap) nested inside
 * ours: it still keeps `.git` read-only, which ours would not. A write outside the cwd fails in
 * either mode. (Plan mode confined: options.test.ts, which runs under the default SANDBOX=auto.)
 * Scripted model server, no network.
 */
import fs from 'node:fs';
import path from 'node:path';
import { closeRigs, readAll, sessionInfo, startRealRig, waitEnded } from '../support/agentEnv';

afterEach(closeRigs);

/** What the model sees of the tool results of a Responses-API (Codex) request. */
const codexOutputs = (body: any) => JSON.stringify((body.input as any[]).filter((i) => /_call_output$/.test(i.type)));
/** What the model sees of the tool results of a Messages-API (Claude) request. */
const claudeResults = (body: any) => JSON.stringify(body.messages.at(-1).content);

describe.each(['full', 'edit'] as const)('mode %s, confined', (mode) => {
  test(`claude writes a file in its cwd and runs a command`, async () => {
    const rig = await startRealRig([]);
    const cwd = path.join(rig.dirs.workspace, `c-${mode}`);
    rig.model.push(
      { text: 'Writing.', toolCalls: [{ name: 'Write', input: { file_path: path.join(cwd, 'made.txt'), content: 'made by claude\n' } }] },
      // `ls` is read-only, which edit mode (acceptEdits) runs without asking.
      { text: 'Listing.', toolCalls: [{ name: 'Bash', input: { command: 'ls', description: 'list' } }] },
      { text: 'DONE' },
    );
    const s = await rig.call('session_start', { agent: 'claude-code', cwd: `c-${mode}`, task: 'make made.txt', mode });
    expect(s.sandbox).toBe('bwrap');
    const ended = await waitEnded(rig.client, s.sessionId);
    expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
    expect(fs.readFileSync(path.join(cwd, 'made.txt'), 'utf8')).toBe('made by claude\n');
    // The command ran inside the sandbox, in the cwd: its output (the file) reached the model.
    expect(claudeResults(rig.model.requests[2].body)).toContain('made.txt');
    expect((await sessionInfo(rig.client, s.sessionId)).sandbox).toBe('bwrap');
  });

  test(`codex writes a file in its cwd with a command; a write outside it fails`, async () => {
    const rig = await startRealRig([]);
    const cwd = path.join(rig.dirs.workspace, `x-${mode}`);
    const outside = path.join(rig.dirs.workspace, 'outside.txt');
    // Writable in agentvisor's sandbox (inside the cwd), read-only in Codex's own workspace-write one.
    fs.mkdirSync(path.join(cwd, '.git'), { recursive: true });
    rig.model.push(
      { text: 'Writing.', toolCalls: [{ name: 'exec_command', input: { cmd: 'echo made by codex > made.txt && cat made.txt' } }] },
      { text: 'Escaping.', toolCalls: [{ name: 'exec_command', input: { cmd: `echo escaped > ${outside}` } }] },
      { text: 'Touching .git.', toolCalls: [{ name: 'exec_command', input: { cmd: 'echo x > .git/touched' } }] },
      { text: 'DONE' },
    );
    const s = await rig.call('session_start', { agent: 'codex', cwd: `x-${mode}`, task: 'make made.txt', mode });
    expect(s.sandbox).toBe('bwrap');
    const ended = await waitEnded(rig.client, s.sessionId);
    const lines = (await readAll(rig.client, s.sessionId)).lines;
    expect(ended).toMatchObject({ status: 'exited', exitCode: 0, completedSuccessfully: true });
    expect(lines).toContainEqual(expect.stringMatching(mode === 'full' ? /^sandbox: danger-full-access/ : /^sandbox: workspace-write/));
    expect(fs.readFileSync(path.join(cwd, 'made.txt'), 'utf8')).toBe('made by codex\n');
    expect(codexOutputs(rig.model.requests[1].body)).toContain('made by codex');
    expect(fs.existsSync(outside)).toBe(false);
    expect(codexOutputs(rig.model.requests[2].body)).toContain('Read-only file system');
    // Codex's own sandbox works nested in ours: in edit mode it refuses what ours allows.
    expect(fs.existsSync(path.join(cwd, '.git', 'touched'))).toBe(mode === 'full');
    if (mode === 'edit') expect(codexOutputs(rig.model.requests[3].body)).toContain('Read-only file system');
  });
});
