/**
 * Puts the worker in the session's cwd *by handle* before any agent starts (#12 item 9).
 *
 * The supervisor checked the cwd and recorded its device + inode. Spawning the agent with
 * `cwd: <path>` would make the child look the path up again just before exec, so a directory
 * swapped for a symlink to / in between sent the agent to /. Instead the worker opens the
 * path once (O_DIRECTORY|O_NOFOLLOW), checks that the opened directory is the recorded one
 * and is still named by that path, and chdirs into the open directory itself
 * (/proc/self/fd/N). From then on the worker's cwd is that directory, held by the kernel,
 * whatever happens to the path; agents inherit it (agentProcess passes no path to chdir to),
 * so every run of the session, resumed turns included, starts exactly there.
 *
 * Node has no fchdir; chdir through /proc/self/fd/N is the same thing on Linux. Without /proc
 * the worker chdirs by path and then compares '.' with the opened directory, which still
 * refuses a swap that happened before the chdir.
 */
import fs from 'node:fs';
import { CWD_REFUSED_PREFIX, type DirIdentity, HAS_FD_PATHS, fdPath, identityOf, openDirNoFollow, openedPath, sameIdentity } from '../shared/dirHandle';

let entered: { cwd: string; identity: DirIdentity } | null = null;

/** Makes the worker's cwd the checked directory; throws an Error that says why it cannot. */
export function enterAgentCwd(cwd: string, expected: DirIdentity | null): void {
  // Already standing in it: the kernel holds the directory, later path games cannot move us.
  if (entered && entered.cwd === cwd && (!expected || sameIdentity(entered.identity, expected))) return;
  const opened = openDirNoFollow(cwd, expected);
  if (!opened.ok) {
    if (opened.code === 'ENOENT') throw new Error(`cwd ${cwd} no longer exists`);
    if (['ELOOP', 'ENOTDIR', 'EXDEV'].includes(opened.code)) throw new Error(replacedMessage(cwd));
    throw new Error(`cannot open cwd ${cwd}: ${opened.message}`);
  }
  try {
    const actual = openedPath(opened.fd);
    // A component above the cwd swapped for a symlink leads the open somewhere else.
    if (actual !== null && actual !== cwd) throw new Error(replacedMessage(cwd));
    process.chdir(HAS_FD_PATHS ? fdPath(opened.fd) : cwd);
    if (!sameIdentity(identityOf(fs.statSync('.', { bigint: true })), opened.identity)) throw new Error(replacedMessage(cwd));
    entered = { cwd, identity: opened.identity };
  } finally {
    fs.closeSync(opened.fd);
  }
}

/**
 * The worker's first step: stand in the checked cwd before saying it is ready, or exit saying
 * why, so the supervisor's start fails with that reason before any agent exists.
 */
export function enterCwdOrExit(cwd: string, expected: DirIdentity | null): void {
  try {
    enterAgentCwd(cwd, expected);
  } catch (err) {
    process.stderr.write(`${CWD_REFUSED_PREFIX}${(err as Error).message}\n`);
    process.exit(2);
  }
}

function replacedMessage(cwd: string): string {
  return `cwd ${cwd} was replaced (by a symbolic link or another directory) after it was checked; refusing to start the agent anywhere else`;
}
