/**
 * Path resolution and sandbox containment for the filesystem tools and for session cwds.
 *
 * Every check is made on realpath'ed paths (the request and the roots alike), so symlinks,
 * `..` segments and bind-mounted aliases cannot smuggle a path out of the allowed roots.
 * Containment is decided by path segments (path.relative), never by string prefix, so a
 * sibling `/ws-evil` is not inside `/ws`.
 *
 * The resolution algorithm is written once, as a generator that yields the filesystem
 * questions it needs answered; a sync driver runs it inside the piscina workers and an
 * async driver runs it on the supervisor's event loop. Workers use the sync driver because
 * async fs calls from a worker still queue on libuv's process-wide threadpool (4 threads by
 * default), where a slow mount would starve the supervisor's own I/O; a sync call blocks only
 * the worker it runs in. The main thread uses the async driver so it never blocks.
 *
 * Session cwds are roots only as the directories recorded at start (AllowedRoot with device +
 * inode), so swapping a cwd for a symlink cannot widen the roots.
 *
 * Known limit: this is a check-then-use design. It holds against any static tree (hostile
 * symlinks included) but not against someone concurrently renaming components of the path
 * between the check and the open; the users close that window after the check: fsTasks for
 * files (O_NOFOLLOW, fstat identity check, /proc/self/fd re-check on Linux), dirWalk for
 * directories (descends by handle).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A root the file tools may read under: a path (WORKSPACE_DIR), or a session cwd with the
 * device + inode recorded when the session started. The latter counts only while its path
 * still resolves, unchanged, to that same directory: a cwd swapped for a symlink to / must
 * not make / a root (#12 item 10).
 */
export type AllowedRoot = string | { path: string; dev: string; ino: string };

export type GuardResult = { ok: true; realPath: string } | { ok: false; error: string };
export type CwdResult = { ok: true; path: string } | { ok: false; error: string };

/** What the resolver asks of the filesystem; answered by a sync or an async driver. */
type FsQuestion = { realpath: string };
type FsAnswer = { ok: true; realPath: string; isDirectory: boolean; dev: string; ino: string } | { ok: false; code: string; message: string };
type Resolver<T> = Generator<FsQuestion, T, FsAnswer>;

const FIX_HINT = "Use a path inside WORKSPACE_DIR or an active session's cwd.";

/** True when `child` is `parent` itself or lies beneath it, judged by whole path segments. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  if (rel === '') return true;
  // `..foo` is a legitimate child name, so only a whole `..` segment means "goes up".
  return rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

/** Rejects inputs that are never valid paths; returns an error message or null. */
export function checkRequestedPath(requested: unknown, what = 'path'): string | null {
  if (typeof requested !== 'string') return `${what} must be a string.`;
  if (requested.length === 0) return `${what} is empty. Give a path relative to WORKSPACE_DIR or an absolute path inside an allowed root.`;
  // The OS would truncate at the NUL, so the checked path and the opened path could differ.
  if (requested.includes('\0')) return `${what} contains a NUL byte, which no file name can contain. Remove it.`;
  return null;
}

/** Turns an fs error code into a one-line message that names the problem, without a stack. */
export function describeFsError(code: string, message: string, shown: string): string {
  switch (code) {
    case 'ENOENT':
      return `no such file or directory: "${shown}". Check the name with list_directory.`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: "${shown}". The supervisor's user cannot access it.`;
    case 'ENOTDIR':
      return `not a directory: a component of "${shown}" is a file, not a directory.`;
    case 'ELOOP':
      return `too many levels of symbolic links while resolving "${shown}" (a symlink loop?).`;
    case 'ENAMETOOLONG':
      return `path too long: "${shown}".`;
    default:
      // fs error messages are single lines such as "EIO: i/o error, open '/x'"; never a stack.
      return `cannot access "${shown}": ${(message.split('\n')[0] ?? code) || code}`;
  }
}

function outsideError(requested: string, realRoots: string[]): string {
  return `path "${requested}" is outside the allowed roots (${realRoots.join(', ')}). ${FIX_HINT}`;
}

/**
 * Realpaths `lexical`; when it (or one of its components) does not resolve, realpaths the
 * longest ancestor that does and appends the remaining segments. Returning the joined path
 * even on failure lets callers check containment before reporting the failure, so error
 * messages never reveal whether something exists outside the roots.
 */
function* realpathOrAncestor(lexical: string): Resolver<{ joined: string; failure: { code: string; message: string } | null; existingIsDir: boolean }> {
  const full = yield { realpath: lexical };
  if (full.ok) return { joined: full.realPath, failure: null, existingIsDir: full.isDirectory };
  const failure = { code: full.code, message: full.message };
  const rest: string[] = [];
  let current = lexical;
  for (;;) {
    const parent = path.dirname(current);
    rest.unshift(path.basename(current));
    if (parent === current) {
      // Even the filesystem root did not resolve; nothing sane to join against.
      return { joined: lexical, failure, existingIsDir: false };
    }
    current = parent;
    const answer = yield { realpath: current };
    if (answer.ok) {
      return { joined: path.join(answer.realPath, ...rest), failure, existingIsDir: answer.isDirectory };
    }
  }
}

function rootPath(root: AllowedRoot): string {
  return typeof root === 'string' ? root : root?.path;
}

/**
 * Realpath of each root, null where it does not resolve (a session cwd deleted under us) or,
 * for a root with a recorded identity, where its path no longer leads to that directory.
 */
