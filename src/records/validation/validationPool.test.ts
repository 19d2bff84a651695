import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFhirAuditEvent, type AccessEvent } from '../../audit/accessEvent.js';
import { auditAad, auditPatientToken, sealAuditEntry } from '../../audit/sealAuditEntry.js';
import { canonicalJson } from '../../core/canonicalJson.js';
import { UnavailableError } from '../../core/errors.js';
import { sha256 } from '../../core/sha256.js';
import { decryptPayload } from '../../crypto/index.js';
import { silentLogger } from '../../core/logger.js';
import { InlineValidator } from './resourceValidator.js';
import { ValidationPool } from './validationPool.js';

const patient = (i: number) => ({
  resourceType: 'Patient',
  id: `p-${i}`,
  name: [{ family: `Family${i}`, given: ['Given'] }],
  gender: 'female',
  birthDate: '1980-02-03',
});
/** Invalid in a different way for each i, so a mix-up of results between requests shows. */
const invalid = (i: number) =>
  i % 3 === 0
    ? { resourceType: 'Patient', id: `bad-${i}`, gender: `not-a-gender-${i}` }
    : i % 3 === 1
      ? {
          resourceType: 'Observation',
          id: `bad-${i}`,
          code: { text: 'x' },
          subject: { reference: 'Patient/1' },
        }
      : { resourceType: 'Patient', id: `bad-${i}`, birthDate: `19${i}-13-45` };

let pool: ValidationPool;
const KEY = new Uint8Array(32).fill(7);
const AUDIT_KEY = new Uint8Array(32).fill(9);
const inline = new InlineValidator(KEY);

beforeAll(() => {
  pool = new ValidationPool(2, { searchIndexKey: KEY, auditKey: AUDIT_KEY }, silentLogger);
});
afterAll(async () => {
  await pool.close();
});

describe('ValidationPool', () => {
  it('finds exactly what the in-process checker finds: issues, canonical JSON and index entries', async () => {
    const resources = [patient(1), invalid(0), invalid(1), invalid(2), patient(2)];
    const expected = await inline.validateMany(resources);
    expect(expected[1]!.issues.length).toBeGreaterThan(0);
    expect(expected[1]!.canonical).toBeNull();
    expect(expected[0]!.issues).toEqual([]);
    expect(new TextDecoder().decode(expected[0]!.canonical!)).toBe(
      '{"birthDate":"1980-02-03","gender":"female","id":"p-1","name":[{"family":"Family1","given":["Given"]}],"resourceType":"Patient"}',
    );
    expect(expected[0]!.index!.tokens.length).toBeGreaterThan(0);
    expect(await pool.validateMany(resources)).toEqual(expected);
  }, 30_000);

  it('answers every caller of one tick with its own results, also when the flush is split across workers', async () => {
    const requests = Array.from({ length: 60 }, (_, i) =>
      i % 2 === 0 ? [patient(i)] : [invalid(i), patient(i), invalid(i + 1)],
    );
    const results = await Promise.all(requests.map((r) => pool.validateMany(r)));
    const expected = await Promise.all(requests.map((r) => inline.validateMany(r)));
    expect(results).toEqual(expected);
    // One big list (a transaction Bundle) comes back in order.
    const bundle = Array.from({ length: 101 }, (_, i) => (i % 10 === 7 ? invalid(i) : patient(i)));
    const issues = await pool.validateMany(bundle);
    expect(issues.map((c) => c.issues.length > 0)).toEqual(bundle.map((_, i) => i % 10 === 7));
  }, 30_000);

  it('fails the requests a crashed worker held with a clear 503, and carries on with a new worker', async () => {
    const workers = (pool as unknown as { pool: { workers: { worker: { terminate(): Promise<number> } }[] } })
      .pool.workers;
    const pending = pool.validateMany(Array.from({ length: 40 }, (_, i) => patient(i)));
    await new Promise((resolve) => setImmediate(resolve)); // sent
    await Promise.all(workers.map((w) => w.worker.terminate()));
    const error = await pending.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).code).toBe('FHIR.VALIDATOR_FAILED');
    expect((error as UnavailableError).message).toMatch(/nothing was stored\. Retry/);
    expect(await pool.validateMany([patient(1), invalid(0)])).toEqual(
      await inline.validateMany([patient(1), invalid(0)]),
    );
  }, 30_000);

  it('seals access-audit entries exactly as the event loop would: decryptable, anchored hash of the canonical JSON', async () => {
    const event: AccessEvent = {
      at: Date.UTC(2026, 10, 24, 12),
      organization: '0x00112233445566778899aabbccddeeff00112233',
      agent: { tokenName: 'dr.house', role: 'clinician', subject: null, chainAddress: null },
      patientId: 'p-1',
      action: 'read',
      entity: 'Observation/o-1/_history/1',
      purpose: 'TREAT',
      outcome: 'allowed',
      consentId: '7',
    };
    const [sealed] = await pool.sealAudit([event]);
    const row = sealed!.row;
    const bytes = decryptPayload(AUDIT_KEY, row.payload, auditAad(row.id));
    expect(new TextDecoder().decode(bytes)).toBe(canonicalJson(toFhirAuditEvent(event, row.id)));
    expect(Buffer.from(sealed!.contentHash)).toEqual(Buffer.from(sha256(bytes)));
    expect(Buffer.from(row.patientToken!)).toEqual(Buffer.from(auditPatientToken(KEY, 'p-1')));
    const inline = sealAuditEntry(event, { auditKey: AUDIT_KEY, searchIndexKey: KEY });
    expect(Buffer.from(inline.row.patientToken!)).toEqual(Buffer.from(row.patientToken!));
  }, 30_000);

  it('refuses work once closed', async () => {
    const closing = new ValidationPool(1, { searchIndexKey: KEY, auditKey: AUDIT_KEY }, silentLogger);
    await closing.close();
    await expect(closing.validateMany([patient(1)])).rejects.toMatchObject({ code: 'FHIR.VALIDATOR_CLOSED' });
  });
});
