/**
 * A scripted, offline stand-in for the model APIs that the real `claude` (Claude Code 2.1.x) and
 * `codex` (0.169) CLIs talk to, so tests can run the real binaries with no network and a
 * deterministic "model".
 *
 * One server speaks both wire formats:
 * - Anthropic Messages API (`POST /v1/messages?beta=true`, SSE) for claude, via
 *   ANTHROPIC_BASE_URL (see claudeEnv()).
 * - OpenAI Responses API (`POST /v1/responses`, SSE) for codex, via a custom model provider
 *   passed with `-c` (see codexArgs()); codex 0.169 ignores OPENAI_BASE_URL.
 *
 * Each *main* request (one that offers the agent's tools) consumes the next ScriptTurn, in arrival
 * order (a sub-agent's requests would interleave). Side requests get a canned answer and never
 * consume the script: claude sends one `HEAD /` reachability probe per process; tool-less messages
 * (title generation, summaries) and count_tokens are handled too although neither
 * `claude --print` nor `codex exec` sent any when probed. When the script runs out the server
 * answers "done" so nothing hangs.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

export interface ToolCall {
  /** Tool name exactly as the CLI offers it: claude `Write`/`Bash`/…, codex `exec_command`/… */
  name: string;
  /** Tool arguments. A string is passed verbatim to codex "custom" (freeform) tools. */
  input: Record<string, unknown> | string;
}

export interface ScriptTurn {
  /** Assistant text (sent before any tool calls). A turn with neither text nor tools sends "ok". */
  text?: string;
  /** Tool calls the "model" makes; the CLI runs them and posts the results in its next request. */
  toolCalls?: ToolCall[];
  /** Wait this long before answering: lets a test observe or interrupt an agent mid-turn. */
  delayMs?: number;
  /** Fail this request with this HTTP status instead (e.g. 401 to simulate a bad key / not logged in). */
  httpStatus?: number;
  /** Error message for httpStatus (default "scripted error"). */
  error?: string;
  /**
   * Answer this many consecutive main requests with this turn (default 1; Infinity = for good).
   * Both CLIs retry failed requests, a 401 included (claude up to 10 times with backoff, codex 5
   * times), so a persistent failure like a bad key needs the turn to stick; also lower the retries
   * (claudeEnv extra CLAUDE_CODE_MAX_RETRIES=0, codexArgs maxRetries: 0) to fail fast.
   */
  times?: number;
  /** Tokens this response reports (default DEFAULT_USAGE): e.g. many, to push a session past its budget. */
  usage?: { inputTokens: number; outputTokens: number };
}

/** What each response reports unless its turn says otherwise. */
export const DEFAULT_USAGE = { inputTokens: 10, outputTokens: 5 } as const;

export type Api = 'anthropic' | 'openai';

export interface RecordedRequest {
  api: Api;
  method: string;
  /** Path including the query string, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (undefined when there was none or it was not JSON). */
  body: any;
  /** True when the request consumed a script turn (it offered tools). */
  isMain: boolean;
  /** The turn it was answered with (main requests only; the "done" fallback when exhausted). */
  turn?: ScriptTurn;
}

export interface ModelServerOptions {
  /** Text used for side requests and for main requests after the script is exhausted. */
  fallbackText?: string;
}

/** Text of the reply once the script is exhausted (exported so tests can assert on it). */
export const DONE_TEXT = 'done';

export class ModelServer {
  /** Main requests, in arrival order: what the agent sent back (tool results, follow-ups, history). */
  readonly requests: RecordedRequest[] = [];
  /** Everything else (HEAD probes, title/quota/count_tokens requests, unknown paths). */
  readonly sideRequests: RecordedRequest[] = [];
  readonly url: string;

