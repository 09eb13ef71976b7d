/**
 * What every operator command shares: errors that become one line and an exit
 * code, argument parsing with `--help`, the configuration (the same variables and
 * `.env` as `serve`), and the operator's token — which is scrubbed from anything
 * the CLI prints except `agentvisor token`'s own output.
 */
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../supervisor/config';
import { tokenFile } from '../supervisor/token';
import { scrub as scrubSecrets } from '../shared/scrub';
import { terminalText } from '../shared/sanitize';

import { VERSION } from '../shared/packageInfo';

export { VERSION };

/** A failure the operator can act on: printed as one line, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Exit code of a command line the CLI could not understand. */
export const USAGE_EXIT = 2;

const secrets = new Set<string>();

/** Registers a value that must never appear in an error or note the CLI prints. */
export function addSecret(value: string | undefined): void {
  if (value && value.length >= 8) secrets.add(value);
}

export function scrub(text: string): string {
  return scrubSecrets(text, [...secrets]) as string;
}

/** A line on stderr for a person (notes, warnings), scrubbed like errors. */
export function note(text: string): void {
  process.stderr.write(terminalText(`agentvisor: ${scrub(text)}`) + '\n');
}

/**
 * Everything the CLI prints on stdout goes through here (JSON through format.ts's printJson):
 * it shows agent output and journal fields (task, cwd, errors) that an agent or a client wrote,
 * and no control character of theirs may reach the operator's terminal.
 */
export function out(text: string): void {
  process.stdout.write(terminalText(text));
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses a command's arguments. `--help`/`-h` prints the usage and returns null;
 * an unknown option or a wrong number of positionals is a usage error (exit 2).
 */
export function parseCommand(argv: string[], usage: string, options: Options, positionals: { min: number; max: number }): Parsed | null {
  // "usage: agentvisor logs <id> …" → "agentvisor logs --help", for the one-line errors below.
  const help = `${/^usage: (agentvisor \S+)/.exec(usage)?.[1] ?? 'agentvisor'} --help`;
  const usageError = (why: string) => new CliError(`${why} (see ${help})`, USAGE_EXIT);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const m = /'(-[^']*)'/.exec(e.message);
    throw usageError(
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && m ? `unknown option ${m[1]}` : e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && m ? `option ${m[1]} needs a value` : e.message.split('\n')[0],
    );
  }
  if (parsed.values.help) {
    out(usage);
    return null;
  }
  const { positionals: pos } = parsed;
  if (pos.length < positionals.min) throw usageError('missing argument');
  if (pos.length > positionals.max) throw usageError(`unexpected argument "${pos[positionals.max]}"`);
  return { values: parsed.values as Parsed['values'], positionals: pos };
}

/** A non-negative integer option, or a usage error naming it. */
export function intOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined || typeof value === 'boolean') return fallback;
  if (!/^\d+$/.test(value)) throw new CliError(`--${name} takes a whole number ≥ 0 (got "${value}")`, USAGE_EXIT);
  return Number(value);
}

/** The configuration `serve` would use here: same variables, same `.env`. */
export function operatorConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    const config = loadConfig(env);
    addSecret(config.AUTH_TOKEN);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`${err.message} (the same variables configure serve; see agentvisor serve --help)`);
    throw err;
  }
}

export interface OperatorToken {
  token: string;
  source: 'AUTH_TOKEN' | 'token file';
}

/** The token the server accepts: AUTH_TOKEN if set, else STATE_DIR/token; null if there is none yet. */
export function readOperatorToken(config: Config): OperatorToken | null {
  if (config.AUTH_TOKEN) return { token: config.AUTH_TOKEN, source: 'AUTH_TOKEN' };
  try {
    const token = fs.readFileSync(tokenFile(config.STATE_DIR), 'utf8').trim();
    if (token.length >= 16) {
      addSecret(token);
      return { token, source: 'token file' };
    }
  } catch {
    // no token file yet
  }
  return null;
}

export function requireOperatorToken(config: Config): OperatorToken {
  const t = readOperatorToken(config);
  if (!t) {
    throw new CliError(`no token: set AUTH_TOKEN, or start the server once so that it creates ${tokenFile(config.STATE_DIR)}`);
  }
  return t;
}
