/**
 * Fallback double-fork where util-linux `setsid` is missing: start the worker
 * detached (new session, stdio and the ready pipe passed through), then exit,
 * so the worker is re-parented to init and is no descendant of the supervisor.
 */
import { spawn } from 'node:child_process';

const [node, ...args] = process.argv.slice(2);
const child = spawn(node, args, { detached: true, stdio: ['ignore', 'ignore', 2, 3] });
child.unref();
process.exit(0);
