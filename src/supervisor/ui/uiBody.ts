/**
 * The dashboard's JSON bodies: a declared length over the limit is refused at
 * once and the connection closed, as app.ts does for /mcp (body-parser alone
 * would drain all of a 5 GB body, trickled, before answering 413); a body that
 * turns out too large anyway (chunked) gets the same 413 with this limit named,
 * not the MCP endpoints' JSON-RPC error.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** `limit` as body-parser spells it ('4kb'), `bytes` the same in bytes. */
export function uiJson(what: string, limit: string, bytes: number): RequestHandler {
  const parse = express.json({ limit });
  const refuse = (res: Response) => {
    res.set('Connection', 'close');
    res.status(413).json({ error: 'payload_too_large', message: `${what} larger than ${limit}` });
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > bytes) return refuse(res);
    parse(req, res, (err?: unknown) => ((err as { type?: string } | undefined)?.type === 'entity.too.large' ? refuse(res) : next(err)));
  };
}
