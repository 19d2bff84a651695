import { hkdfSync } from 'node:crypto';

/** HKDF `info` of the key that seals the access audit trail. */
export const AUDIT_TRAIL_INFO = 'careledger/audit-trail/v1';

/**
 * The key (32 bytes) sealing every access audit entry: HKDF-SHA256 of the organisation master key with its own
 * versioned label, exactly as `deriveSearchIndexKey` and `deriveKeyEncryptionKey` derive theirs (no salt: the master
 * key is uniformly random, and the key must be reproducible from it alone).
 *
 * Not a patient's data key: the trail of who read a patient's record must survive that patient's erasure
 * (crypto-shredding destroys only `patient:<id>` keys). Derived rather than stored, so no key row can be deleted
 * or swapped to shred or forge the trail; it is as durable as the master key itself.
 */
export function deriveAuditTrailKey(masterKey: Uint8Array): Uint8Array {
  if (masterKey.length !== 32) throw new TypeError('the master key must be 32 bytes');
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), AUDIT_TRAIL_INFO, 32));
}
