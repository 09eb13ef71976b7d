/**
 * The session output URI, `agentvisor://sessions/<id>/output[?since=&limit=]`,
 * parsed by hand: the SDK's template matcher wants every query variable present
 * and in template order, so the bare URI resources/list hands out (and
 * `?limit=2&since=1`) would read as "not found". Malformed queries are the
 * client's to fix, so they are InvalidParams with the reason, never a miss.
 */
import { UriTemplate, type Variables } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { Limits } from '../../shared/constants';

export const SCHEME_PREFIX = 'agentvisor://sessions/';
export const OUTPUT_TEMPLATE = `${SCHEME_PREFIX}{sessionId}/output{?since,limit}`;
const OUTPUT_PATH = /^agentvisor:\/\/sessions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/output(?:\?([^#]*))?$/;
const QUERY_PARAMS = ['since', 'limit'] as const;

export function outputUri(sessionId: string): string {
  return `${SCHEME_PREFIX}${sessionId}/output`;
}

export interface OutputQuery {
  sessionId: string;
  since: number;
  limit: number;
}

function invalid(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message);
}

/** The session id of a session output URI (any query), or undefined for any other URI. */
export function sessionIdOfUri(uri: string): string | undefined {
  return OUTPUT_PATH.exec(uri)?.[1];
}

function wholeNumber(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  return n;
}

/** Parses a session output URI; throws InvalidParams naming the problem. */
export function parseOutputUri(uri: string): OutputQuery {
  const m = OUTPUT_PATH.exec(uri);
  if (!m) throw invalid(`not a session output resource: ${uri.slice(0, 200)} (expected ${SCHEME_PREFIX}<sessionId>/output)`);
  const params = new URLSearchParams(m[2] ?? '');
  for (const name of new Set(params.keys())) {
    if (!(QUERY_PARAMS as readonly string[]).includes(name)) {
      throw invalid(`unknown query parameter "${name.slice(0, 40)}"; a session output URI takes only since and limit`);
    }
    if (params.getAll(name).length > 1) throw invalid(`${name} is given more than once`);
  }
  return {
    sessionId: m[1],
    since: wholeNumber(params, 'since', 0, 0, Number.MAX_SAFE_INTEGER),
    limit: wholeNumber(params, 'limit', Limits.outputPageLines, 1, Limits.outputPageLinesMax),
  };
}

/**
 * The template as clients are shown it, matching any URI of a session's output
 * whatever its query; the read handler then parses (and refuses) the query.
 */
export class OutputUriTemplate extends UriTemplate {
  constructor() {
    super(OUTPUT_TEMPLATE);
  }

  override match(uri: string): Variables | null {
    const sessionId = sessionIdOfUri(uri);
    return sessionId === undefined ? null : { sessionId };
  }
}
