import type { Provenance } from '@medplum/fhirtypes';
import { canonicalJson } from '../core/canonicalJson.js';
import type { Hex } from '../core/hex.js';
import { fromHex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { uuidv7 } from '../core/uuidv7.js';
import { exchangeProvenance } from './exchangeProvenance.js';
import type { ExchangeStore, ReceivedCopyRow } from './ports.js';
import type { VerifiedEntry } from './receivedProofs.js';

/** Anchoring kind of a receipt's Provenance. */
export const RECEIPT_KIND = 'exchange.provenance';

export interface ReceiptKeeperPorts {
  self: Hex;
  store: ExchangeStore;
  /** Seals bytes under the patient's data key (`FhirRepository.sealForPatient`). */
  seal(patientId: string, aad: string, bytes: Uint8Array): { keyId: string; payload: Uint8Array };
  open(keyId: string, aad: string, payload: Uint8Array): Uint8Array;
  anchoring: {
    appendHashes(
      items: { kind: string; contentHash: Uint8Array }[],
      withinCommit?: (receipts: { id: number }[]) => void,
    ): Promise<{ id: number }[]>;
    getProof(recordId: number): unknown;
  };
  now?: () => number;
}

export interface Receipt {
  patientId: string;
  purpose: string;
  source: { organization: Hex; name: string; fhirBase: string };
  verified: readonly VerifiedEntry[];
}

export const provenanceAad = (id: string) => `Provenance/${id}`;
export const copyAad = (c: Pick<ReceivedCopyRow, 'source' | 'resourceType' | 'id' | 'version'>) =>
  `${c.source.toLowerCase()}/${c.resourceType}/${c.id}/_history/${c.version}`;

/**
 * Keeps what was received from another gateway, so this gateway can later prove what it was shown and when: the
 * verified copies, byte for byte, sealed under the local patient's data key (erasing the patient shreds them),
 * and one FHIR Provenance per receipt naming each version's holder URL and content hash, anchored on the spine
 * (kind `exchange.provenance`) in the same commit as the rows. Resolves once durable, with the Provenance.
 */
export class ReceiptKeeper {
  private readonly ports: ReceiptKeeperPorts;
  private readonly now: () => number;

  constructor(ports: ReceiptKeeperPorts) {
    this.ports = ports;
    this.now = ports.now ?? Date.now;
  }

  async keep(receipt: Receipt): Promise<Provenance> {
    const receivedAt = this.now();
    const id = uuidv7(receivedAt);
    const provenance = exchangeProvenance({
      id,
      receivedAt,
      patientId: receipt.patientId,
      purpose: receipt.purpose,
      source: receipt.source,
      receiver: this.ports.self,
      verified: receipt.verified,
    });
    const json = canonicalJson(provenance);
    const bytes = Buffer.from(json, 'utf8');
    const sealedProvenance = this.ports.seal(receipt.patientId, provenanceAad(id), bytes);
    const copies: ReceivedCopyRow[] = [];
    for (const entry of receipt.verified) {
      const key = {
        source: receipt.source.organization,
        resourceType: entry.resource.resourceType,
        id: entry.resource.id,
        version: Number(entry.resource.meta.versionId),
      };
      // A version kept by an earlier receipt stays as it is (the Provenance still lists it: it was shown again).
      if (this.ports.store.hasCopy(key.source, key.resourceType, key.id, key.version)) continue;
      const sealed = this.ports.seal(receipt.patientId, copyAad(key), Buffer.from(entry.json, 'utf8'));
      copies.push({
        ...key,
        patientId: receipt.patientId,
        receiptId: id,
        receivedAt,
        contentHash: fromHex(entry.proof.record.contentHash as Hex, 32),
        proof: JSON.stringify(entry.proof),
        keyId: sealed.keyId,
        payload: sealed.payload,
      });
    }
    await this.ports.anchoring.appendHashes(
      [{ kind: RECEIPT_KIND, contentHash: sha256(bytes) }],
      ([record]) =>
        this.ports.store.insertReceipt(
          {
            recordId: (record as { id: number }).id,
            id,
            receivedAt,
            patientId: receipt.patientId,
            source: receipt.source.organization,
            keyId: sealedProvenance.keyId,
            payload: sealedProvenance.payload,
          },
          copies,
        ),
    );
    return provenance;
  }

  /** A patient's receipts as FHIR Provenances, newest first. */
  async search(
    patientId: string,
    { count, offset }: { count: number; offset: number },
  ): Promise<{ total: number; resources: Provenance[] }> {
    const { store } = this.ports;
    const rows = count > 0 ? store.receipts(patientId, count, offset) : [];
    return {
      total: store.countReceipts(patientId),
      resources: rows.map((row) => JSON.parse(this.provenanceJson(row)) as Provenance),
    };
  }

  /** One receipt's Provenance, byte for byte as anchored, and its Patient. */
  async read(id: string): Promise<{ json: string; patientId: string } | undefined> {
    const row = this.ports.store.getReceipt(id);
    return row ? { json: this.provenanceJson(row), patientId: row.patientId } : undefined;
  }

  /** The anchoring proof of a receipt's Provenance (the spine's 409 until its batch is confirmed). */
  proof(id: string): unknown {
    const row = this.ports.store.getReceipt(id);
    return row ? this.ports.anchoring.getProof(row.recordId) : undefined;
  }

  /** A stored receipt's Provenance as canonical JSON (what was anchored). */
  provenanceJson(row: { id: string; keyId: string; payload: Uint8Array }): string {
    return Buffer.from(this.ports.open(row.keyId, provenanceAad(row.id), row.payload)).toString('utf8');
  }
}
