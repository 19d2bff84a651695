/**
 * Where the CPU of one FHIR create goes, measured in-process (no HTTP, no SQLite): the steps the repository runs
 * for a typical vital-sign Observation (the same functions, the node's key sizes), run in order on a set of different
 * Observations and each timed on its own; and the whole `FhirRepository.write` over an in-memory store whose
 * anchoring commits at once.
 */
import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { canonicalJsonBytes } from '../src/core/canonicalJson.js';
import { silentLogger } from '../src/core/logger.js';
import { sha256 } from '../src/core/sha256.js';
import { decryptPayload, encryptPayload, generateDataKey, hmacToken } from '../src/crypto/index.js';
import { FhirRepository } from '../src/records/fhirRepository.js';
import { InlineValidator } from '../src/records/validation/resourceValidator.js';
import type {
  CurrentResource,
  DataKeyRow,
  FhirStore,
  RecordAnchoring,
  StoredVersion,
} from '../src/records/ports.js';
import { extractIndexEntries } from '../src/records/search/index.js';
import { loadFhirDefinitions, validateFhirResource } from '../src/records/validateFhirResource.js';
import { makeObservation, prng } from './fhirResources.js';

export interface StepCost {
  /** µs per call: the median of the timed slices. */
  us: number;
  /** µs per call of the fastest slice. */
  bestUs: number;
}

export interface FhirBreakdown {
  /** Bytes of the canonical JSON of a typical Observation (stamped with id and meta). */
  canonicalBytes: number;
  /** Index rows of one Observation (HMAC tokens are the hashed ones). */
  indexTokens: number;
  hashedTokens: number;
  validation: StepCost;
  canonicalSha256: StepCost;
  indexExtraction: StepCost;
  encryption: StepCost;
  /** `FhirRepository.write` of one create, in-process over an in-memory store (the steps above and the rest). */
  repositoryWrite: StepCost;
  /** For reads: AES-256-GCM decryption of one stored Observation. */
  decryption: StepCost;
  /** For the HTTP layer: JSON.parse of one request body. */
  jsonParse: StepCost;
}

const PATIENTS = 100;
const VARIANTS = 256;

/** An in-memory FhirStore that knows the Patients and drops what is written (so memory stays flat). */
function memoryStore(patientIds: readonly string[]): FhirStore {
  const patients = new Map<string, CurrentResource>(
    patientIds.map((id) => [
      id,
      {
        resourceType: 'Patient',
        id,
        version: 1,
        lastUpdated: Date.now(),
        deleted: false,
        patientId: id,
        keyId: `patient:${id}`,
      },
    ]),
  );
  const keys = new Map<string, DataKeyRow>();
  return {
    getCurrent: (type, id) => (type === 'Patient' ? patients.get(id) : undefined),
    getCurrentWithVersion: () => undefined,
    getVersion: () => undefined,
    getVersionByRecord: () => undefined,
    history: () => ({ versions: [], total: 0 }),
    search: () => ({ resources: [], total: 0 }),
    codeSystems: () => [],
    getKey: (keyId) => keys.get(keyId),
    insertKeys: (rows) => {
      for (const r of rows) keys.set(r.keyId, { ...r, erasedAt: null });
    },
    writeVersions: () => undefined,
    eraseKey: () => 0,
    iterateVersions: () => [] as StoredVersion[],
  };
}

function immediateAnchoring(): RecordAnchoring {
  let nextId = 1;
  return {
    appendHashes: (items, withinCommit) => {
      const receipts = items.map(() => ({ id: nextId++ }));
      withinCommit?.(receipts);
      return Promise.resolve(receipts);
    },
    getProof: () => null,
    whenDurable: () => Promise.resolve(),
  };
}

