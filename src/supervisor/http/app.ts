/**
 * The HTTP edge: health, auth, DNS-rebinding guard, body limits, rate limiting,
 * and the two MCP transports — SSE (`GET /sse` + `POST /messages`) and
 * Streamable HTTP (`/mcp`) — both serving the same tool registrations.
 */
import crypto from 'node:crypto';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { JSONRPCMessageSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'winston';
import { createMcpServer } from '../mcp/createServer';
import { BoundedEventStore, EventStoreBudget } from '../mcp/eventStore';
import type { ToolContext } from '../tools/context';
import { type AdminHooks, createAdminRouter } from './admin';
import { bearerOf, requireBearer, tokenDigest, tokenMatches } from './auth';
import { Connections } from './connections';
import { InFlightRequests, requestIdsOf } from './inFlightRequests';
import { guardOrigin, type OriginPolicy } from './originGuard';
import { BoundedMemoryStore } from './rateLimitStore';
import { createUi } from '../ui/uiRouter';
import type { UiFeeds } from '../ui/uiFeed';

/** JSON-RPC bodies larger than this are refused (413): no tool argument needs more. */
export const MAX_BODY = '1mb';
const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpDeps {
  ctx: ToolContext;
  log: Logger;
  version: string;
  tokenDigest: () => Buffer;
  originPolicy: () => OriginPolicy;
  rateLimitRpm: number;
  /** Client addresses the rate limiter remembers at most (see rateLimitStore.ts). */
  rateLimitMaxAddresses?: number;
  maxConnections: number;
  idleTimeoutMs: number;
  /** Extra, token-holder-only detail for /health. */
  healthDetail: () => Record<string, unknown>;
  /** Operator endpoints under /admin (stop, token rotation); absent: none. */
  admin?: AdminHooks;
}

/** Default of RATE_LIMIT_MAX_ADDRESSES: far more clients than one host serves, a few MB at most. */
export const RATE_LIMIT_MAX_ADDRESSES = 10_000;

function jsonRpcError(res: Response, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * Why a parsed body is not something a transport should be handed, or null if it
 * is fine. Checked here so both transports answer with a JSON-RPC error (the SSE
 * transport alone would answer a plain-text 400 that echoes the body).
 */
function invalidJsonRpc(body: unknown, allowBatch: boolean): string | null {
  if (Array.isArray(body)) {
    if (!allowBatch) return 'invalid request: JSON-RPC batches are not accepted here; send one message per POST';
    if (body.length === 0) return 'invalid request: empty JSON-RPC batch';
    return body.every((m) => JSONRPCMessageSchema.safeParse(m).success) ? null : 'invalid request: a message in the batch is not a JSON-RPC 2.0 request, notification or response';
  }
  return JSONRPCMessageSchema.safeParse(body).success ? null : 'invalid request: the body is not a JSON-RPC 2.0 request, notification or response';
}

/**
 * A request reusing the id of one still in flight. The error carries id null: a
 * reply with the id would be taken by the client for the answer to the first
 * request, which is still coming.
 */
function duplicateId(res: Response, refusal: string): void {
  jsonRpcError(res, 400, -32600, refusal);
}

/**
 * Once a POST's response has been written out completely, the client has every
 * reply on it and will never resume that stream: its events need not be kept.
 * ('finish' does not fire for a response cut short, whose stream may be resumed.)
 */
function forgetOnceDelivered(replay: BoundedEventStore | undefined, body: unknown, res: Response): void {
  const ids = requestIdsOf(body);
  if (replay && ids.length > 0) res.once('finish', () => replay.delivered(ids));
}

/** Hands a POST to its transport; if the transport refuses or fails it, no reply will ever settle its ids. */
async function settleIfRefused(admitted: { release: () => void }, res: Response, handle: () => Promise<void>): Promise<void> {
  try {
    await handle();
  } catch (err) {
    admitted.release();
    throw err;
  }
  if (res.statusCode >= 400) admitted.release();
}

function isJsonContentType(req: Request): boolean {
  return req.is('application/json') === 'application/json';
}

export function createHttpApp(deps: HttpDeps): { app: express.Express; connections: Connections; uiFeeds: UiFeeds } {
  const { log } = deps;
  const app = express();
  app.disable('x-powered-by');
  const connections = new Connections(deps.maxConnections, deps.idleTimeoutMs);
  // What all Streamable HTTP sessions together may keep for resumption (see eventStore.ts).
  const replayBudget = new EventStoreBudget();

  // Per-address buckets; trust proxy stays off, so the address is the socket's and
  // X-Forwarded-For / Forwarded can never mint new buckets.
  const rateStore = new BoundedMemoryStore(deps.rateLimitMaxAddresses ?? RATE_LIMIT_MAX_ADDRESSES);

  const guard = guardOrigin(deps.originPolicy);

  // The bare answer stays open to any Host (probes address us by IP or any name); the details
  // are for the token holder under a name we serve, so a rebinding page cannot read them.
  app.get('/health', (req, res) => {
    if (!tokenMatches(bearerOf(req), deps.tokenDigest())) return void res.json({ status: 'ok' });
    guard(req, res, () => {
      res.json({ status: 'ok', ...deps.healthDetail(), connections: connections.size, rateLimitedAddresses: rateStore.size });
    });
  });
  const auth = requireBearer(deps.tokenDigest);
  const limiter = rateLimit({
    // Fixed: RATE_LIMIT_RPM is per minute by its name.
    windowMs: 60_000,
    limit: deps.rateLimitRpm,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    message: { jsonrpc: '2.0', error: { code: -32000, message: 'rate limit exceeded; retry after the Retry-After header' }, id: null },
    store: rateStore,
    // Ignoring these headers is the point (see rateStore above), not a misconfiguration to warn about.
    validate: { xForwardedForHeader: false, forwardedHeader: false },
  });
  const parseJson = express.json({ limit: MAX_BODY, type: () => true });
  // A declared length over the limit is refused at once, and the connection closed so
  // the body is never read: body-parser alone would drain all of it (say, 5 GB,
  // trickled) before answering 413.
  const json = (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      res.set('Connection', 'close');
      return jsonRpcError(res, 413, -32600, `request body larger than ${MAX_BODY}`);
    }
    parseJson(req, res, next);
  };
  // The limiter counts POSTs; a JSON-RPC batch of n messages must cost n, or one
  // POST of 100 tool calls would go 100 times past the limit.
  const chargeBatch = async (req: Request, res: Response, next: NextFunction) => {
    const key = (req as Request & { rateLimit?: { key?: string } }).rateLimit?.key;
    if (!Array.isArray(req.body) || req.body.length < 2 || key === undefined) return next();
    const info = await rateStore.incrementBy(key, req.body.length - 1);
    if (info.totalHits <= deps.rateLimitRpm) return next();
    const retryAfter = Math.max(1, Math.ceil(((info.resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
    res.set('Retry-After', String(retryAfter));
    jsonRpcError(res, 429, -32000, `rate limit exceeded (a batch of ${req.body.length} messages counts as ${req.body.length}); retry after the Retry-After header`);
  };

  const atCapacity = (res: Response) => {
    res
      .status(503)
      .set('Retry-After', '30')
      .json({
        error: 'too_many_connections',
        message: `all ${connections.max} client connections are in use (MAX_SSE_CONNECTIONS); retry later`,
      });
  };

  // ---- SSE --------------------------------------------------------------------
  app.get('/sse', guard, auth, async (req, res) => {
    if (!connections.makeRoom()) return atCapacity(res);
    const transport = new SSEServerTransport('/messages', res);
    const server = createMcpServer(deps.ctx, deps.version);
    const id = transport.sessionId;
    const requests = new InFlightRequests();
    requests.track(transport);
    connections.add({ id, kind: 'sse', server, transport, tokenDigest: tokenDigest(bearerOf(req)!), lastActivity: Date.now(), requests });
    transport.onclose = () => connections.remove(id);
    res.on('close', () => connections.remove(id));
    try {
      await server.connect(transport);
      log.debug('sse client connected', { connection: id });
    } catch (err) {
      connections.remove(id);
      log.warn('sse connect failed', { error: (err as Error).message });
    }
  });

  app.post('/messages', guard, auth, limiter, json, chargeBatch, async (req, res) => {
    const id = typeof req.query.sessionId === 'string' ? req.query.sessionId : '';
    const conn = connections.get(id);
    if (!conn || conn.kind !== 'sse') {
      res.status(404).json({ error: 'not_found', message: 'no SSE connection with that sessionId; open a new one with GET /sse' });
      return;
    }
    if (!tokenMatches(bearerOf(req), conn.tokenDigest)) {
      res.status(403).json({ error: 'forbidden', message: 'this connection was opened with a different token' });
      return;
    }
    if (!isJsonContentType(req)) return jsonRpcError(res, 415, -32000, 'unsupported media type: Content-Type must be application/json');
    const invalid = invalidJsonRpc(req.body, false);
    if (invalid) return jsonRpcError(res, 400, -32600, invalid);
    const admitted = conn.requests.admit(req.body);
    if ('refusal' in admitted) return duplicateId(res, admitted.refusal);
    await settleIfRefused(admitted, res, () => (conn.transport as SSEServerTransport).handlePostMessage(req, res, req.body));
  });

  // ---- Streamable HTTP ----------------------------------------------------------
  const streamable = async (req: Request, res: Response) => {
    const header = req.headers['mcp-session-id'];
    const sid = typeof header === 'string' ? header : undefined;
    if (req.method === 'POST') {
      const invalid = invalidJsonRpc(req.body, true);
      if (invalid) return jsonRpcError(res, 400, -32600, invalid);
    }
    if (sid) {
      const conn = connections.get(sid);
      if (!conn || conn.kind !== 'streamable') {
        return jsonRpcError(res, 404, -32001, 'session not found; start a new one with an initialize request');
      }
      if (!tokenMatches(bearerOf(req), conn.tokenDigest)) {
        res.status(403).json({ error: 'forbidden', message: 'this session was opened with a different token' });
        return;
      }
      const admitted = req.method === 'POST' ? conn.requests.admit(req.body) : { release: () => undefined };
      if ('refusal' in admitted) return duplicateId(res, admitted.refusal);
      // Busy while this request (or GET stream) is open: such a session is neither reclaimed nor evicted.
      conn.busy = (conn.busy ?? 0) + 1;
      res.once('close', () => {
        conn.busy = (conn.busy ?? 1) - 1;
        conn.lastActivity = Date.now();
      });
      if (req.method === 'POST') forgetOnceDelivered(conn.replay, req.body, res);
      await settleIfRefused(admitted, res, () => (conn.transport as StreamableHTTPServerTransport).handleRequest(req, res, req.body));
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) {
      return jsonRpcError(res, 400, -32000, 'missing Mcp-Session-Id header (only an initialize request may omit it)');
    }
    const release = connections.reserve();
    if (!release) return atCapacity(res);
    const server = createMcpServer(deps.ctx, deps.version);
    const digest = tokenDigest(bearerOf(req)!);
    const requests = new InFlightRequests();
    const replay = new BoundedEventStore(replayBudget);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      // Lets a client that reconnects with Last-Event-ID receive what it missed.
      eventStore: replay,
      onsessioninitialized: (newId) => {
        release();
        connections.add({ id: newId, kind: 'streamable', server, transport, tokenDigest: digest, lastActivity: Date.now(), requests, replay });
      },
    });
    requests.track(transport);
    transport.onclose = () => {
      replay.dispose();
      if (transport.sessionId) connections.remove(transport.sessionId);
    };
    forgetOnceDelivered(replay, req.body, res);
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } finally {
      // Refused initializations (bad Accept, bad version …) give their slot back.
      release();
    }
  };
  app.post('/mcp', guard, auth, limiter, json, chargeBatch, streamable);
  app.get('/mcp', guard, auth, streamable);
  app.delete('/mcp', guard, auth, streamable);

  // A rotation also closes the connections opened with the old token (see Connections.closeOthers);
  // the per-request token check above stays as the second line.
  const rotateToken = deps.admin?.rotateToken;
  const admin = deps.admin && {
    ...deps.admin,
    rotateToken: rotateToken
      ? () => {
          rotateToken();
          void connections.closeOthers(deps.tokenDigest());
          ui.feeds.closeStale();
        }
      : null,
  };
  app.use('/admin', guard, auth, limiter, json, createAdminRouter(admin));

  // The dashboard: its own login (a cookie bound to the token), behind the same Host/Origin guard.
  const ui = createUi({ ctx: deps.ctx, tokenDigest: deps.tokenDigest, originPolicy: deps.originPolicy, limiter });
  app.use('/ui', guard, ui.router);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'endpoints: GET /sse, POST /messages, POST|GET|DELETE /mcp, GET /health, GET /ui (the dashboard)' });
  });

  // Body-parser and everything else: a clear error, never a stack trace, and the server keeps serving.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return jsonRpcError(res, 413, -32600, `request body larger than ${MAX_BODY}`);
    if (err.type === 'entity.parse.failed') return jsonRpcError(res, 400, -32700, 'parse error: the body is not valid JSON');
    if (err.status && err.status >= 400 && err.status < 500) return jsonRpcError(res, err.status, -32600, err.message);
    log.error('http handler failed', { error: err.stack ?? String(err) });
    jsonRpcError(res, 500, -32603, 'internal error');
  });

  return { app, connections, uiFeeds: ui.feeds };
}
