import type { Hex } from '../core/hex.js';
import type {
  ConsentDomain,
  ConsentTerms,
  DelegateAppointment,
  DelegateRemoval,
} from './consentTypedData.js';

/**
 * What the consent side of a gateway needs from the chain (`ConsentRegistry`), as domain types: relaying what
 * patients and their delegates signed, recording break-glass access, reading consents back and following the
 * registry's events. The viem adapter is `src/ledger/viemConsentRegistry.ts`; code that decides about consent
 * depends on this port only.
 *
 * Addresses are `0x` hex; consent ids and times are `bigint` (uint256 and uint64 on chain, UNIX seconds), the
 * same as in {@link ConsentTerms}; block numbers and log indexes are numbers.
 */

/** A consent as recorded on chain. */
export interface ConsentRecord {
  id: bigint;
  patient: Hex;
  grantee: Hex;
  /** keccak-256 hashes of the scope strings (see `scopeHash`). */
  scopes: Hex[];
  /** Purpose-of-use bitmask (see `PURPOSES_OF_USE`, `maskToPurposes`). */
  purposes: number;
  /** In force for `validFrom <= now < validUntil`. */
  validFrom: bigint;
  validUntil: bigint;
  /** Dates of the data covered, inclusive; 0 = unbounded on that side. */
  dataFrom: bigint;
  dataUntil: bigint;
  /** The account that signed or sent the grant: the patient or one of their delegates. */
  grantedBy: Hex;
  /** Block time of the grant. */
  grantedAt: bigint;
  /** Block time of the revocation; `null` while not revoked. */
  revokedAt: bigint | null;
  /** Who revoked it (the patient or a delegate); `null` while not revoked. */
  revokedBy: Hex | null;
}

/** Where an event sits on chain: events are delivered in (blockNumber, logIndex) order. */
export interface ChainEventPosition {
  blockNumber: number;
  logIndex: number;
  transactionHash: Hex;
}

export interface ConsentGrantedEvent extends ChainEventPosition {
  type: 'ConsentGranted';
  consentId: bigint;
  patient: Hex;
  grantee: Hex;
  purposes: number;
  validUntil: bigint;
  grantedBy: Hex;
}

export interface ConsentRevokedEvent extends ChainEventPosition {
  type: 'ConsentRevoked';
  consentId: bigint;
  patient: Hex;
  grantee: Hex;
  revokedBy: Hex;
}

export interface DelegateAppointedEvent extends ChainEventPosition {
  type: 'DelegateAppointed';
  patient: Hex;
  delegate: Hex;
  /** UNIX seconds at which the delegation lapses; 0 = until removed. */
  until: bigint;
}

export interface DelegateRemovedEvent extends ChainEventPosition {
  type: 'DelegateRemoved';
  patient: Hex;
  delegate: Hex;
  removedBy: Hex;
}

export interface BreakGlassAccessEvent extends ChainEventPosition {
  type: 'BreakGlassAccess';
  patient: Hex;
  /** The member organisation that recorded it. */
  organization: Hex;
  accessor: Hex;
  purpose: number;
  /** Hash of the justification kept off chain. */
  reasonHash: Hex;
  accessedAt: bigint;
}

/** An event of the `ConsentRegistry`, discriminated by `type`. */
export type ConsentChainEvent =
  | ConsentGrantedEvent
  | ConsentRevokedEvent
  | DelegateAppointedEvent
  | DelegateRemovedEvent
  | BreakGlassAccessEvent;

export type ConsentChainEventType = ConsentChainEvent['type'];

/** A mined transaction of this organisation. */
export interface ConsentTransaction {
  transactionHash: Hex;
  blockNumber: number;
}

export interface ConsentGrantReceipt extends ConsentTransaction {
  consentId: bigint;
}

export interface WatchConsentEventsOptions {
  /** First block to read events from (inclusive). */
  fromBlock: number | bigint;
  /** How often to ask for new blocks once caught up; default 1,000 ms. */
  pollingIntervalMs?: number;
  /** At most this many blocks per `eth_getLogs` request; default 2,000. */
  maxBlockRange?: number;
  /** Back-off after a failure doubles from `pollingIntervalMs` up to this; default 30,000 ms. */
  maxBackoffMs?: number;
  /**
   * Called with every failure (an RPC error, or `onEvent` throwing) before the watcher backs off and retries;
   * the watcher itself never rejects.
   */
  onError?: (error: unknown) => void;
}

/** A running event watcher. */
export interface ConsentEventSubscription {
  /** The last block whose events have all been delivered (`fromBlock - 1` before the first). */
  readonly lastProcessedBlock: number;
  /** Stops polling; resolves once no `onEvent` call is running and none will start. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The `ConsentRegistry` as the gateway uses it. The relaying organisation is the gateway's own account, which
 * must be an active member of the consortium. Failures the contract reports are `CareLedgerError`s with an
 * HTTP status and a message a person can act on (see `decodeConsentError`); an unreachable chain is a 503.
 */
export interface ConsentLedger {
  /** The registry's address. */
  contractAddress(): Hex;
  /** The EIP-712 domain patients must sign in (this chain, this contract). */
  domain(): Promise<ConsentDomain>;
  /** The nonce the next message signed by `account` must carry. */
  nonceOf(account: Hex): Promise<bigint>;

  /** Relays a `Grant` of `terms`; resolves once mined, with the new consent's id. */
  relayGrant(
    terms: ConsentTerms,
    signer: Hex,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentGrantReceipt>;
  /** Relays a `Revoke` of consent `consentId` signed by the patient or a delegate. */
  relayRevoke(consentId: bigint, signer: Hex, deadline: bigint, signature: Hex): Promise<ConsentTransaction>;
  /** Relays an `AppointDelegate` signed by the patient. */
  relayAppointDelegate(
    appointment: DelegateAppointment,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentTransaction>;
  /** Relays a `RemoveDelegate` signed by the patient or the delegate (`signer`). */
  relayRemoveDelegate(
    removal: DelegateRemoval,
    signer: Hex,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentTransaction>;
  /** Records emergency access by `accessor` (of this organisation) to `patient`'s data. */
  recordBreakGlass(
    patient: Hex,
    accessor: Hex,
    purpose: number,
    reasonHash: Hex,
  ): Promise<ConsentTransaction>;

  /** The consent `id`; a 404 `CareLedgerError` if there is none. */
  getConsent(id: bigint): Promise<ConsentRecord>;
  /** Every consent ever granted for `patient`, in grant order (revoked and lapsed ones included). */
  consentsOf(patient: Hex): Promise<ConsentRecord[]>;
  /** True if `account` is a delegate of `patient` whose delegation has not lapsed. */
  isDelegate(patient: Hex, account: Hex): Promise<boolean>;

  /** Delivers the registry's events from `options.fromBlock` on, in chain order, until stopped. */
  watchConsentEvents(
    onEvent: (event: ConsentChainEvent) => void | Promise<void>,
    options: WatchConsentEventsOptions,
  ): ConsentEventSubscription;
}
