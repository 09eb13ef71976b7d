/**
 * Every tool's arguments are checked by its zod schema before anything runs:
 * wrong types, null, arrays, missing and extra fields, out-of-range and
 * fractional numbers, oversized strings, malformed and unknown session ids,
 * non-object `arguments`, unknown tool names. Each is a clear error naming the
 * field (and, for limits, what is allowed), and the server and a session
 * running throughout keep working. The per-field cases are generated from
 * each tool's advertised input schema, so a new tool or field is covered too.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type RunningServer, call, callError, connect, until } from '../helpers/server';
import { RawMcp, errorText, expectNormalSession, finish, startSecurityServer } from './support';

let server: RunningServer;
let client: Client;
let mcp: RawMcp;
let running: string;
let tools: Array<{ name: string; inputSchema: any }>;

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  server = await startSecurityServer();
  client = await connect(server, 'sse');
  mcp = await RawMcp.open(server);
  tools = (await client.listTools()).tools as any;
  // A session that must keep running through all of it.
  running = (await call(client, 'session_start', { agent: 'codex', cwd: 'survivor', task: 'echo-input' })).sessionId;
});

afterAll(async () => {
  await mcp?.close();
  await finish(server, [client]);
});

/** A valid value for a field, by name and schema: the base every single-field mutation starts from. */
function validValue(field: string, schema: any): unknown {
  if (field === 'sessionId') return UNKNOWN_ID;
  if (field === 'agent') return 'codex';
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'string':
      return field === 'path' ? 'x.txt' : field === 'cwd' ? 'validation' : 'x';
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return 'x';
  }
}

/** Values a field of this schema must refuse. */
function invalidValues(schema: any): Array<[string, unknown]> {
  const common: Array<[string, unknown]> = [
    ['null', null],
    ['an array', ['x']],
    ['an object', { x: 1 }],
  ];
  if (schema.enum) return [...common, ['an unknown option', 'bash -c id'], ['a number', 1], ['an option in other case', String(schema.enum[0]).toUpperCase()]];
  switch (schema.type) {
    case 'string': {
      const out: Array<[string, unknown]> = [...common, ['a number', 42], ['a boolean', true]];
      if (schema.maxLength !== undefined) out.push(['one character over maxLength', 'a'.repeat(schema.maxLength + 1)]);
      if (schema.minLength) out.push(['an empty string', '']);
      return out;
    }
    case 'integer':
    case 'number': {
      const out: Array<[string, unknown]> = [...common, ['a numeric string', '1'], ['a boolean', true]];
      if (schema.type === 'integer') out.push(['a fraction', 1.5]);
      if (schema.minimum !== undefined) out.push(['below the minimum', schema.minimum - 1]);
      if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) out.push(['above the maximum', schema.maximum + 1]);
      out.push(['1e308', 1e308], ['negative', -1e9]);
      return out;
    }
    case 'boolean':
      return [...common, ['a string', 'true'], ['a number', 1]];
    case 'object':
      return [
        ['null', null],
        ['an array', ['x']],
        ['a string', 'x'],
      ];
    case 'array':
      return [
        ['null', null],
        ['an object', { x: 1 }],
        ['a string', 'x'],
      ];
    default:
      return [];
  }
}

function baseArgs(tool: { inputSchema: any }): Record<string, unknown> {
  const props = tool.inputSchema.properties ?? {};
  const args: Record<string, unknown> = {};
  for (const f of tool.inputSchema.required ?? []) args[f] = validValue(f, props[f] ?? {});
  return args;
}

const counts = { perField: 0, missing: 0, extra: 0, shape: 0, ids: 0, names: 0 };

test('every tool advertises a strict schema', () => {
  expect(tools.length).toBeGreaterThanOrEqual(8);
  for (const t of tools) {
    expect({ tool: t.name, type: t.inputSchema.type }).toEqual({ tool: t.name, type: 'object' });
    expect({ tool: t.name, additionalProperties: t.inputSchema.additionalProperties }).toEqual({ tool: t.name, additionalProperties: false });
  }
});

test('every field of every tool refuses wrong types and out-of-range values, naming the field', async () => {
  for (const tool of tools) {
    const props: Record<string, any> = tool.inputSchema.properties ?? {};
    for (const [field, schema] of Object.entries(props)) {
      for (const [what, value] of invalidValues(schema)) {
        const err = await callError(client, tool.name, { ...baseArgs(tool), [field]: value });
        expect({ tool: tool.name, field, what, namesField: err.includes(field) }).toEqual({ tool: tool.name, field, what, namesField: true });
        expect(err).not.toMatch(/at .*\.(js|ts):\d+/); // no stack trace
        counts.perField++;
      }
    }
  }
  expect(counts.perField).toBeGreaterThan(100);
});

test('missing required fields and extra fields are refused, naming them', async () => {
  for (const tool of tools) {
    for (const field of tool.inputSchema.required ?? []) {
      const args = baseArgs(tool);
      delete args[field];
      const err = await callError(client, tool.name, args);
      expect({ tool: tool.name, field, namesField: err.includes(field) }).toEqual({ tool: tool.name, field, namesField: true });
      counts.missing++;
    }
    for (const extra of ['__evil', 'constructor', 'toString', 'AUTH_TOKEN', '']) {
      const err = await callError(client, tool.name, { ...baseArgs(tool), [extra]: 1 });
      expect({ tool: tool.name, extra, refused: /Unrecognized key/.test(err) }).toEqual({ tool: tool.name, extra, refused: true });
      counts.extra++;
    }
  }
});

