import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJsonBytes } from '../core/canonicalJson.js';
import type { Logger } from '../core/logger.js';
import { sha256 } from '../core/sha256.js';
import { hmacToken } from '../crypto/index.js';
import type { FhirCaller } from '../records/fhirAccess.js';
import { openDatabase, type SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteAuditStore } from '../store/sqlite/sqliteAuditStore.js';
import type { AccessEvent } from './accessEvent.js';
import { AccessAuditTrail, AUDIT_KIND, createAuditContentResolver } from './accessAuditTrail.js';
import { deriveAuditTrailKey } from './auditKey.js';
import type { AuditAnchoring } from './ports.js';

const ORG = '0x1111111111111111111111111111111111111111';

/** The spine, faked: records every appendHashes call and runs the caller's rows "inside the commit". */
class FakeAnchoring implements AuditAnchoring {
  calls: { kind: string; contentHash: Uint8Array }[][] = [];
  failNext: Error | null = null;
  private nextId = 1;
  async appendHashes(
    items: { kind: string; contentHash: Uint8Array }[],
    withinCommit?: (receipts: { id: number }[]) => void,
  ): Promise<{ id: number }[]> {
    this.calls.push(items);
    await Promise.resolve();
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    const receipts = items.map(() => ({ id: this.nextId++ }));
    withinCommit?.(receipts);
    return receipts;
  }
  getProof(recordId: number): unknown {
    return { recordId };
  }
}

function recordingLogger(): Logger & { errors: { obj: object; msg?: string | undefined }[] } {
  const errors: { obj: object; msg?: string | undefined }[] = [];
  return { debug() {}, info() {}, warn() {}, error: (obj, msg) => void errors.push({ obj, msg }), errors };
}

const event = (n: number, patientId = 'alice', overrides: Partial<AccessEvent> = {}): AccessEvent => ({
  at: 1_700_000_000_000 + n,
  organization: ORG,
  agent: { tokenName: 'dr.house', role: 'clinician', subject: null, chainAddress: null },
  patientId,
  action: 'read',
  entity: `Observation/o${n}/_history/1`,
  purpose: 'TREAT',
  outcome: 'allowed',
  ...overrides,
});

let db: SqliteDatabase;
let anchoring: FakeAnchoring;
let logger: ReturnType<typeof recordingLogger>;
let trail: AccessAuditTrail;
let store: SqliteAuditStore;
const key = deriveAuditTrailKey(randomBytes(32));
const searchIndexKey = randomBytes(32);

beforeEach(() => {
  db = openDatabase(':memory:');
  db.pragma('foreign_keys = OFF'); // the fake spine writes no records rows
  store = new SqliteAuditStore(db);
  anchoring = new FakeAnchoring();
  logger = recordingLogger();
  trail = new AccessAuditTrail({ store, anchoring, key, searchIndexKey, organization: ORG, logger });
});
afterEach(() => db.close());

