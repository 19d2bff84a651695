import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { decryptPayload, unwrapDataKey } from '../crypto/index.js';
import type { ContentResolution } from '../anchoring/auditRecords.js';
import type { FhirStore, StoredVersion } from './ports.js';

/**
 * For the audit: finds the FHIR version an anchoring record stands for and returns the bytes that were hashed
 * (its canonical JSON, decrypted; or the tombstone of a delete), or why it cannot: the patient was erased
 * (expected, not a finding) or the ciphertext no longer authenticates (tampered).
 */
export function createVersionContentResolver(
  store: FhirStore,
  keyEncryptionKey: Uint8Array,
): (recordId: number) => ContentResolution | undefined {
  const keys = new Map<string, Uint8Array | null>();
  const dataKey = (keyId: string): Uint8Array | null => {
    if (!keys.has(keyId)) {
      const row = store.getKey(keyId);
      keys.set(keyId, row?.wrappedKey ? unwrapDataKey(keyEncryptionKey, row.wrappedKey, keyId) : null);
    }
    return keys.get(keyId) ?? null;
  };
  return (recordId) => {
    const stored = store.getVersionByRecord(recordId);
    if (!stored) return undefined;
    const label = `${stored.resourceType}/${stored.id}/_history/${stored.version}`;
    if (stored.deleted || !stored.payload) return { label, bytes: canonicalJsonBytes(tombstoneOf(stored)) };
    let key: Uint8Array | null;
    try {
      key = dataKey(stored.keyId);
    } catch (error) {
      return {
        label,
        error: `its data key cannot be unwrapped (${error instanceof Error ? error.message : String(error)})`,
      };
    }
    if (!key) return { label, erased: true };
    try {
      return { label, bytes: decryptPayload(key, stored.payload, new TextEncoder().encode(label)) };
    } catch {
      return { label, error: 'its stored ciphertext no longer authenticates (it was altered)' };
    }
  };
}

/** What a delete anchors: the identity of the deleted version. */
export function tombstoneOf(stored: Pick<StoredVersion, 'resourceType' | 'id' | 'version' | 'lastUpdated'>) {
  return {
    resourceType: stored.resourceType,
    id: stored.id,
    versionId: stored.version,
    lastUpdated: new Date(stored.lastUpdated).toISOString(),
    deleted: true,
  };
}
