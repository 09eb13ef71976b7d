/**
 * `agentvisor ui`: where the dashboard is. It prints the URL only: the page asks
 * for the token itself (`agentvisor token` shows it), so the token never sits in
 * a URL, a browser history or a shell's scrollback of this command.
 */
import { operatorConfig, out, parseCommand } from './common';
import { printJson } from './format';
import { requireServer } from './server';

export const USAGE = `usage: agentvisor ui [--json]

Prints the URL of the running server's web dashboard. Open it in a browser and
paste the token (agentvisor token prints it) once: the page trades it for a
cookie. Over a TLS proxy, add its name to ALLOWED_HOSTS and its origin to
ALLOWED_ORIGINS.

options:
  --json   {"url"} instead of text
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommand(argv, USAGE, { json: { type: 'boolean' } }, { min: 0, max: 0 });
  if (!args) return;
  const server = await requireServer(operatorConfig());
  const url = `${server.connectUrl}/ui`;
  if (args.values.json) return printJson({ url });
  out(`${url}\n`);
}
