import type { Hex } from '../core/hex.js';
import {
  EXCHANGE_REQUEST_FORMAT,
  T3_OPERATION,
  T3_RESPONSE_FORMAT,
  T3RequestSchema,
  T3ResponseSchema,
  type T3Request,
  type T3Response,
} from './exchangeMessages.js';
import type { ExchangeOperation } from './exchangeGateway.js';
import type { MemberProfile } from './externalFetcher.js';
import { askMember, memberFailure, type MemberRequestPorts } from './memberRequest.js';

/** One holder's answer to a T3 request: its T3s (canonical JSON each, unchecked), or why there are none. */
export type T3Answer =
  | { status: 'ok'; name: string; t3: string[] }
  | { status: 'refused' | 'unreachable' | 'rejected'; name: string; code: string; message: string };

/**
 * The requesting side of the `dscsa-t3` request kind: asks `holder`'s gateway (URL and key from the member
 * directory, read afresh) for its T3s of a pack and reports a holder that is not an active member, refuses, is
 * down or answers something else as such, never as an exception: one holder's failure must not hide the others'.
 */
export function t3Asker(
  ports: MemberRequestPorts & { member(organization: Hex): Promise<MemberProfile | null> },
): (holder: Hex, query: { gtin: string; serial: string; requestedBy: string }) => Promise<T3Answer> {
  return async (holder, query) => {
    const member = await ports.member(holder);
    if (!member || !member.active) {
      return {
        status: 'refused',
        name: member?.name ?? holder,
        code: 'EXCHANGE.HOLDER_INACTIVE',
        message: `${member?.name ?? holder} is not an active member of the consortium; its T3s are not asked for.`,
      };
    }
    const request: T3Request = { format: EXCHANGE_REQUEST_FORMAT, operation: T3_OPERATION, ...query };
    let response: T3Response;
    try {
      response = await askMember<T3Response>(ports, member, request, T3ResponseSchema);
    } catch (error) {
      return { name: member.name, ...memberFailure(error) };
    }
    if (response.gtin !== query.gtin || response.serial !== query.serial) {
      return {
        status: 'rejected',
        name: member.name,
        code: 'EXCHANGE.WRONG_PACK',
        message: `${member.name} answered for pack ${response.serial} of ${response.gtin}, not the one asked for; nothing of it is used.`,
      };
    }
    if (response.refused) {
      return { status: 'refused', name: member.name, ...response.refused };
    }
    return { status: 'ok', name: member.name, t3: response.t3 };
  };
}

/**
 * The holder's side of the `dscsa-t3` request kind, for `ExchangeGateway.addOperation`: `disclose` decides what an
 * active member `from` may have (the supply chain's T3 disclosure); this wraps it in the response format.
 */
export function t3Operation(
  disclose: (
    from: Hex,
    query: { gtin: string; serial: string; requestedBy: string },
  ) => Promise<{ refused?: { code: string; message: string }; t3: string[] }>,
  now: () => number = Date.now,
): ExchangeOperation {
  return {
    schema: T3RequestSchema,
    async respond(from, request) {
      const { gtin, serial, requestedBy } = request as T3Request;
      const answer = await disclose(from, { gtin, serial, requestedBy });
      return {
        format: T3_RESPONSE_FORMAT,
        gtin,
        serial,
        ...(answer.refused ? { refused: answer.refused } : {}),
        t3: answer.t3,
        servedAt: now(),
      };
    },
  };
}
