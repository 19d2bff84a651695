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