describe('AccessAuditTrail', () => {
  it('writes every entry recorded in one event-loop turn with one appendHashes call', async () => {
    for (let i = 0; i < 500; i++) trail.record(event(i));
    expect(anchoring.calls).toHaveLength(0); // record() only queues
    await new Promise((resolve) => setImmediate(resolve));
    expect(anchoring.calls).toHaveLength(1);
    expect(anchoring.calls[0]).toHaveLength(500);
    expect(anchoring.calls[0]?.every((item) => item.kind === AUDIT_KIND)).toBe(true);
    await trail.flush();
    trail.record(event(500));
    await trail.flush();
    expect(anchoring.calls).toHaveLength(2);
    expect((await trail.search('alice', { count: 1000, offset: 0 })).total).toBe(501);
  });

  it('anchors the SHA-256 of the AuditEvent canonical JSON, and stores it sealed', async () => {
    trail.record(event(1));
    await trail.flush();
    const [row] = store.search(hmacToken(searchIndexKey, 'audit|patient|alice'), 10, 0);
    expect(row).toBeDefined();
    const read = await trail.read(row!.id);
    expect(read?.patientId).toBe('alice');
    expect(anchoring.calls[0]?.[0]?.contentHash).toEqual(sha256(new TextEncoder().encode(read!.json)));
    expect(read!.json).toBe(new TextDecoder().decode(canonicalJsonBytes(JSON.parse(read!.json))));
    const raw = Buffer.from(row!.payload).toString('latin1');
    expect(raw).not.toContain('dr.house');
    expect(raw).not.toContain('alice');
    expect(trail.proof(row!.id)).toEqual({ recordId: row!.recordId });
    // What `careledger audit` re-hashes: the same bytes, found by the anchoring record.
    const resolve = createAuditContentResolver(store, key);
    const resolved = resolve(row!.recordId);
    expect(resolved).toMatchObject({ label: `AuditEvent/${row!.id}` });
    expect(sha256((resolved as { bytes: Uint8Array }).bytes)).toEqual(anchoring.calls[0]?.[0]?.contentHash);
    expect(resolve(row!.recordId + 1000)).toBeUndefined();
    db.prepare('UPDATE audit_events SET payload = ? WHERE id = ?').run(
      Buffer.alloc(row!.payload.length),
      row!.id,
    );
    expect(resolve(row!.recordId)).toMatchObject({ error: expect.stringMatching(/altered/) });
  });

  it('logs and counts a failed write, never throws it into the caller', async () => {
    anchoring.failNext = new Error('disk full');
    expect(() => {
      trail.record(event(1));
      trail.record(event(2));
    }).not.toThrow();
    await trail.flush();
    expect(trail.failures).toBe(2);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]?.obj).toMatchObject({ entries: 2, err: 'disk full' });
    // The trail keeps working after a failure.
    trail.record(event(3));
    await trail.flush();
    expect(trail.failures).toBe(2);
    expect((await trail.search('alice', { count: 10, offset: 0 })).total).toBe(1);
  });

  it('counts an entry that cannot even be prepared, and writes the rest', async () => {
    trail.record(event(1, 'alice', { at: Number.NaN }));
    trail.record(event(2));
    await trail.flush();
    expect(trail.failures).toBe(1);
    expect(anchoring.calls[0]).toHaveLength(1);
  });

  it("searches one patient's entries, decrypted, newest first, with paging", async () => {
    for (let i = 0; i < 5; i++) trail.record(event(i));
    trail.record(event(10, 'bob'));
    await trail.flush();
    const all = await trail.search('alice', { count: 10, offset: 0 });
    expect(all.total).toBe(5);
    expect(all.events.map((e) => e.entity?.[0]?.what?.reference)).toEqual([
      'Observation/o4/_history/1',
      'Observation/o3/_history/1',
      'Observation/o2/_history/1',
      'Observation/o1/_history/1',
      'Observation/o0/_history/1',
    ]);
    expect(all.events.every((e) => e.resourceType === 'AuditEvent')).toBe(true);
    const page = await trail.search('alice', { count: 2, offset: 2 });
    expect(page.total).toBe(5);
    expect(page.events.map((e) => e.recorded)).toEqual([
      new Date(1_700_000_000_002).toISOString(),
      new Date(1_700_000_000_001).toISOString(),
    ]);
    expect((await trail.search('bob', { count: 10, offset: 0 })).total).toBe(1);
    expect((await trail.search('carol', { count: 10, offset: 0 })).total).toBe(0);
  });

  it('includes entries still queued in a search (it flushes first)', async () => {
    trail.record(event(1));
    expect((await trail.search('alice', { count: 10, offset: 0 })).total).toBe(1);
  });

  it("builds the entry from the router's caller: agent, purpose (PATRQT for a patient's own, ETREAT for break-glass)", async () => {
    const staff: FhirCaller = {
      scopes: [],
      patientId: null,
      tokenName: 'dr.house',
      role: 'clinician',
      subject: 'Practitioner/house',
      practitioner: '0x2222222222222222222222222222222222222222',
      purpose: 'http://terminology.hl7.org/CodeSystem/v3-ActReason|hpaymt',
    };
    trail.recordAccess(staff, {
      action: 'read',
      entity: 'Observation/o1/_history/1',
      patientId: 'alice',
      outcome: 'allowed',
      consentId: '3',
    });
    trail.recordAccess(
      { ...staff, breakGlassReason: 'unconscious' },
      { action: 'read', entity: 'Observation/o2/_history/1', patientId: 'alice', outcome: 'break-glass' },
    );
    trail.recordAccess(
      {
        scopes: [],
        patientId: 'alice',
        tokenName: 'patient:0xabc',
        role: 'patient',
        subject: 'Patient/alice',
      },
      {
        action: 'search',
        entity: 'Observation?code',
        patientId: 'alice',
        outcome: 'allowed',
        resultCount: 4,
      },
    );
    trail.recordAccess(
      { ...staff, purpose: 'NONSENSE' },
      {
        action: 'read',
        entity: 'Observation/o3/_history/1',
        patientId: 'alice',
        outcome: 'denied',
        reason: 'NO_CONSENT',
      },
    );
    const { events } = await trail.search('alice', { count: 10, offset: 0 });
    const purposes = events.map((e) => e.purposeOfEvent?.[0]?.coding?.[0]?.code);
    expect(new Set(purposes)).toEqual(new Set(['HPAYMT', 'ETREAT', 'PATRQT', 'TREAT']));
    const byEntity = new Map(
      events.map((e) => [e.entity?.[0]?.what?.reference ?? e.entity?.[0]?.description, e]),
    );
    expect(byEntity.get('Observation/o1/_history/1')?.agent[0]).toMatchObject({
      altId: 'dr.house',
      who: { reference: 'Practitioner/house' },
      role: [{ coding: [{ code: 'clinician' }] }],
    });
    expect(byEntity.get('Observation?code')?.agent[0]?.who?.reference).toBe('Patient/alice');
    expect(byEntity.get('Observation/o3/_history/1')?.outcome).toBe('4');
    expect(byEntity.get('Observation/o2/_history/1')?.entity?.[0]?.detail).toContainEqual({
      type: 'break-glass',
      valueString: 'true',
    });
  });
});

