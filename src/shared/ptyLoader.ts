/**
 * node-pty, an optional dependency (issue 19 item 3), loaded here and nowhere else. It is a native
 * module that fails to build on some hosts; only `codex exec` needs a terminal, so without it
 * agentvisor still runs Claude, and Codex over app-server (pipes). Loaded on first use, once: the
 * worker when it starts a terminal, the supervisor when a session would need one, doctor.
 */
import type * as NodePty from 'node-pty';

export type PtyModule = typeof NodePty;
export type PtyLoad = { ok: true; pty: PtyModule } | { ok: false; error: string };

/** How to get it, for refusals and doctor. */
export const PTY_FIX =
  'install node-pty in the agentvisor directory (npm install node-pty; it builds with python3, make and a C++ compiler), or run Codex over app-server (CODEX_PROTOCOL=auto or app-server), which needs no terminal';

let loaded: PtyLoad | undefined;

export function loadPty(): PtyLoad {
  if (!loaded) {
    try {
      // require, not import: an import would make every process that loads this file fail without it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the one place node-pty is loaded, lazily
      loaded = { ok: true, pty: require('node-pty') as PtyModule };
    } catch (err) {
      const first = (err as Error).message.split('\n').find((l) => l.trim()) ?? String(err);
      loaded = { ok: false, error: `node-pty does not load (${first.trim().slice(0, 200)})` };
    }
  }
  return loaded;
}

/** The refusal for something that needs a terminal, or null when node-pty loads. */
export function ptyRefusal(what: string): string | null {
  const p = loadPty();
  return p.ok ? null : `${what} needs a terminal, but ${p.error}: ${PTY_FIX}.`;
}
