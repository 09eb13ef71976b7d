/**
 * `agentvisor stdio` (issue 19 item 5b): an MCP server on stdin/stdout for clients that only launch
 * local commands (Claude Desktop, a client's `command` entry). It holds no tools and no sessions: it
 * relays each JSON-RPC message between the client (the SDK's StdioServerTransport) and the running
 * supervisor (the SDK's Streamable HTTP client transport with the operator's token), started here
 * if none runs. Sessions belong to the supervisor, so they outlive this process and its client.
 * stdout carries MCP only; every note goes to stderr.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { note, operatorConfig, parseCommand, requireOperatorToken } from './common';
import { findOrStartServer } from './serverStart';

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

/** JSON-RPC "internal error": the relay could not get the request to the server or its answer back. */
const RELAY_ERROR = -32603;

function requestId(m: JSONRPCMessage): string | number | undefined {
  return 'method' in m && 'id' in m ? m.id : undefined;
}

export async function run(argv: string[]): Promise<void> {
  if (!parseCommand(argv, USAGE, {}, { min: 0, max: 0 })) return;
  const config = operatorConfig();
  const server = await findOrStartServer(config);
  const { token } = requireOperatorToken(config);
  const upstream = new StreamableHTTPClientTransport(new URL(`${server.connectUrl}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const downstream = new StdioServerTransport();
  await relay(downstream, upstream);
}

/** Relays until either side closes; resolves once both are closed. */
function relay(downstream: StdioServerTransport, upstream: StreamableHTTPClientTransport): Promise<void> {
  return new Promise<void>((resolve) => {
    let closing = false;
    let initializeId: string | number | undefined;
    const close = async (why: string) => {
      if (closing) return;
      closing = true;
      note(`stdio: ${why}; sessions keep running in the server`);
      // Frees the server's connection slot now rather than at its idle timeout; a server already gone is fine.
      await upstream.terminateSession().catch(() => undefined);
      await upstream.close().catch(() => undefined);
      await downstream.close().catch(() => undefined);
      resolve();
    };

    downstream.onmessage = (message) => {
      const id = requestId(message);
      if ('method' in message && message.method === 'initialize') initializeId = id;
      upstream.send(message).catch((err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        note(`stdio: could not relay ${'method' in message ? message.method : 'a message'} to the server: ${why}`);
        // A request must be answered, or the client waits for ever; a notification has no answer.
        if (id !== undefined && !closing) {
          void downstream.send({ jsonrpc: '2.0', id, error: { code: RELAY_ERROR, message: `agentvisor stdio could not reach the server: ${why}` } }).catch(() => undefined);
        }
      });
    };
    upstream.onmessage = (message) => {
      // The client transport sends the negotiated version on later requests, as the SDK's Client would tell it.
      if (initializeId !== undefined && 'id' in message && message.id === initializeId && 'result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') upstream.setProtocolVersion(version);
      }
      downstream.send(message).catch((err: unknown) => note(`stdio: could not write to the client: ${(err as Error).message}`));
    };
    upstream.onerror = (err) => note(`stdio: server connection: ${err.message}`);
    downstream.onerror = (err) => note(`stdio: client connection: ${err.message}`);
    upstream.onclose = () => void close('the server connection closed');
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
