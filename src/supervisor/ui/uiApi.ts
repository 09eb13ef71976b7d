/**
 * The dashboard's JSON API, mounted under /ui/api behind the login cookie. Each
 * route is the same session-manager call its MCP tool makes (start, send,
 * interrupt, kill, read, diff, list); bodies and queries are parsed here, once,
 * with the tools' own limits.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { Limits } from '../../shared/constants';
import { resolveCwd } from '../fs/pathGuard';
import { SessionError } from '../sessionManager';
import { ApprovalBounds } from '../approvalStore';
import { ApprovalDecision as ContractDecision } from '../../shared/protocol';
import { AgentKind, AgentMode } from '../tools/contractEnums';
import type { ToolContext } from '../tools/context';
import { ModelArg, sessionIdArg } from '../tools/schemas';

/** Sessions on the list page: every running one at any sane MAX_SESSIONS, then the newest ended. */
export const UI_LIST_LIMIT = 200;
/** Diff lines the page shows at most: a person reads the start; session_diff pages the rest. */
export const UI_DIFF_LINES = 5_000;
/** Lines of one output page the page asks for (its virtual list fetches what is on screen). */
const PageLimit = z.coerce.number().int().min(1).max(Limits.outputPageLinesMax).default(500);
const Since = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0);

const StartBody = z
  .object({
    agent: AgentKind,
    cwd: z.string().min(1, 'cwd must not be empty').max(Limits.maxPathChars),
    task: z.string().min(1, 'task must not be empty').max(Limits.maxTaskChars),
    mode: AgentMode.optional(),
    model: z.union([ModelArg, z.literal('')]).optional(),
  })
  .strict();

const SendBody = z
  .object({
    message: z.string().max(Limits.maxMessageChars).optional(),
    interrupt: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.message !== undefined && b.message.length > 0) || b.interrupt === true, { message: 'type a message (or interrupt)' });

const ApproveBody = z
  .object({
    decision: z.enum(ContractDecision.values),
    message: z.string().max(ApprovalBounds.messageChars).optional(),
  })
  .strict();
const approvalIdArg = z.string().min(1).max(128);

class BadRequest extends Error {}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequest(r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; '));
  return r.data;
}

type Handler = (req: Request, res: Response) => Promise<unknown>;

export function createUiApi(ctx: ToolContext): express.Router {
  const router = express.Router();
  // Expected failures are answers the page shows; anything else is logged and shown as a generic error.
  const route = (fn: Handler) => async (req: Request, res: Response, _next: NextFunction) => {
    try {
      const body = await fn(req, res);
      if (!res.headersSent) res.json(body);
    } catch (err) {
      if (err instanceof BadRequest || err instanceof SessionError) return void res.status(400).json({ error: 'bad_request', message: err.message });
      ctx.log.error('ui api failed', { path: req.path, error: (err as Error).stack ?? String(err) });
      res.status(500).json({ error: 'internal', message: 'the dashboard call failed; see the server log' });
    }
  };
  const id = (req: Request) => parse(sessionIdArg, req.params.id);

  router.get(
    '/sessions',
    route(async () => {
      const page = ctx.sessions.list({ status: 'all', limit: UI_LIST_LIMIT });
      return { sessions: page.sessions, counts: page.counts, agents: ctx.agents.all() };
    }),
  );
  router.get(
    '/sessions/:id',
    route(async (req) => ctx.sessions.info(id(req))),
  );
  router.get(
    '/sessions/:id/output',
    route(async (req) => ctx.sessions.read(id(req), parse(Since, req.query.since), parse(PageLimit, req.query.limit), Limits.outputPageBytesMax)),
  );
  router.get(
    '/sessions/:id/diff',
    route(async (req) => {
      const d = await ctx.sessions.diff(id(req));
      return { ...d, lines: d.lines.slice(0, UI_DIFF_LINES), totalLines: d.lines.length };
    }),
  );

  router.post(
    '/sessions',
    route(async (req) => {
      const b = parse(StartBody, req.body);
      const cwd = await resolveCwd(b.cwd, ctx.config.WORKSPACE_DIR);
      if (!cwd.ok) throw new SessionError(cwd.error);
      const { info } = await ctx.sessions.start({ agent: b.agent, cwd: cwd.path, task: b.task, mode: b.mode ?? 'full', model: b.model || null });
      ctx.log.info('session started from the dashboard', { sessionId: info.sessionId });
      return info;
    }),
  );
  router.post(
    '/sessions/:id/send',
    route(async (req) => {
      const sid = id(req);
      const b = parse(SendBody, req.body);
      const interrupted = b.interrupt ? await ctx.sessions.interrupt(sid) : undefined;
      if (!b.message) return { delivered: false, interrupted: true, note: interrupted?.note };
      return { ...(await ctx.sessions.send(sid, b.message, false)), ...(interrupted ? { interrupted: true } : {}) };
    }),
  );
  router.get(
    '/sessions/:id/approvals',
    route(async (req) => ({ approvals: ctx.sessions.listApprovals({ sessionId: id(req), pendingOnly: true }) })),
  );
  router.post(
    '/sessions/:id/approvals/:approvalId',
    route(async (req) => {
      const b = parse(ApproveBody, req.body);
      return ctx.sessions.approve(id(req), parse(approvalIdArg, req.params.approvalId), b.decision, b.message || null, 'ui');
    }),
  );
  router.post(
    '/sessions/:id/kill',
    route(async (req) => ctx.sessions.kill(id(req))),
  );
  return router;
}
