/**
 * `agentvisor token`: the client configuration with the current token, or
 * `--rotate` to replace the token — through the running server when there is
 * one, so it switches at once and the old token is refused from then on.
 */
import fs from 'node:fs';
import { clientConfigText } from '../supervisor/clientConfig';
import type { Config } from '../supervisor/config';
import { tokenFile, writeNewToken } from '../supervisor/token';
import { CliError, addSecret, note, operatorConfig, out, parseCommand, readOperatorToken } from './common';
import { printJson } from './format';
import { adminPost, findServer, health } from './server';

export const USAGE = `usage: agentvisor token [--rotate] [--json]

Prints the MCP client configuration with the current token (AUTH_TOKEN, else
STATE_DIR/token), for pasting into a client. This is the one command that prints
the token.

options:
  --rotate   replace STATE_DIR/token with a new random token; a running server
             switches to it at once and refuses the old one from then on.
             Refused when AUTH_TOKEN is set (change it where it is set instead)
  --json     {"url", "sseUrl", "mcpUrl", "token", "source"} instead of text
`;

function configuredUrl(config: Config): string {
  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST === '::' ? '::1' : config.HOST;
  const port = config.PORT === 0 ? '<port>' : String(config.PORT);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { rotate: { type: 'boolean' }, json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const config = operatorConfig();
  const server = await findServer(config.STATE_DIR);
  const url = server ? server.url : configuredUrl(config);
  if (!server) note(`the server is not running; the configuration assumes it will listen on ${url}`);

  let token: string;
  let source: string;
  if (args.values.rotate) {
    if (config.AUTH_TOKEN) {
      throw new CliError(
        'AUTH_TOKEN is set (in the environment or .env), so the token is whatever AUTH_TOKEN says: ' +
          'change AUTH_TOKEN where the server gets it and restart the server; --rotate only replaces STATE_DIR/token',
      );
    }
    if (server) {
      await adminPost(config, server, 'token/rotate');
      token = fs.readFileSync(tokenFile(config.STATE_DIR), 'utf8').trim();
      addSecret(token);
      const detail = await health(server.connectUrl, token);
      if (!detail || detail.version === undefined) throw new CliError('the server rotated its token but does not accept the new one from STATE_DIR/token; restart it');
    } else {
      fs.mkdirSync(config.STATE_DIR, { recursive: true, mode: 0o700 });
      token = writeNewToken(config.STATE_DIR);
      addSecret(token);
    }
    source = 'token file';
  } else {
    const current = readOperatorToken(config);
    if (!current) {
      throw new CliError(`no token yet: start the server (agentvisor serve) to create ${tokenFile(config.STATE_DIR)}, or run agentvisor token --rotate`);
    }
    ({ token, source } = current);
  }

  if (args.values.json) return printJson({ url, sseUrl: `${url}/sse`, mcpUrl: `${url}/mcp`, token, source });
  if (args.values.rotate) {
    out(`The auth token was replaced${server ? ' and the running server uses it now' : ''}: clients with the old token are refused until reconfigured.\n`);
  }
  out(clientConfigText(url, token, false) + '\n');
}
