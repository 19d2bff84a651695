/** One T3 as stored: sent (we sold) or received (we bought), anchored by its record. */
export interface T3Row {
  id: string;
  direction: 'sent' | 'received';
  seller: `0x${string}`;
  buyer: `0x${string}`;
  /** ms since the epoch */
  transactionDate: number;
  /** SHA-256 (hex) of the signed T3's canonical JSON: what was anchored. */
  documentHash: string;
  /** The signed T3 (canonical JSON of `SignedT3`). */
  signed: string;
  /** When the buyer's gateway acknowledged it (sent T3s); null while not delivered. */
  deliveredAt: number | null;
  packs: { gtin: string; serial: string }[];
}

/** Storage of T3s; `insert` runs inside the anchoring commit of the T3. */
export interface T3Store {
  insert(row: T3Row & { recordId: number }): void;
  get(id: string): (T3Row & { recordId: number }) | undefined;
  /** T3s naming the pack, oldest first. */
  forPack(gtin: string, serial: string): (T3Row & { recordId: number })[];
  markDelivered(id: string, at: number): void;
  undelivered(): (T3Row & { recordId: number })[];
}

/** What the chain says about who handled a pack: whom a regulator asks for its T3s. */
export interface T3Ledger {
  /**
   * The product's manufacturer (null: the chain knows no such product) and every transfer of the pack on chain,
   * oldest first, read from the registry's deployment block.
   */
  handlersOfPack(
    gtin: string,
    serial: string,
  ): Promise<{ manufacturer: `0x${string}` | null; transfers: { from: `0x${string}`; to: `0x${string}` }[] }>;
}

/** An organisation's standing in the consortium, read from the chain afresh at every call. */
export interface MemberRoles {
  standing(organization: `0x${string}`): Promise<{ active: boolean; roles: readonly string[] }>;
}

/** What one holder answered to a request for the T3s of a pack (after the exchange opened its sealed answer). */
export type HolderAnswer =
  | { status: 'ok'; name: string; t3: string[] }
  | {
      status: 'refused' | 'unreachable' | 'rejected';
      name: string;
      code: string;
      message: string;
    };

/** One T3 request as the audit trail records it, on both sides (DCM 110106 Export / 110107 Import). */
export interface T3AuditEntry {
  /** disclose: this gateway answered another organisation; receive: it asked one. */
  action: 'disclose' | 'receive';
  /** The other organisation. */
  counterpart: `0x${string}`;
  gtin: string;
  serial: string;
  /** Who asked, at the requesting gateway (its token's name), and that token's role when asked here. */
  requestedBy: string;
  requesterRole?: string | undefined;
  outcome: 'allowed' | 'denied';
  /** The refusal's or failure's code. */
  reason?: string | undefined;
  /** T3s disclosed, or verified and kept from the answer. */
  count: number;
}

/**
 * The audit trail of T3 requests; resolves once the entry is durable and rejects (503) when it cannot be written, so
 * no T3 leaves, and no answer is used, without its entry.
 */
export interface T3Audit {
  record(entry: T3AuditEntry): Promise<void>;
}
