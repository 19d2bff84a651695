import { uuidv7 } from '../core/uuidv7.js';
import type { Resource } from '@medplum/fhirtypes';
import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { CareLedgerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { sha256 } from '../core/sha256.js';
import {
  decryptPayload,
  encryptPayload,
  generateDataKey,
  hmacToken,
  unwrapDataKey,
  wrapDataKey,
} from '../crypto/index.js';
import { fhirErrors } from './fhirErrors.js';
import type { CurrentResource, FhirStore, RecordAnchoring, StoredVersion, VersionWrite } from './ports.js';
import { extractIndexEntries, parseSearchQuery, type SearchQuery } from './search/index.js';
import { FHIR_ID_RE, isSupportedResourceType, SUPPORTED_RESOURCE_TYPES } from './supportedTypes.js';
import { PATIENT_REFERENCE_PATH } from './search/searchParameters.js';
import { patientReferenceToken } from './search/tokenScheme.js';
import type { CheckedResource, ResourceValidator } from './validation/resourceValidator.js';
import { invalidResource } from './validateFhirResource.js';
import { tombstoneOf } from './versionContentResolver.js';

/** One current resource of a patient as stored, with the anchoring record of its version. */
export interface PatientRecordEntry {
  resourceType: string;
  id: string;
  version: number;
  /** Canonical JSON, exactly the anchored bytes. */
  json: string;
  recordId: number;
}

/** One write of a (possibly multi-resource, atomic) write request. */
export type WriteOperation =
  | { op: 'create'; resource: unknown; id?: string }
  | { op: 'update'; resourceType: string; id: string; resource: unknown; ifMatch?: string | undefined }
  | { op: 'delete'; resourceType: string; id: string };

export interface WriteResult {
  resourceType: string;
  id: string;
  version: number;
  lastUpdated: number;
  /** True for a create (also an update that created the resource). */
  created: boolean;
  /** The stored JSON (canonical, RFC 8785), null for a delete. */
  json: string | null;
  /** False when a delete found the resource already deleted (nothing was written). */
  changed: boolean;
}

export interface FhirRepositoryOptions {
  masterKeyEncryptionKey: Uint8Array;
  searchIndexKey: Uint8Array;
  maxAttachmentBytes: number;
  logger: Logger;
  /** Runs FHIR validation (in-process, or on worker threads: see ValidationPool). */
  validator: ResourceValidator;
}

interface Prepared {
  result: WriteResult;
  write: VersionWrite;
  kind: string;
  reservationKey: string;
}

const ORGANIZATION_KEY = 'organization';
/** A write's resource as checked before it is prepared (see checkAll). */
interface PreChecked {
  id: string;
  version: number;
  checked: CheckedResource;
}

/** The resource as stored: the client's JSON with the server's id, versionId and lastUpdated. */
function stampResource(
  body: Record<string, unknown>,
  id: string,
  version: number,
  now: number,
): Record<string, unknown> & { id: string; meta: Record<string, unknown> } {
  const meta =
    typeof body.meta === 'object' && body.meta !== null ? (body.meta as Record<string, unknown>) : {};
  return {
    ...body,
    id,
    meta: { ...meta, versionId: String(version), lastUpdated: new Date(now).toISOString() },
  };
}
const patientKeyId = (patientId: string) => `patient:${patientId}`;
const aadOf = (type: string, id: string, version: number) =>
  new TextEncoder().encode(`${type}/${id}/_history/${version}`);

/**
 * The encrypted FHIR record store: every version is validated, stamped (versionId, lastUpdated), serialised as
 * canonical JSON (RFC 8785), hashed for anchoring, sealed with AES-256-GCM under its patient's data key, and
 * written in the same transaction as its anchoring record. Nothing here knows HTTP or SQL.
 */
export class FhirRepository {
  private readonly store: FhirStore;
  private readonly anchoring: RecordAnchoring;
  private readonly options: FhirRepositoryOptions;
  /** Unwrapped data keys; dropped on erasure. */
  private readonly dataKeys = new Map<string, Uint8Array>();
  /** Data keys created by writes not yet committed: written with the first commit that uses them. */
  private readonly newKeys = new Map<string, Uint8Array>();
  /** Highest version handed out per resource by writes still in flight. */
  private readonly reserved = new Map<string, number>();
  private readonly tokenHasher: (value: string) => Uint8Array;
  /** `Type/id` of every resource the request being prepared creates or updates (references among them resolve). */
  private writingNow = new Set<string>();

  constructor(store: FhirStore, anchoring: RecordAnchoring, options: FhirRepositoryOptions) {
    this.store = store;
    this.anchoring = anchoring;
    this.options = options;
    this.tokenHasher = (value) => hmacToken(options.searchIndexKey, value);
  }

  /** Writes all operations atomically (all or none); resolves once they are durable. */
  async write(operations: WriteOperation[]): Promise<WriteResult[]> {
    const now = Date.now();
    // Validation runs first (possibly on another thread); everything after it up to the commit is synchronous, so
    // no other write can interleave with the checks, reservations and version numbers below.
    const validation = await this.checkAll(operations, now);
    const seen = new Set<string>();
    const prepared: Prepared[] = [];
    this.writingNow = new Set(
      operations.flatMap((o) =>
        o.op === 'update'
          ? [`${o.resourceType}/${o.id}`]
          : o.op === 'create' && o.id && typeof o.resource === 'object' && o.resource !== null
            ? [`${String((o.resource as { resourceType?: unknown }).resourceType)}/${o.id}`]
            : [],
      ),
    );
    try {
      for (const [operationIndex, operation] of operations.entries()) {
        const p = this.prepareOrName(
          operation,
          now,
          operationIndex,
          operations.length,
          validation[operationIndex],
        );
        if (seen.has(p.reservationKey)) {
          throw fhirErrors.badRequest(`${p.reservationKey} is written more than once in one request.`);
        }
        seen.add(p.reservationKey);
        if (p.result.changed) this.reserved.set(p.reservationKey, p.result.version);
        prepared.push(p);
      }
      const changes = prepared.filter((p) => p.result.changed);
      if (changes.length > 0) {
        const keysToStore = [...new Set(changes.map((p) => p.write.version.keyId))].filter((k) =>
          this.newKeys.has(k),
        );
        await this.anchoring.appendHashes(
          changes.map((p) => ({ kind: p.kind, contentHash: p.write.version.contentHash })),
          (receipts) => {
            this.store.insertKeys(
              keysToStore.map((keyId) => ({
                keyId,
                wrappedKey: wrapDataKey(
                  this.options.masterKeyEncryptionKey,
                  this.newKeys.get(keyId) as Uint8Array,
                  keyId,
                ),
                createdAt: now,
              })),
            );
            this.store.writeVersions(
              changes.map((p, i) => ({
                ...p.write,
                version: { ...p.write.version, recordId: (receipts[i] as { id: number }).id },
              })),
            );
          },
        );
        for (const keyId of keysToStore) this.newKeys.delete(keyId);
      }
      return prepared.map((p) => p.result);
    } finally {
      for (const p of prepared) {
        if (this.reserved.get(p.reservationKey) === p.result.version) this.reserved.delete(p.reservationKey);
      }
    }
  }

  /** The Patient a resource belongs to (null: none; undefined: no such resource), for compartment checks. */
  patientOf(resourceType: string, id: string): string | null | undefined {
    this.assertType(resourceType);
    const current = this.store.getCurrent(resourceType, id);
    return current ? current.patientId : undefined;
  }

  /** The current version of a resource as stored (canonical JSON). */
  read(resourceType: string, id: string): { json: string; current: CurrentResource } {
    this.assertType(resourceType);
    const found = this.store.getCurrentWithVersion(resourceType, id);
    if (!found) throw fhirErrors.notFound(`${resourceType}/${id}`);
    const { current, version } = found;
    this.assertNotErased(current.keyId, `${resourceType}/${id}`);
    if (current.deleted)
      throw fhirErrors.gone(`${resourceType}/${id}`, `was deleted (version ${current.version})`);
    return { json: this.decrypt(version), current };
  }

  /** One version, as stored. */
  vread(resourceType: string, id: string, version: number): { json: string; stored: StoredVersion } {
    this.assertType(resourceType);
    const stored =
      Number.isSafeInteger(version) && version > 0
        ? this.store.getVersion(resourceType, id, version)
        : undefined;
    if (!stored) throw fhirErrors.notFound(`${resourceType}/${id}/_history/${version}`);
    this.assertNotErased(stored.keyId, `${resourceType}/${id}`);
    if (stored.deleted) throw fhirErrors.gone(`${resourceType}/${id}/_history/${version}`, 'is a deletion');
    return { json: this.decrypt(stored), stored };
  }

  /** Versions newest first, with their JSON (null for deletions and for erased patients). */
  history(
    resourceType: string,
    id: string | undefined,
    count: number,
    offset: number,
  ): { entries: { stored: StoredVersion; json: string | null }[]; total: number } {
    this.assertType(resourceType);
    if (id !== undefined && !this.store.getCurrent(resourceType, id))
      throw fhirErrors.notFound(`${resourceType}/${id}`);
    const { versions, total } = this.store.history(resourceType, id, count, offset);
    return {
      total,
      entries: versions.map((stored) => ({
        stored,
        json: stored.deleted || this.isErased(stored.keyId) ? null : this.decrypt(stored),
      })),
    };
  }

  /** Parses FHIR search parameters for `resourceType` (strict unless lenient) into a query. */
  parseSearch(
    resourceType: string,
    params: Record<string, string | string[] | undefined>,
    lenient = false,
  ): SearchQuery {
    this.assertType(resourceType);
    return parseSearchQuery(resourceType as SearchQuery['resourceType'], params, this.tokenHasher, {
      lenient,
      codeSystems: (param) => this.store.codeSystems(resourceType, param),
    });
  }

  /** Current resources matching a query, with their JSON. */
  search(query: SearchQuery): {
    matches: { current: CurrentResource; json: string; recordId: number }[];
    total: number;
  } {
    this.assertType(query.resourceType);
    const { resources, total } = this.store.search(query);
    return {
      total,
      matches: resources.map((current) => {
        const stored = this.store.getVersion(
          current.resourceType,
          current.id,
          current.version,
        ) as StoredVersion;
        return { current, json: this.decrypt(stored), recordId: stored.recordId };
      }),
    };
  }

  /**
   * Every current resource of a patient, as stored: the Patient and everything in their compartment (what a
   * cross-gateway `$everything` answers with, before the consent check). Erased patients have none.
   */
  patientRecord(patientId: string): PatientRecordEntry[] {
    if (!FHIR_ID_RE.test(patientId)) throw fhirErrors.badRequest(`"${patientId}" is not a valid FHIR id.`);
    const out: PatientRecordEntry[] = [];
    const page = 500;
    for (const resourceType of SUPPORTED_RESOURCE_TYPES) {
      const narrowing: Partial<SearchQuery> | null =
        resourceType === 'Patient'
          ? { ids: [patientId] }
          : PATIENT_REFERENCE_PATH[resourceType] === null
            ? null
            : { tokenConditions: [{ param: 'patient', anyOf: [patientReferenceToken(patientId)] }] };
      if (narrowing === null) continue;
      for (let offset = 0; ; offset += page) {
        const query: SearchQuery = {
          resourceType,
          lastUpdated: [],
          tokenConditions: [],
          dateConditions: [],
          count: page,
          offset,
          sort: '_id',
          ignored: [],
          ...narrowing,
        };
        const { matches } = this.search(query);
        for (const m of matches) {
          out.push({
            resourceType,
            id: m.current.id,
            version: m.current.version,
            json: m.json,
            recordId: m.recordId,
          });
        }
        if (matches.length < page) break;
      }
    }
    return out;
  }

  /**
   * Seals bytes under a patient's data key, for data kept beside the patient's records (copies received from other
   * gateways), so that erasing the patient shreds it too. The patient must have data here.
   */
  sealForPatient(patientId: string, aad: string, bytes: Uint8Array): { keyId: string; payload: Uint8Array } {
    const keyId = patientKeyId(patientId);
    const row = this.store.getKey(keyId);
    if (!row) throw fhirErrors.notFound(`Patient/${patientId} (no data held)`);
    this.assertNotErased(keyId, `Patient/${patientId}`);
    return { keyId, payload: encryptPayload(this.dataKey(keyId), bytes, new TextEncoder().encode(aad)) };
  }

  /** Opens what `sealForPatient` sealed; 410 once the patient was erased. */
  openForPatient(keyId: string, aad: string, payload: Uint8Array): Uint8Array {
    this.assertNotErased(keyId, keyId.replace(/^patient:/, 'Patient/'));
    return decryptPayload(this.dataKey(keyId), payload, new TextEncoder().encode(aad));
  }

  /** The anchoring proof of the version anchored by `recordId` (see `patientRecord`). */
  proofOfRecord(recordId: number): unknown {
    return this.anchoring.getProof(recordId);
  }

  /** The anchoring proof of one version; its `record` is the version's canonical JSON. */
  proof(resourceType: string, id: string, version: number): unknown {
    this.assertType(resourceType);
    const stored = this.store.getVersion(resourceType, id, version);
    if (!stored) throw fhirErrors.notFound(`${resourceType}/${id}/_history/${version}`);
    return this.anchoring.getProof(stored.recordId);
  }

  /**
   * Crypto-shredding: destroys the patient's data key, so every version of every resource of theirs becomes
   * unreadable for good; their search index goes too. Anchored hashes remain (they prove existence, reveal nothing).
   */
  async erasePatient(patientId: string): Promise<{ resources: number }> {
    if (!FHIR_ID_RE.test(patientId)) throw fhirErrors.badRequest(`"${patientId}" is not a valid FHIR id.`);
    const keyId = patientKeyId(patientId);
    const key = this.store.getKey(keyId);
    if (!key) throw fhirErrors.notFound(`Patient/${patientId} (no data held)`);
    if (key.erasedAt !== null)
      throw fhirErrors.gone(
        `Patient/${patientId}`,
        `was already erased at ${new Date(key.erasedAt).toISOString()}`,
      );
    const resources = this.store.eraseKey(keyId, Date.now());
    this.dataKeys.delete(keyId);
    this.newKeys.delete(keyId);
    // Acknowledge only an erasure that a power cut cannot undo.
    await this.anchoring.whenDurable();
    this.options.logger.info({ patientId, resources }, 'patient data key destroyed (crypto-shredding)');
    return { resources };
  }

  /**
   * Checks every resource to be written exactly as it will be stored: with its id (a create's server id is assigned
   * here) and the meta of the version it should become. Validation does not depend on the version, but the
   * canonical JSON and index that come back with it do: prepare() uses them only if the version is still the one
   * expected here (another write may have taken it meanwhile), else redoes those two steps itself.
   */
  private async checkAll(operations: WriteOperation[], now: number): Promise<(PreChecked | undefined)[]> {
    const checks: { operationIndex: number; pre: Omit<PreChecked, 'checked'>; stamped: unknown }[] = [];
    for (const [operationIndex, operation] of operations.entries()) {
      if (operation.op === 'delete') continue;
      const body = operation.resource;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) continue;
      const type =
        operation.op === 'create'
          ? (body as { resourceType?: unknown }).resourceType
          : operation.resourceType;
      if (typeof type !== 'string' || !isSupportedResourceType(type)) continue;
      const serverId = operation.op === 'create' && operation.id === undefined;
      const id = serverId ? uuidv7() : (operation.id as string);
      const version = serverId ? 1 : this.latestVersion(type, id, this.store.getCurrent(type, id)) + 1;
      checks.push({
        operationIndex,
        pre: { id, version },
        stamped: stampResource(body as Record<string, unknown>, id, version, now),
      });
    }
    const checked = await this.options.validator.validateMany(checks.map((c) => c.stamped));
    const byOperation: (PreChecked | undefined)[] = new Array(operations.length);
    checks.forEach(
      (c, k) => (byOperation[c.operationIndex] = { ...c.pre, checked: checked[k] as CheckedResource }),
    );
    return byOperation;
  }

  /** Prepares one operation; in a multi-operation write, a failure says which operation it was. */
  private prepareOrName(
    operation: WriteOperation,
    now: number,
    index: number,
    of: number,
    pre: PreChecked | undefined,
  ): Prepared {
    try {
      return this.prepare(operation, now, pre);
    } catch (error) {
      if (of > 1 && error instanceof CareLedgerError) {
        throw new CareLedgerError(error.code, error.message, {
          status: error.status,
          issueType: error.issueType,
          details: { ...(error.details ?? {}), operationIndex: index },
          cause: error,
        });
      }
      throw error;
    }
  }

  private prepare(operation: WriteOperation, now: number, pre: PreChecked | undefined): Prepared {
    if (operation.op === 'delete') return this.prepareDelete(operation.resourceType, operation.id, now);
    const resource = operation.resource;
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      throw fhirErrors.badRequest('The body must be a FHIR resource: a JSON object with a resourceType.');
    }
    const body = resource as Record<string, unknown>;
    const resourceType = operation.op === 'create' ? body.resourceType : operation.resourceType;
    if (typeof body.resourceType !== 'string')
      throw fhirErrors.badRequest('The resource has no resourceType.', 'resourceType');
    this.assertType(String(resourceType));
    const type = String(resourceType);
    if (body.resourceType !== type) {
      throw fhirErrors.badRequest(
        `The body is a ${String(body.resourceType)}, but the URL is for ${type}.`,
        'resourceType',
      );
    }
    let id: string;
    if (operation.op === 'create') {
      id = operation.id ?? pre?.id ?? uuidv7();
    } else {
      id = operation.id;
      if (!FHIR_ID_RE.test(id))
        throw fhirErrors.badRequest(`"${id}" is not a valid FHIR id (1–64 letters, digits, '-' or '.').`);
      if (body.id !== id)
        throw fhirErrors.badRequest(
          `The resource id (${String(body.id)}) must match the id in the URL (${id}).`,
          `${type}.id`,
        );
    }
    // A server-assigned id is new (UUIDv7, made here): nothing to look up.
    const existing =
      operation.op === 'create' && operation.id === undefined ? undefined : this.store.getCurrent(type, id);
    if (existing) this.assertNotErased(existing.keyId, `${type}/${id}`);
    const previous = this.latestVersion(type, id, existing);
    if (operation.op === 'update' && operation.ifMatch !== undefined) {
      const expected = parseWeakEtag(operation.ifMatch);
      if (expected === null)
        throw fhirErrors.badRequest(
          `If-Match must be a version ETag such as W/"3", not ${operation.ifMatch}.`,
        );
      if (expected !== previous) {
        throw fhirErrors.preconditionFailed(
          `${type}/${id} is at version ${previous || 'none'}, not ${expected}: it changed since you read it.`,
        );
      }
    }
    const version = previous + 1;
    const stamped = stampResource(body, id, version, now);
    const raw: Record<string, unknown> = stamped;
    if (pre === undefined) throw new Error(`${type}/${id} reached prepare() without being validated`);
    if (pre.checked.issues.length > 0) throw invalidResource(pre.checked.issues);
    // The checker's canonical JSON and index are of this very stamp unless another write took the version.
    const ready = pre.id === id && pre.version === version ? pre.checked : null;
    this.checkAttachments(raw);
    this.checkReferences(raw);

    const index = ready?.index ?? extractIndexEntries(stamped as unknown as Resource, this.tokenHasher);
    // Medplum's syntax check lets impossible calendar dates through (1970-02-30); they could not be searched.
    const badDate = index.skipped.find((skip) => /date|Period|Timing/.test(skip.reason));
    if (badDate) {
      throw fhirErrors.badRequest(
        `The ${type}'s "${badDate.param}" value is ${badDate.reason} (for example a day that does not exist).`,
      );
    }
    const keyId = index.patientId ? patientKeyId(index.patientId) : ORGANIZATION_KEY;
    if (this.isErased(keyId))
      throw fhirErrors.gone(`Patient/${index.patientId}`, 'was erased; no data can be stored for them');
    const bytes = ready?.canonical ?? canonicalJsonBytes(stamped);
    const payload = encryptPayload(this.dataKey(keyId), bytes, aadOf(type, id, version));
    return {
      kind: `fhir.${type}`,
      reservationKey: `${type}/${id}`,
      result: {
        resourceType: type,
        id,
        version,
        lastUpdated: now,
        created: previous === 0,
        json: new TextDecoder().decode(bytes),
        changed: true,
      },
      write: {
        patientId: index.patientId,
        index: { tokens: index.tokens, dates: index.dates, systems: index.systems },
        version: {
          resourceType: type,
          id,
          version,
          lastUpdated: now,
          deleted: false,
          keyId,
          payload,
          contentHash: sha256(bytes),
          recordId: 0,
        },
      },
    };
  }

  private prepareDelete(resourceType: string, id: string, now: number): Prepared {
    this.assertType(resourceType);
    const current = this.store.getCurrent(resourceType, id);
    if (!current) throw fhirErrors.notFound(`${resourceType}/${id}`);
    this.assertNotErased(current.keyId, `${resourceType}/${id}`);
    const previous = this.latestVersion(resourceType, id, current);
    const version = previous + 1;
    const alreadyDeleted = current.deleted && !this.reserved.has(`${resourceType}/${id}`);
    const tombstone = tombstoneOf({ resourceType, id, version, lastUpdated: now });
    return {
      kind: `fhir.deleted.${resourceType}`,
      reservationKey: `${resourceType}/${id}`,
      result: {
        resourceType,
        id,
        version: alreadyDeleted ? current.version : version,
        lastUpdated: now,
        created: false,
        json: null,
        changed: !alreadyDeleted,
      },
      write: {
        patientId: current.patientId,
        index: null,
        version: {
          resourceType,
          id,
          version,
          lastUpdated: now,
          deleted: true,
          keyId: current.keyId,
          payload: null,
          contentHash: sha256(canonicalJsonBytes(tombstone)),
          recordId: 0,
        },
      },
    };
  }

  /** The highest version stored (`current`, already looked up) or handed out to a write in flight. */
  private latestVersion(resourceType: string, id: string, current: CurrentResource | undefined): number {
    return Math.max(current?.version ?? 0, this.reserved.get(`${resourceType}/${id}`) ?? 0);
  }

  private assertType(resourceType: string): void {
    if (!isSupportedResourceType(resourceType)) throw fhirErrors.unsupportedType(resourceType);
  }

  private isErased(keyId: string): boolean {
    return (
      !this.dataKeys.has(keyId) && !this.newKeys.has(keyId) && this.store.getKey(keyId)?.erasedAt != null
    );
  }

  private assertNotErased(keyId: string, what: string): void {
    if (this.isErased(keyId)) throw fhirErrors.gone(what, 'belongs to a patient whose data was erased');
  }

  /** The data key for `keyId`: cached, unwrapped from the store, or new (stored with the first commit using it). */
  private dataKey(keyId: string): Uint8Array {
    const cached = this.dataKeys.get(keyId) ?? this.newKeys.get(keyId);
    if (cached) return cached;
    const row = this.store.getKey(keyId);
    if (row?.wrappedKey) {
      const key = unwrapDataKey(this.options.masterKeyEncryptionKey, row.wrappedKey, keyId);
      this.dataKeys.set(keyId, key);
      return key;
    }
    const key = generateDataKey();
    this.newKeys.set(keyId, key);
    return key;
  }

  private decrypt(stored: StoredVersion): string {
    const bytes = decryptPayload(
      this.dataKey(stored.keyId),
      stored.payload as Uint8Array,
      aadOf(stored.resourceType, stored.id, stored.version),
    );
    return new TextDecoder().decode(bytes);
  }

  /** DocumentReference attachments are stored inline; cap their decoded size. */
  private checkAttachments(resource: Record<string, unknown>): void {
    if (resource.resourceType !== 'DocumentReference' || !Array.isArray(resource.content)) return;
    resource.content.forEach((content: { attachment?: { data?: unknown } }, i: number) => {
      const data = content?.attachment?.data;
      if (typeof data !== 'string') return;
      const size = Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
      if (size > this.options.maxAttachmentBytes) {
        throw fhirErrors.tooLarge(
          `The attachment is ${size} bytes; this server accepts attachments up to ${this.options.maxAttachmentBytes} bytes.`,
          `DocumentReference.content[${i}].attachment.data`,
        );
      }
    });
  }

  /** Local references (`Type/id` to a type kept here) must point at a resource that exists and is not deleted. */
  private checkReferences(resource: Record<string, unknown>): void {
    const visit = (value: unknown, path: string): void => {
      if (Array.isArray(value)) return value.forEach((v, i) => visit(v, `${path}[${i}]`));
      if (typeof value !== 'object' || value === null) return;
      for (const [key, child] of Object.entries(value)) {
        if (key === 'reference' && typeof child === 'string' && child.startsWith('urn:uuid:')) {
          // Bundles resolve urn:uuid references to their entries before this point; one left over points nowhere.
          throw fhirErrors.unprocessable(
            `The reference ${child} does not resolve to any entry of this Bundle.`,
            `${path}.reference`,
          );
        }
        if (key === 'reference' && typeof child === 'string') {
          const match = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(child);
          if (match && isSupportedResourceType(match[1])) {
            const [, type, id] = match as unknown as [string, string, string];
            const target = this.store.getCurrent(type, id);
            const pending = this.reserved.has(`${type}/${id}`) || this.writingNow.has(`${type}/${id}`);
            if ((!target || target.deleted) && !pending) {
              throw fhirErrors.unprocessable(
                `The reference ${child} points at a resource that ${target ? 'was deleted' : 'does not exist'} here.`,
                `${path}.reference`,
              );
            }
          }
        } else if (key !== 'contained') {
          visit(child, path ? `${path}.${key}` : key);
        }
      }
    };
    visit(resource, String(resource.resourceType));
  }
}

/** `W/"3"` or `"3"` → 3; anything else → null. */
function parseWeakEtag(value: string): number | null {
  const match = /^(?:W\/)?"(\d+)"$/.exec(value.trim());
  return match ? Number(match[1]) : null;
}