  private readonly script: ScriptTurn[];
  private readonly fallbackText: string;
  private seq = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: http.Server,
    script: ScriptTurn[],
    opts: ModelServerOptions,
  ) {
    this.script = [...script];
    this.fallbackText = opts.fallbackText ?? DONE_TEXT;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Listen on an ephemeral loopback port (never anything but 127.0.0.1). */
  static async start(script: ScriptTurn[] = [], opts: ModelServerOptions = {}): Promise<ModelServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const ms = new ModelServer(server, script, opts);
    server.on('request', (req, res) => {
      ms.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err) } }));
      });
    });
    return ms;
  }

  /** Append turns to the script (e.g. after seeing what the agent did so far). */
  push(...turns: ScriptTurn[]): void {
    this.script.push(...turns);
  }

  /** Turns not consumed yet. */
  get remaining(): number {
    return this.script.length;
  }

  /** Tokens the answered main requests reported, added up: what an agent's usage should come to. */
  reportedUsage(): { inputTokens: number; outputTokens: number } {
    const sum = { inputTokens: 0, outputTokens: 0 };
    for (const r of this.requests) {
      if (r.turn?.httpStatus) continue;
      const u = r.turn?.usage ?? DEFAULT_USAGE;
      sum.inputTokens += u.inputTokens;
      sum.outputTokens += u.outputTokens;
    }
    return sum;
  }

  /** Resolves once at least `n` main requests have arrived (a test's sync point). */
  waitForRequests(n: number, timeoutMs = 30_000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} main requests (have ${this.requests.length})`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  /** Scripted delays still running; close() clears them so an abandoned request holds nothing open. */
  private readonly delays = new Set<NodeJS.Timeout>();

  async close(): Promise<void> {
    for (const t of this.delays) clearTimeout(t);
    this.delays.clear();
    // The CLIs keep connections alive; drop them so close() does not wait for their idle timeout.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: any;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }
    const path = req.url ?? '/';
    const api: Api = path.startsWith('/v1/responses') ? 'openai' : 'anthropic';
    const rec: RecordedRequest = { api, method: req.method ?? 'GET', path, headers: req.headers, body, isMain: false };

    const isMessages = req.method === 'POST' && /^\/v1\/messages(\?|$)/.test(path);
    const isResponses = req.method === 'POST' && /^\/v1\/responses(\?|$)/.test(path);
    // The agent loop always offers tools; side requests (title, quota check, summaries) don't.
    rec.isMain = (isMessages && hasAnthropicTools(body)) || (isResponses && findOpenAiTools(body).length > 0);

    if (!rec.isMain) {
      this.sideRequests.push(rec);
      if (isMessages) return this.sendAnthropic(res, body, { text: this.fallbackText });
      if (isResponses) return this.sendOpenAi(res, body, { text: this.fallbackText });
      if (req.method === 'POST' && path.startsWith('/v1/messages/count_tokens')) {
        return sendJson(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
      }
      // `HEAD /` (claude's connectivity probe) and anything unknown: an empty 200.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : '{}');
      return;
    }

    const head = this.script[0];
    const turn = head ?? { text: this.fallbackText };
    if (head && !((head.times ?? 1) > 1)) this.script.shift();
    else if (head) this.script[0] = { ...head, times: (head.times ?? 1) - 1 }; // Infinity - 1 stays Infinity
    rec.turn = turn;
    this.requests.push(rec);
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.n ? (w.resolve(), false) : true));

    if (turn.delayMs) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          this.delays.delete(t);
          r();
        }, turn.delayMs);
        this.delays.add(t);
      });
      if (res.destroyed || req.socket.destroyed) return; // the CLI gave up / was interrupted
    }
    if (turn.httpStatus) return this.sendError(res, api, turn.httpStatus, turn.error ?? 'scripted error');
    if (api === 'anthropic') return this.sendAnthropic(res, body, turn);
    return this.sendOpenAi(res, body, turn);
  }

  // ---- Anthropic Messages API (streamed; a non-streamed JSON message if stream is false) ----

  private sendAnthropic(res: http.ServerResponse, body: any, turn: ScriptTurn): void {
    const n = ++this.seq;
    const content: any[] = [];
    const calls = turn.toolCalls ?? [];
    if (turn.text !== undefined || calls.length === 0) content.push({ type: 'text', text: turn.text ?? 'ok' });
    calls.forEach((c, i) => content.push({ type: 'tool_use', id: `toolu_${String(n).padStart(4, '0')}_${i}`, name: c.name, input: typeof c.input === 'string' ? { input: c.input } : c.input }));
    const stopReason = calls.length ? 'tool_use' : 'end_turn';
    const { inputTokens, outputTokens } = turn.usage ?? DEFAULT_USAGE;
    const usage = { input_tokens: inputTokens, output_tokens: outputTokens };
    const message = { id: `msg_${n}`, type: 'message', role: 'assistant', model: body?.model ?? 'claude-test', content, stop_reason: stopReason, stop_sequence: null, usage };
    if (!body?.stream) return sendJson(res, 200, message);

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    ev('message_start', { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: inputTokens, output_tokens: 0 } } });
    content.forEach((block, index) => {
      if (block.type === 'text') {
        ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
        ev('content_block_delta', { index, delta: { type: 'text_delta', text: block.text } });
      } else {
        ev('content_block_start', { index, content_block: { ...block, input: {} } });
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
      }
      ev('content_block_stop', { index });
    });
    ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
    ev('message_stop', {});
    res.end();
  }

  // ---- OpenAI Responses API (codex always streams) ----

  private sendOpenAi(res: http.ServerResponse, body: any, turn: ScriptTurn): void {
    const n = ++this.seq;
    const tools = findOpenAiTools(body);
    const output: any[] = [];
    const calls = turn.toolCalls ?? [];
    if (turn.text !== undefined || calls.length === 0) {
      output.push({ id: `msg_${n}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: turn.text ?? 'ok', annotations: [] }] });
    }
    calls.forEach((c, i) => output.push(openAiToolItem(c, tools, `${n}_${i}`)));

    const responseId = `resp_${n}`;
    const { inputTokens, outputTokens } = turn.usage ?? DEFAULT_USAGE;
    const usage = {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    ev('response.created', { response: { id: responseId, object: 'response', status: 'in_progress', model: body?.model, output: [] } });
    output.forEach((item, output_index) => {
      if (item.type === 'message') {
        ev('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
        ev('response.output_text.delta', { item_id: item.id, output_index, content_index: 0, delta: item.content[0].text });
      } else {
        ev('response.output_item.added', { output_index, item });
      }
      ev('response.output_item.done', { output_index, item });
    });
    ev('response.completed', { response: { id: responseId, object: 'response', status: 'completed', model: body?.model, output, usage } });
    res.end();
  }

  private sendError(res: http.ServerResponse, api: Api, status: number, message: string): void {
    if (api === 'anthropic') {
      const type = status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
      return sendJson(res, status, { type: 'error', error: { type, message } });
    }
    const code = status === 401 ? 'invalid_api_key' : null;
    sendJson(res, status, { error: { message, type: status === 401 ? 'invalid_request_error' : 'server_error', param: null, code } });
  }
}

