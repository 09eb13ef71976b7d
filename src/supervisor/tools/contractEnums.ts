/**
 * The worker contract's enums (shared/protocol.ts) as zod enums, for the MCP
 * edge: tool arguments and results are zod, the contract is not (the worker
 * must not load zod). Built from the contract's own value lists, so they cannot drift.
 */
import { z } from 'zod';
import * as contract from '../../shared/protocol';
import { PUBLIC_STATUSES } from '../../shared/sessionStatus';

export const AgentKind = z.enum(contract.AgentKind.values);
export const AgentMode = z.enum(contract.AgentMode.values);
export const SessionStatus = z.enum(contract.SessionStatus.values);
/** What clients see: the worker's statuses and the supervisor's own `awaiting_approval` (shared/sessionStatus.ts). */
export const PublicStatus = z.enum(PUBLIC_STATUSES);
export type AgentKind = contract.AgentKind;
export type AgentMode = contract.AgentMode;
export type SessionStatus = contract.SessionStatus;
export type PublicStatus = z.infer<typeof PublicStatus>;