describe('AccessAuditTrail: the router waits for its entry', () => {
  const staff: FhirCaller = { scopes: [], patientId: null, tokenName: 'dr.house', role: 'clinician' };
  const details = {
    action: 'read' as const,
    entity: 'Observation/o1/_history/1',
    patientId: 'alice',
    outcome: 'allowed' as const,
  };

  it('resolves recordAccess only once the spine has the entry (durable), so nothing is served unrecorded', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: AuditAnchoring = {
      appendHashes: async (items, withinCommit) => {
        await gate;
        return anchoring.appendHashes(items, withinCommit);
      },
      getProof: () => null,
    };
    const waiting = new AccessAuditTrail({
      store,
      anchoring: slow,
      key,
      searchIndexKey,
      organization: ORG,
      logger,
    });
    let recorded = false;
    const pending = waiting.recordAccess(staff, details).then(() => (recorded = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(recorded).toBe(false);
    release();
    await pending;
    expect(recorded).toBe(true);
    expect(store.count(hmacToken(searchIndexKey, 'audit|patient|alice'))).toBe(1);
  });

  it('rejects with a 503 AUDIT.NOT_RECORDED when the entry cannot be written, and counts it', async () => {
    anchoring.failNext = new Error('disk full');
    const error = await trail.recordAccess(staff, details).then(
      () => null,
      (e: unknown) => e as { status: number; code: string; message: string },
    );
    expect(error).toMatchObject({ status: 503, code: 'AUDIT.NOT_RECORDED' });
    expect(error?.message).toMatch(/could not be recorded .* nothing is served/);
    expect(trail.failures).toBe(1);
    await expect(trail.recordAccess(staff, details)).resolves.toBeUndefined();
  });

  it('recordDurably resolves once the entry is written and rejects with a 503 when it cannot be', async () => {
    await expect(trail.recordDurably(event(1))).resolves.toBeUndefined();
    expect((await trail.search('alice', { count: 10, offset: 0 })).total).toBe(1);
    anchoring.failNext = new Error('disk full');
    await expect(trail.recordDurably(event(2))).rejects.toMatchObject({
      status: 503,
      code: 'AUDIT.NOT_RECORDED',
    });
    expect(trail.failures).toBe(1);
    expect((await trail.search('alice', { count: 10, offset: 0 })).total).toBe(1);
  });
});