// ---------------------------------------------------------------------------------------------

function hasAnthropicTools(body: any): boolean {
  return Array.isArray(body?.tools) && body.tools.length > 0;
}

interface OpenAiTool {
  type: string;
  name: string;
}

/**
 * Tools a Responses request offers. Codex puts them in the top-level `tools` array for most
 * models, but for its default model (gpt-6.1-sol, "responses-lite") they come as an input item
 * `{type:'additional_tools', tools:[{type:'namespace', tools:[…]}]}`.
 */
function findOpenAiTools(body: any): OpenAiTool[] {
  const out: OpenAiTool[] = [];
  const walk = (list: any) => {
    if (!Array.isArray(list)) return;
    for (const t of list) {
      if (t?.type === 'namespace') walk(t.tools);
      else if (t && typeof t.name === 'string') out.push({ type: t.type, name: t.name });
      else if (t?.type) out.push({ type: t.type, name: t.type }); // e.g. {type:'web_search'}
    }
  };
  walk(body?.tools);
  if (Array.isArray(body?.input)) for (const item of body.input) if (item?.type === 'additional_tools') walk(item.tools);
  return out;
}

/**
 * The output item for one scripted tool call, shaped by how the request declares that tool:
 * a `function` tool gets a `function_call` with JSON arguments, a `custom` (freeform) tool a
 * `custom_tool_call` with raw input. In codex's "code mode" (default model) shell commands are not
 * a top-level tool: they are `tools.exec_command(...)` inside JavaScript run by the custom `exec`
 * tool, so a call to a tool that is not offered is wrapped into such a script when `exec` exists.
 * That keeps test scripts model-independent (`{name:'exec_command', input:{cmd}}` works for both).
 */
