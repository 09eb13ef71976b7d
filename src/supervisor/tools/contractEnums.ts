/**
 * The worker contract's enums (shared/protocol.ts) as zod enums, for the MCP
 * edge: tool arguments and results are zod, the contract is not (the worker
 * must not load zod). Built from the contract's own value lists, so they cannot drift.
 */
import { z } from 'zod';
import * as contract from '../../shared/protocol';

export const AgentKind = z.enum(contract.AgentKind.values);
export const AgentMode = z.enum(contract.AgentMode.values);
export const SessionStatus = z.enum(contract.SessionStatus.values);
export type AgentKind = contract.AgentKind;
export type AgentMode = contract.AgentMode;
export type SessionStatus = contract.SessionStatus;
