/**
 * With the server down, the CLI takes a running session's outcome from the
 * worker's final.json, parsed with the worker contract (WorkerState) like the
 * supervisor does: a file that is not a whole worker state is no outcome, and
 * the session is judged by its worker process instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerState } from '../../src/shared/protocol';
import type { SessionRow } from '../../src/supervisor/journal';

// The compiled module: the CLI's modules find package.json from dist/ (as agentCwd.test does).
const { sessionView } = require(path.resolve(__dirname, '../../dist/src/cli/journalView.js')) as typeof import('../../src/cli/journalView');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-final-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const row = (): SessionRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  agent: 'codex',
  cwd: '/w',
  task: 't',
  model: null,
  mode: 'full',
  status: 'running',
  // No worker: a final record, if valid, is the only source of an outcome.
  worker_pid: null,
  worker_start_time: null,
  agent_pid: null,
  agent_start_time: null,
  socket_path: '/nowhere.sock',
  session_dir: dir,
  secret: 's',
  created_at: '2024-01-01T00:00:00.000Z',
  last_activity_at: '2024-01-01T00:00:00.000Z',
  last_output_at: null,
  ended_at: null,
  exit_code: null,
  signal: null,
  end_reason: null,
  completed_successfully: null,
  agent_session_id: null,
  error_summary: null,
  output_lines: 3,
  git_base_tree: null,
  protocol: null,
  input_tokens: null,
  cached_input_tokens: null,
  output_tokens: null,
  cost_usd: null,
  turns: null,
  run_ms: 0,
  limits: null,
  sandbox: null,
});

const final: WorkerState = {
  sessionId: '00000000-0000-4000-8000-000000000001',
  status: 'exited',
  workerPid: 10,
  workerStartTime: null,
  agentPid: 11,
  agentStartTime: null,
  nextOffset: 7,
  lastOutputAt: '2024-01-01T00:00:01.000Z',
  lastInputAt: null,
  endedAt: '2024-01-01T00:00:02.000Z',
  exitCode: 0,
  signal: null,
  endReason: 'exited',
  completedSuccessfully: true,
  agentSessionId: null,
  errorSummary: null,
  finalAnswer: 'done',
  outputNotPersisted: null,
  pendingApprovals: [],
};

test('a valid final record gives the outcome', () => {
  fs.writeFileSync(path.join(dir, 'final.json'), JSON.stringify(final));
  expect(sessionView(row(), false)).toMatchObject({ status: 'exited', statusFrom: 'final record', exitCode: 0, outputLines: 7, endedAt: final.endedAt });
});

test.each([
  ['a status alone', { status: 'exited' }],
  ['a wrong type', { ...final, exitCode: '0' }],
  ['an unknown status', { ...final, status: 'done' }],
  ['not an object', 'exited'],
])('a final record that is not a worker state (%s) is no outcome: the worker is gone, so lost', (_name, content) => {
  fs.writeFileSync(path.join(dir, 'final.json'), JSON.stringify(content));
  expect(sessionView(row(), false)).toMatchObject({ status: 'lost', statusFrom: 'worker gone' });
});

test('a cut-short final record is no outcome either', () => {
  fs.writeFileSync(path.join(dir, 'final.json'), JSON.stringify(final).slice(0, 40));
  expect(sessionView(row(), false)).toMatchObject({ status: 'lost', statusFrom: 'worker gone' });
});