/** Measures the steps for 4 × `ms` milliseconds and, alternating with them, the whole write for 2 × `ms`. */
export async function measureFhirBreakdown(ms: number): Promise<FhirBreakdown> {
  loadFhirDefinitions();
  const rnd = prng(0xb4ea);
  const patientIds = Array.from({ length: PATIENTS }, (_, i) => `bench-patient-${i}`);
  const now = new Date().toISOString();
  const bodies = Array.from({ length: VARIANTS }, (_, i) =>
    makeObservation(i, patientIds[i % PATIENTS] as string, rnd),
  );
  const ids = bodies.map((_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
  // What the repository validates, canonicalises and encrypts: the body stamped with id and meta.
  const stampedCopy = (body: object, k: number): Resource =>
    ({ ...body, id: ids[k], meta: { versionId: '1', lastUpdated: now } }) as Resource;
  const searchIndexKey = new Uint8Array(randomBytes(32));
  const dataKey = generateDataKey();
  const tokenHasher = (value: string) => hmacToken(searchIndexKey, value);
  const texts = bodies.map((b) => JSON.stringify(b));
  const aads = ids.map((id) => new TextEncoder().encode(`Observation/${id}/_history/1`));

  // The steps in the repository's order, interleaved in one loop as a create runs them (so caches, JIT and garbage
  // collection see what they see in a real write), each timed on its own; per-call means of 4 slices.
  const steps = [
    'jsonParse',
    'validation',
    'indexExtraction',
    'canonicalSha256',
    'encryption',
    'decryption',
  ] as const;
  const slices: Record<(typeof steps)[number], number[]> = {
    jsonParse: [],
    validation: [],
    indexExtraction: [],
    canonicalSha256: [],
    encryption: [],
    decryption: [],
  };
  let canonicalBytes = 0;
  const pipeline = (sliceMs: number, record: boolean) => {
    const spent = new Float64Array(steps.length);
    let calls = 0;
    const start = performance.now();
    let i = 0;
    while (performance.now() - start < sliceMs) {
      for (let j = 0; j < 32; j++, i++) {
        const k = i % VARIANTS;
        const t0 = performance.now();
        const body = JSON.parse(texts[k] as string) as Record<string, unknown>;
        const t1 = performance.now();
        const resource = stampedCopy(body, k);
        validateFhirResource(resource);
        const t2 = performance.now();
        extractIndexEntries(resource, tokenHasher);
        const t3 = performance.now();
        const bytes = canonicalJsonBytes(resource);
        sha256(bytes);
        const t4 = performance.now();
        const sealed = encryptPayload(dataKey, bytes, aads[k] as Uint8Array);
        const t5 = performance.now();
        decryptPayload(dataKey, sealed, aads[k] as Uint8Array);
        const t6 = performance.now();
        const times = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5];
        times.forEach((t, n) => (spent[n] = (spent[n] as number) + t));
        canonicalBytes = bytes.length;
      }
      calls += 32;
    }
    if (record) steps.forEach((step, n) => slices[step].push(((spent[n] as number) * 1000) / calls));
  };
  const stepCost = (step: (typeof steps)[number]): StepCost => {
    const sorted = [...slices[step]].sort((x, y) => x - y);
    return { us: ((sorted[1] as number) + (sorted[2] as number)) / 2, bestUs: sorted[0] as number };
  };

  // The whole write, sequentially (each awaits its immediate commit), timed in chunks of 64.
  const at = (i: number) => i % VARIANTS;
  const repository = new FhirRepository(memoryStore(patientIds), immediateAnchoring(), {
    masterKeyEncryptionKey: new Uint8Array(randomBytes(32)),
    searchIndexKey,
    maxAttachmentBytes: 1 << 20,
    logger: silentLogger,
    validator: new InlineValidator(searchIndexKey),
  });
  let n = 0;
  const writeOnce = () => repository.write([{ op: 'create', resource: bodies[at(n++)] }]);
  const timeWrites = async (sliceMs: number) => {
    const t0 = performance.now();
    let count = 0;
    let elapsed = 0;
    do {
      for (let j = 0; j < 64; j++) await writeOnce();
      count += 64;
      elapsed = performance.now() - t0;
    } while (elapsed < sliceMs);
    return (count / elapsed) * 1000;
  };
  // Warm both up, then alternate them, so the two see the same machine (other load, CPU frequency).
  pipeline(Math.min(300, ms / 4), false);
  await timeWrites(Math.min(300, ms / 4));
  const rates: number[] = [];
  for (let round = 0; round < 4; round++) {
    pipeline(ms, true);
    rates.push(await timeWrites(ms / 2));
  }
  rates.sort((a, b) => a - b);
  const repositoryWrite = {
    us: 1e6 / (((rates[1] as number) + (rates[2] as number)) / 2),
    bestUs: 1e6 / (rates[3] as number),
  };

  const [jsonParse, validation, indexExtraction, canonicalSha256, encryption, decryption] = steps.map(
    stepCost,
  ) as [StepCost, StepCost, StepCost, StepCost, StepCost, StepCost];
  let hashed = 0;
  const index = extractIndexEntries(stampedCopy(bodies[0] as object, 0), (value) => {
    hashed++;
    return tokenHasher(value);
  });
  return {
    canonicalBytes,
    indexTokens: index.tokens.length,
    hashedTokens: hashed,
    validation,
    canonicalSha256,
    indexExtraction,
    encryption,
    repositoryWrite,
    decryption,
    jsonParse,
  };
}