function openAiToolItem(call: ToolCall, tools: OpenAiTool[], suffix: string): any {
  const callId = `call_${suffix}`;
  let decl = tools.find((t) => t.name === call.name);
  let input = call.input;
  if (!decl && tools.some((t) => t.name === 'exec' && t.type === 'custom')) {
    decl = { type: 'custom', name: 'exec' };
    const ident = call.name.replace(/[^A-Za-z0-9_$]/g, '_');
    input = `const r = await tools.${ident}(${JSON.stringify(call.input)});\ntext(typeof r === 'string' ? r : JSON.stringify(r));\n`;
  }
  if (decl?.type === 'custom') {
    return { id: `ctc_${suffix}`, type: 'custom_tool_call', status: 'completed', call_id: callId, name: decl.name, input: typeof input === 'string' ? input : JSON.stringify(input) };
  }
  return { id: `fc_${suffix}`, type: 'function_call', status: 'completed', call_id: callId, name: call.name, arguments: typeof input === 'string' ? input : JSON.stringify(input) };
}

function sendJson(res: http.ServerResponse, status: number, obj: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  // Codex can compress request bodies (feature enable_request_compression); handle what Node 20 can.
  switch (req.headers['content-encoding']) {
    case 'gzip':
      return zlib.gunzipSync(buf);
    case 'deflate':
      return zlib.inflateSync(buf);
    case 'br':
      return zlib.brotliDecompressSync(buf);
    default:
      return buf;
  }
}

// ---- How to point the real CLIs at a ModelServer (what the probes in modelServer.test.ts found) ----

/**
 * Environment for `claude` against `url`. Start from a *minimal* env (not process.env) so the host's
 * real credentials/config never leak in. CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC stops the
 * api.anthropic.com DNS lookups/telemetry; IS_SANDBOX=1 lets root use --dangerously-skip-permissions.
 */
export function claudeEnv(url: string, home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Tip: add CLAUDE_CODE_MAX_RETRIES=0 to `extra` when scripting errors; claude retries even a 401.
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    IS_SANDBOX: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    ...extra,
  };
}

/** Environment for `codex`: a scratch CODEX_HOME (config, sessions) and the key the provider reads. */
export function codexEnv(home: string, codexHome: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: codexHome, OPENAI_API_KEY: 'sk-test', TERM: 'xterm-256color', ...extra };
}

/**
 * Global `codex` options (put them before the subcommand) that select the local provider and turn
 * off startup traffic: plugins sync (github.com, chatgpt.com) and analytics (ab.chatgpt.com).
 * `maxRetries` sets the provider's request/stream retries; unset keeps codex's default (5
 * "Reconnecting..." attempts, ~7 s before a scripted error surfaces), 0 fails on the first error.
 */
export function codexArgs(url: string, opts: { maxRetries?: number } = {}): string[] {
  const retries = opts.maxRetries === undefined ? '' : `,request_max_retries=${opts.maxRetries},stream_max_retries=${opts.maxRetries}`;
  return [
    '-c',
    'model_provider=local',
    '-c',
    `model_providers.local={name="local",base_url="${url}/v1",env_key="OPENAI_API_KEY",wire_api="responses"${retries}}`,
    '-c',
    'analytics.enabled=false',
    '--disable',
    'plugins',
  ];
}

// ---- Scripted tool use (issue 15: the agent asks before it runs a command) ----

/** A model turn that runs one shell command, as each CLI's tool takes it: claude's `Bash`, codex's `exec_command`. */
export function shellCall(api: Api, command: string): ToolCall {
  return api === 'anthropic' ? { name: 'Bash', input: { command, description: 'scripted command' } } : { name: 'exec_command', input: { cmd: command } };
}

/** The tool results an agent sent back in a main request, as text (`isError` where the API says). */
export function toolResults(rec: RecordedRequest): Array<{ text: string; isError: boolean }> {
  const text = (c: unknown): string => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((x: any) => x?.text ?? x?.output ?? '').join('') : JSON.stringify(c ?? ''));
  if (rec.api === 'anthropic') {
    const messages: any[] = rec.body?.messages ?? [];
    return messages
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b: any) => b?.type === 'tool_result')
      .map((b: any) => ({ text: text(b.content), isError: b.is_error === true }));
  }
  const input: any[] = Array.isArray(rec.body?.input) ? rec.body.input : [];
  return input.filter((i) => i?.type === 'function_call_output' || i?.type === 'custom_tool_call_output').map((i) => ({ text: text(i.output), isError: false }));
}
