/**
 * The package as a user installs it: `npm pack` of this checkout, `npm install -g --prefix <tmp>` of
 * the tarball (real npm, real registry, native modules built), then the installed `agentvisor
 * serve` started and driven over MCP. It catches what a checkout cannot: a file the server needs
 * left out of "files", a runtime import of a devDependency, a bin entry that does not start.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Dirs, type RunningServer, FAKE_CODEX, ROOT, call, connect, leftovers, makeDirs, reapLeftovers, startServer, until } from '../helpers/server';
import { TOOL_NAMES } from '../support/toolNames';

const run = promisify(execFile);

/** tsc of the whole project on a loaded 2-core box takes 10–30 s. */
const BUILD_TIMEOUT_MS = 120_000;
/** Packing only copies and gzips the built files. */
const PACK_TIMEOUT_MS = 60_000;
/** ~160 packages from the registry, and better-sqlite3 and node-pty compiled from source: 2–3 min measured on a shared 2-core box. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** Build, pack and install in sequence, with a margin for the cleanup of a failed step. */
const SETUP_TIMEOUT_MS = BUILD_TIMEOUT_MS + PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 30_000;
/** The fake agent prints three lines and exits; the worker then reports the end. */
const SESSION_END_TIMEOUT_MS = 20_000;
/** A stopped supervisor's ended worker exits within its own shutdown, well under this. */
const PROCESS_EXIT_TIMEOUT_MS = 10_000;
/** Start the server, start a session, wait for its end, stop: generous for a loaded CI box. */
const SERVE_TEST_TIMEOUT_MS = 120_000;

/** Install scripts npm may run: the two native modules, nothing else (npm 11 blocks unlisted ones). */
const NATIVE_MODULES = ['better-sqlite3', 'node-pty'];

/** The parent npm's idea of where it works: the child npm must use its own cwd and --prefix. */
const PARENT_NPM_LOCATION = new Set(['npm_config_local_prefix', 'npm_config_prefix', 'npm_config_global_prefix']);

/**
 * Under `npm test` the parent npm exports its script context (npm_package_*, npm_lifecycle_*, …)
 * and its configuration (npm_config_*). Keep the configuration (a CI's registry mirror, cafile,
 * nodedir), drop the context and the parent's locations, so the child npm acts as a user's would.
 */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => {
      const key = k.toLowerCase();
      if (!key.startsWith('npm_')) return true;
      return key.startsWith('npm_config_') && !PARENT_NPM_LOCATION.has(key);
    }),
  );
}

/** Runs npm with an argv array; on failure the error carries npm's output (npm never sees the token). */
async function npm(args: string[], cwd: string, timeout: number): Promise<string> {
  try {
    const { stdout } = await run('npm', args, { cwd, env: npmEnv(), timeout, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}\n${(e.stderr ?? '').slice(-4000)}`, { cause: err });
  }
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; devDependencies: Record<string, string> };

let dirs: Dirs;
let prefix: string;
let packedFiles: string[];
let installedCount: number;

beforeAll(async () => {
  dirs = makeDirs('agentvisor-pkg-');
  prefix = path.join(dirs.base, 'prefix');
  const t0 = Date.now();
  // Build explicitly and pack with --ignore-scripts: `npm pack` would otherwise run `prepare` (the
  // same build) and mix its output into the JSON we parse.
  await npm(['run', 'build'], ROOT, BUILD_TIMEOUT_MS);
  const packed = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dirs.base], ROOT, PACK_TIMEOUT_MS)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  packedFiles = packed[0].files.map((f) => f.path);
  const tarball = path.join(dirs.base, path.basename(packed[0].filename));
  // cwd is the temp dir so no project .npmrc or package.json of the checkout takes part.
  const out = await npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', `--allow-scripts=${NATIVE_MODULES.join(',')}`, tarball], dirs.base, INSTALL_TIMEOUT_MS);
  const added = /added (\d+) packages?/.exec(out);
  if (!added) throw new Error(`npm install printed no package count:\n${out}`);
  installedCount = Number(added[1]);
  // The figure the README quotes; printed so a change in it shows in the test log.
  console.info(`packed install: ${installedCount} packages in ${Math.round((Date.now() - t0) / 1000)} s`);
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (!dirs) return;
  reapLeftovers(dirs);
  fs.rmSync(dirs.base, { recursive: true, force: true });
});

test('the tarball ships the built server and nothing of the tests, sources or bench', () => {
  for (const needed of [
    'package.json',
    'README.md',
    'LICENSE',
    '.env.example',
    'ecosystem.config.cjs',
    'dist/src/cli.js',
    'dist/src/supervisor/main.js',
    'dist/src/worker/main.js',
    'dist/src/supervisor/fs/fsTasks.js',
  ]) {
    expect(packedFiles).toContain(needed);
  }
  const stray = packedFiles.filter((f) => /^(test|src|bench|dist\/bench|dist\/test)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'));
  expect(stray).toEqual([]);
});

test('the install has the runtime dependencies only: no agent CLI, Inspector, pm2 or test tool', () => {
  expect(installedCount).toBeGreaterThan(0);
  const modules = path.join(prefix, 'lib', 'node_modules', pkg.name, 'node_modules');
  expect(fs.existsSync(path.join(modules, 'better-sqlite3'))).toBe(true);
  const presentDevDeps = Object.keys(pkg.devDependencies).filter((name) => fs.existsSync(path.join(modules, name)));
  expect(presentDevDeps).toEqual([]);
});

describe('the installed agentvisor serve', () => {
  let server: RunningServer | undefined;
  let client: Client | undefined;

  afterEach(async () => {
    await client?.close();
    await server?.stop();
  });

  test(
    'answers tools/list and runs a session through its own worker and native modules',
    async () => {
      server = await startServer({ dirs, command: [path.join(prefix, 'bin', 'agentvisor'), 'serve'], env: { CODEX_BIN: FAKE_CODEX } });
      // The installed copy, not the checkout, is what answered.
      expect(fs.realpathSync(path.join(prefix, 'bin', 'agentvisor'))).toBe(path.join(prefix, 'lib', 'node_modules', pkg.name, 'dist', 'src', 'cli.js'));
      client = await connect(server, 'http');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(expect.arrayContaining(TOOL_NAMES));
      // A session needs the shipped worker (dist/src/worker), node-pty (Codex runs in a terminal) and
      // the journal (better-sqlite3): the parts a packaging mistake would break.
      const s = await call(client, 'session_start', { agent: 'codex', cwd: 'proj', task: 'lines 3' });
      let page: any;
      await until(
        async () => {
          page = await call(client!, 'session_wait', { sessionId: s.sessionId, timeoutMs: 2_000, since: 0, limit: 10 });
          return !['running', 'killing'].includes(page.status);
        },
        SESSION_END_TIMEOUT_MS,
        'the session to end',
      );
      expect(page.status).toBe('exited');
      expect(page.exitCode).toBe(0);
      await client.close();
      client = undefined;
      expect(await server.stop()).toBe(0);
      server = undefined;
      await until(() => leftovers(dirs).length === 0, PROCESS_EXIT_TIMEOUT_MS, 'no process of the test left');
    },
    SERVE_TEST_TIMEOUT_MS,
  );
});