function* realRootsOf(roots: AllowedRoot[]): Resolver<(string | null)[]> {
  const real: (string | null)[] = [];
  for (const root of roots) {
    const rooted = rootPath(root);
    if (typeof rooted !== 'string' || checkRequestedPath(rooted) !== null) {
      real.push(null);
      continue;
    }
    const answer = yield { realpath: path.resolve(rooted) };
    if (!answer.ok) real.push(null);
    else if (typeof root === 'string') real.push(answer.realPath);
    else {
      // The recorded path was a realpath; any change on the way to it, or a different directory at its end, drops it.
      const same = answer.isDirectory && answer.realPath === root.path && answer.dev === root.dev && answer.ino === root.ino;
      real.push(same ? answer.realPath : null);
    }
  }
  return real;
}

function* resolveInsideRootsSteps(requested: string, roots: AllowedRoot[]): Resolver<GuardResult> {
  const invalid = checkRequestedPath(requested);
  if (invalid) return { ok: false, error: invalid };
  if (roots.length === 0) return { ok: false, error: 'no allowed roots are configured, so no path can be accessed. Set WORKSPACE_DIR.' };

  const rootsOrNull = yield* realRootsOf(roots);
  const realRoots = rootsOrNull.filter((root): root is string => root !== null);
  let lexical: string;
  if (path.isAbsolute(requested)) {
    lexical = path.normalize(requested);
  } else {
    const workspace = rootsOrNull[0];
    if (!workspace) {
      return {
        ok: false,
        error: `WORKSPACE_DIR "${rootPath(roots[0]!)}" does not exist or is unreadable, so relative path "${requested}" cannot be resolved. Use an absolute path inside an active session's cwd.`,
      };
    }
    lexical = path.resolve(workspace, requested);
  }
  if (realRoots.length === 0) return { ok: false, error: `none of the allowed roots (${roots.map(rootPath).join(', ')}) exist. Create WORKSPACE_DIR.` };

  const { joined, failure } = yield* realpathOrAncestor(lexical);
  if (!realRoots.some((root) => isInside(joined, root))) return { ok: false, error: outsideError(requested, realRoots) };
  if (failure) return { ok: false, error: describeFsError(failure.code, failure.message, requested) };
  return { ok: true, realPath: joined };
}

function* resolveCwdSteps(requested: string, workspaceDir: string): Resolver<CwdResult> {
  const invalid = checkRequestedPath(requested, 'cwd');
  if (invalid) return { ok: false, error: invalid };
  const workspace = yield { realpath: path.resolve(workspaceDir) };
  if (!workspace.ok) return { ok: false, error: `WORKSPACE_DIR "${workspaceDir}" does not exist or is unreadable. Create it first.` };

  const lexical = path.resolve(workspace.realPath, requested);
  const { joined, failure, existingIsDir } = yield* realpathOrAncestor(lexical);
  if (!isInside(joined, workspace.realPath)) {
    return { ok: false, error: `cwd "${requested}" is outside WORKSPACE_DIR (${workspace.realPath}). Use a directory inside it.` };
  }
  if (failure === null) {
    if (!existingIsDir) return { ok: false, error: `cwd "${requested}" exists but is not a directory.` };
    return { ok: true, path: joined };
  }
  // Only "does not exist yet" is fine (the caller creates it); EACCES, ELOOP etc. are real errors.
  if (failure.code !== 'ENOENT') return { ok: false, error: describeFsError(failure.code, failure.message, requested) };
  if (!existingIsDir) return { ok: false, error: `cwd "${requested}" cannot be created: one of its parents is a file, not a directory.` };
  return { ok: true, path: joined };
}

function answerSync(question: FsQuestion): FsAnswer {
  try {
    const realPath = fs.realpathSync.native(question.realpath);
    const st = fs.statSync(realPath, { bigint: true });
    return { ok: true, realPath, isDirectory: st.isDirectory(), dev: st.dev.toString(), ino: st.ino.toString() };
  } catch (err) {
    return failureOf(err);
  }
}

async function answerAsync(question: FsQuestion): Promise<FsAnswer> {
  try {
    const realPath = await fs.promises.realpath(question.realpath);
    const st = await fs.promises.stat(realPath, { bigint: true });
    return { ok: true, realPath, isDirectory: st.isDirectory(), dev: st.dev.toString(), ino: st.ino.toString() };
  } catch (err) {
    return failureOf(err);
  }
}

function failureOf(err: unknown): FsAnswer {
  const e = err as NodeJS.ErrnoException;
  return { ok: false, code: typeof e?.code === 'string' ? e.code : 'EUNKNOWN', message: String(e?.message ?? err) };
}

function runSync<T>(steps: Resolver<T>): T {
  let step = steps.next();
  while (!step.done) step = steps.next(answerSync(step.value));
  return step.value;
}

async function runAsync<T>(steps: Resolver<T>): Promise<T> {
  let step = steps.next();
  while (!step.done) step = steps.next(await answerAsync(step.value));
  return step.value;
}

/**
 * Resolves `requested` (relative to the first root, WORKSPACE_DIR, or absolute) to its
 * realpath and accepts it only if it lies inside one of the realpath'ed `roots`.
 */
export function resolveInsideRoots(requested: string, roots: AllowedRoot[]): Promise<GuardResult> {
  return runAsync(resolveInsideRootsSteps(requested, roots));
}

/** Same as resolveInsideRoots, for worker threads (see the module comment for why sync). */
export function resolveInsideRootsSync(requested: string, roots: AllowedRoot[]): GuardResult {
  return runSync(resolveInsideRootsSteps(requested, roots));
}

/**
 * Validates a session cwd, which may not exist yet: realpaths the longest existing ancestor,
 * appends the missing segments, and refuses anything outside WORKSPACE_DIR. Returns the final
 * absolute path; it does not create it.
 */
export function resolveCwd(requested: string, workspaceDir: string): Promise<CwdResult> {
  return runAsync(resolveCwdSteps(requested, workspaceDir));
}