test('arguments that are not an object at all are refused as invalid params', async () => {
  for (const tool of tools) {
    for (const args of [null, [], ['x'], 'x', 42, true]) {
      const reply = await mcp.callTool(tool.name, args);
      const err = errorText(reply);
      expect({ tool: tool.name, args, refused: err !== null && /arguments/.test(err) && /record|object/.test(err) }).toEqual({
        tool: tool.name,
        args,
        refused: true,
      });
      counts.shape++;
    }
  }
});

test('documented limits are enforced with the limit in the message', async () => {
  const limits: Array<[string, Record<string, unknown>, RegExp]> = [
    ['session_start', { agent: 'codex', cwd: 'v', task: 'a'.repeat(100_001) }, /task must be at most 100000 characters/],
    ['session_start', { agent: 'codex', cwd: 'c'.repeat(4_097), task: 'x' }, /cwd/],
    ['session_start', { agent: 'codex', cwd: 'v', task: '' }, /task must not be empty/],
    ['session_start', { agent: 'rm -rf /', cwd: 'v', task: 'x' }, /agent.*claude-code.*codex|claude-code.*codex.*agent/s],
    ['session_send', { sessionId: running, message: 'm'.repeat(100_001) }, /message must be at most 100000 characters/],
    ['session_send', { sessionId: running, message: '' }, /message must not be empty/],
    ['session_output', { sessionId: running, since: -1 }, /since must be 0 or more/],
    ['session_output', { sessionId: running, since: 0.5 }, /since must be a whole number/],
    ['session_output', { sessionId: running, since: 2 ** 53 + 2 }, /since/],
    ['session_output', { sessionId: running, limit: 0 }, /limit must be at least 1/],
    ['session_output', { sessionId: running, limit: 10_001 }, /limit must be at most 10000/],
    ['session_output', { sessionId: running, maxBytes: 999 }, /maxBytes must be at least 1000/],
    ['session_output', { sessionId: running, maxBytes: 1_000_001 }, /maxBytes must be at most 1000000/],
    ['session_wait', { sessionId: running, timeoutMs: -1 }, /timeoutMs must be 0 or more/],
    ['session_wait', { sessionId: running, timeoutMs: 3_600_001 }, /timeoutMs must be at most 3600000/],
    ['session_wait', { sessionId: running, timeoutMs: 0.5 }, /timeoutMs/],
    ['read_file', { path: 'x', offset: -1 }, /offset must be 0 or more/],
    ['read_file', { path: 'x', offset: 1.5 }, /offset/],
    ['read_file', { path: 'x', offset: 2 ** 53 }, /offset/],
    ['read_file', { path: 'x', maxLines: 0 }, /maxLines must be at least 1/],
    ['read_file', { path: 'x', maxLines: 10_001 }, /maxLines must be at most 10000/],
    ['read_file', { path: 'x', maxBytes: 999 }, /maxBytes must be at least 1000/],
    ['read_file', { path: 'p'.repeat(4_097) }, /path/],
    ['list_directory', { path: '' }, /path must not be empty/],
    ['list_directory', { path: '.', recursive: 'yes' }, /recursive/],
  ];
  for (const [tool, args, why] of limits) {
    const err = await callError(client, tool, args);
    expect({ tool, args: JSON.stringify(args).slice(0, 80), ok: why.test(err) }).toEqual({ tool, args: JSON.stringify(args).slice(0, 80), ok: true });
  }
});

test('malformed session ids are refused by format; well-formed unknown ones by lookup', async () => {
  const malformed = [
    'x',
    '',
    'null',
    'ABCDEF00-0000-4000-8000-00000000000A',
    `${UNKNOWN_ID}0`,
    ` ${UNKNOWN_ID}`,
    '../../journal.db',
    "' OR 1=1 --",
    '00000000-0000-4000-8000-00000000000g',
    `${running}\u0000`,
    `${running}\n`,
  ];
  for (const tool of ['session_send', 'session_output', 'session_wait', 'session_kill']) {
    const extra = tool === 'session_send' ? { message: 'x' } : tool === 'session_wait' ? { timeoutMs: 0 } : {};
    for (const sessionId of malformed) {
      const err = await callError(client, tool, { sessionId, ...extra });
      expect({ tool, sessionId, ok: /sessionId must be a session id/.test(err) }).toEqual({ tool, sessionId, ok: true });
      counts.ids++;
    }
    const err = await callError(client, tool, { sessionId: UNKNOWN_ID, ...extra });
    expect(err).toMatch(/unknown sessionId .*session_list/);
    counts.ids++;
  }
});

test('unknown tool names, including prototype names, are refused', async () => {
  for (const name of ['nope', '', 'session_start ', 'SESSION_START', '../session_start', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'x'.repeat(10_000)]) {
    const reply = await mcp.callTool(name, {});
    const err = errorText(reply);
    expect({ name: name.slice(0, 40), refused: err !== null && /not found|disabled/.test(err) }).toEqual({ name: name.slice(0, 40), refused: true });
    counts.names++;
  }
});

test('the running session and the server survived every refusal', async () => {
  expect(counts.perField + counts.missing + counts.extra + counts.shape + counts.ids + counts.names).toBeGreaterThan(300);
  const sent = await call(client, 'session_send', { sessionId: running, message: 'still here\r', raw: true });
  expect(sent.delivered).toBe(true);
  await until(async () => (await call(client, 'session_output', { sessionId: running, since: 0 })).lines.includes('got: still here'), 5_000, 'the echo');
  expect((await call(client, 'session_list')).sessions.find((s: any) => s.sessionId === running).status).toBe('running');
  // Only the survivor was ever started: no refused call created a session.
  expect((await call(client, 'session_list')).sessions).toHaveLength(1);
  await call(client, 'session_kill', { sessionId: running });
  await expectNormalSession(client);
});
