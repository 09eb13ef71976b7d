/**
 * `agentvisor stdio` (issue 19 item 5b): an MCP server on stdin/stdout for clients that only launch
 * local commands (Claude Desktop, a client's `command` entry). It holds no tools and no sessions: it
 * relays each JSON-RPC message between the client (the SDK's StdioServerTransport) and the running
 * supervisor (the SDK's Streamable HTTP client transport with the operator's token), started here
 * if none runs. Sessions belong to the supervisor, so they outlive this process and its client.
 * stdout carries MCP only; every note goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { note, operatorConfig, parseCommand } from './common';
import { findOrStartServer } from './serverStart';
import { RELAY_ERROR, Upstream } from './stdioUpstream';

export const USAGE = `usage: agentvisor stdio

An MCP server on stdin/stdout, backed by the running agentvisor server of this
STATE_DIR (started in the background if none runs, with this environment and
working directory: set WORKSPACE_DIR in the client's entry). Every message is
relayed to the server's /mcp with the operator's token (AUTH_TOKEN, else
STATE_DIR/token), so sessions keep running when the client goes away.

Example entry (Claude Desktop, claude --mcp-config):
  {"mcpServers": {"agentvisor": {"command": "agentvisor", "args": ["stdio"],
    "env": {"WORKSPACE_DIR": "/home/me/code"}}}}
`;

function requestId(m: JSONRPCMessage): string | number | undefined {
  return 'method' in m && 'id' in m ? m.id : undefined;
}

export async function run(argv: string[]): Promise<void> {
  if (!parseCommand(argv, USAGE, {}, { min: 0, max: 0 })) return;
  const config = operatorConfig();
  const server = await findOrStartServer(config);
  const downstream = new StdioServerTransport();
  const toClient = (m: JSONRPCMessage) => downstream.send(m).catch((err: unknown) => note(`stdio: could not write to the client: ${(err as Error).message}`));
  await relay(downstream, new Upstream(config, server, (m) => void toClient(m)), toClient);
}

/** Relays until the client goes; resolves once both sides are closed. */
function relay(downstream: StdioServerTransport, upstream: Upstream, toClient: (m: JSONRPCMessage) => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let closing = false;
    const close = async (why: string) => {
      if (closing) return;
      closing = true;
      note(`stdio: ${why}; sessions keep running in the server`);
      await upstream.close();
      await downstream.close().catch(() => undefined);
      resolve();
    };

    downstream.onmessage = (message) => {
      upstream.send(message).catch((err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        note(`stdio: could not relay ${'method' in message ? message.method : 'a message'} to the server: ${why}`);
        // A request must be answered, or the client waits for ever; a notification has no answer.
        const id = requestId(message);
        if (id !== undefined && !closing) void toClient({ jsonrpc: '2.0', id, error: { code: RELAY_ERROR, message: `agentvisor stdio could not reach the server: ${why}` } });
      });
    };
    downstream.onerror = (err) => note(`stdio: client connection: ${err.message}`);
    downstream.onclose = () => void close('the client closed stdin');
    // StdioServerTransport reads stdin but does not watch for its end: the client going away is EOF.
    process.stdin.once('end', () => void close('the client closed stdin'));

    upstream
      .start()
      .then(() => downstream.start())
      .catch((err: unknown) => {
        note(`stdio: ${(err as Error).message}`);
        void close('could not start');
      });
  }).then(() => {
    // stdin may hold the event loop open after close; nothing is left to do.
    process.stdin.destroy();
  });
}
