/**
 * Doctor: the configuration and what lives in STATE_DIR — the directory, the token file, the journal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from '../../supervisor/config';
import { tokenFile } from '../../supervisor/token';
import { addSecret, readOperatorToken } from '../common';
import { type Check, fail, firstLine, mode, ok, warn } from './check';

/** loadConfig, but an invalid variable is a FAIL line and the rest is checked with its default. */
export function tolerantConfig(env: NodeJS.ProcessEnv): { config: Config; checks: Check[] } {
  const e: NodeJS.ProcessEnv = { ...env };
  const checks: Check[] = [];
  for (let i = 0; i < 50; i++) {
    try {
      const config = loadConfig(e);
      addSecret(config.AUTH_TOKEN);
      if (checks.length === 0) checks.push(ok('config', `configuration is valid (STATE_DIR=${config.STATE_DIR}, ${config.HOST}:${config.PORT})`));
      return { config, checks };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const name = /^invalid ([A-Z0-9_]+)/.exec(err.message)?.[1];
      if (!name) throw err;
      checks.push(fail('config', err.message, `fix or unset ${name} (agentvisor serve --help lists every variable); the checks below use its default`));
      // An empty value counts as unset and wins over .env.
      e[name] = '';
    }
  }
  throw new Error('configuration could not be loaded');
}

export function stateDirCheck(dir: string): { check: Check; usable: boolean } {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { check: fail('state dir', `STATE_DIR ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code}`, 'set STATE_DIR to a directory this user owns'), usable: false };
    }
    let parent = path.dirname(dir);
    while (!fs.existsSync(parent) && parent !== path.dirname(parent)) parent = path.dirname(parent);
    try {
      fs.accessSync(parent, fs.constants.W_OK);
      if (!fs.statSync(parent).isDirectory())
        return { check: fail('state dir', `STATE_DIR ${dir} does not exist and ${parent} is not a directory`, `create it (mkdir -m 700 -p ${dir}) or set STATE_DIR elsewhere`), usable: false };
      return { check: ok('state dir', `STATE_DIR ${dir} does not exist yet; the server creates it (mode 0700) at first start`), usable: false };
    } catch {
      return { check: fail('state dir', `STATE_DIR ${dir} does not exist and cannot be created under ${parent}`, `create it (mkdir -m 700 -p ${dir}) or set STATE_DIR elsewhere`), usable: false };
    }
  }
  if (!st.isDirectory()) {
    return { check: fail('state dir', `STATE_DIR ${dir} is not a directory`, `set STATE_DIR to a directory (or move the file ${dir} away)`), usable: false };
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    problems.push(`it is owned by uid ${st.uid}, not by this user (uid ${uid})`);
    fixes.push(`chown -R ${uid} ${dir}, or set STATE_DIR to a directory of this user`);
  }
  if (st.mode & 0o077) {
    problems.push(`its mode is ${mode(st.mode)}: other users can reach the token, the journal and session output`);
    fixes.push(`chmod 700 ${dir}`);
  }
  const probe = path.join(dir, `.doctor-${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
    fs.rmSync(probe, { force: true });
  } catch (err) {
    problems.push(`it is not writable (${(err as NodeJS.ErrnoException).code})`);
    fixes.push('make it writable by this user, or set STATE_DIR elsewhere');
  }
  if (problems.length) return { check: fail('state dir', `STATE_DIR ${dir}: ${problems.join('; ')}`, fixes.join('; ')), usable: !problems.some((p) => p.includes('writable')) };
  return { check: ok('state dir', `STATE_DIR ${dir} is writable, mode ${mode(st.mode)}`), usable: true };
}

export function tokenCheck(config: Config, stateUsable: boolean): Check {
  if (config.AUTH_TOKEN) return ok('token', `AUTH_TOKEN is set (${config.AUTH_TOKEN.length} characters); STATE_DIR/token is not used`);
  const file = tokenFile(config.STATE_DIR);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return stateUsable || !fs.existsSync(config.STATE_DIR)
      ? ok('token', `no token file yet: the server generates ${file} (mode 0600) at first start`)
      : warn('token', 'not checked: STATE_DIR is not usable', 'fix STATE_DIR first');
  }
  if (!st.isFile()) return fail('token', `${file} is not a regular file`, `remove ${file}; the server creates a new token at start`);
  if (st.mode & 0o077) {
    return fail('token', `${file} has mode ${mode(st.mode)}: other users may read the token`, `chmod 600 ${file}, then agentvisor token --rotate (the old token may have been read)`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return fail('token', `${file} is owned by uid ${st.uid}, not by this user (uid ${uid})`, `chown ${uid} ${file}`);
  const t = readOperatorToken(config);
  if (!t) return warn('token', `${file} holds no valid token`, 'agentvisor token --rotate writes a new one (the server would too, at start)');
  return ok('token', `${file} has mode ${mode(st.mode)}`);
}

export function journalCheck(config: Config, stateUsable: boolean): Check {
  const file = path.join(config.STATE_DIR, 'journal.db');
  const fix = `stop agentvisor, move ${file} aside (mv ${file} ${file}.bad) and start it again: a new journal is created and the sessions in the old one are forgotten`;
  if (!stateUsable && fs.existsSync(config.STATE_DIR)) return warn('journal', 'not checked: STATE_DIR is not usable', 'fix STATE_DIR first');
  if (!fs.existsSync(file)) return ok('journal', 'no journal yet: the server creates it at first start');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here so a failed build is a check result
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (rows.length !== 1 || rows[0].integrity_check !== 'ok') {
        return fail(
          'journal',
          `${file} fails integrity_check: ${rows
            .slice(0, 3)
            .map((r) => r.integrity_check)
            .join('; ')}`,
          fix,
        );
      }
      const sessions = version >= 1 ? (db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n : 0;
      return ok('journal', `${file} passes integrity_check (schema v${version}, ${sessions} sessions)`);
    } finally {
      db.close();
    }
  } catch (err) {
    return fail('journal', `${file} cannot be read: ${firstLine((err as Error).message)}`, fix);
  }
}
