/**
 * The FHIR R4 API driven by a real FHIR client library (fhir-kit-client) against a real node: every supported
 * type through create/read/update/vread/delete/history, search, transactions and batches, errors, roles and the
 * CapabilityStatement (checked to be truthful: what it lists works).
 */
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import {
  ATTACHMENT_TEXT,
  COMMON_SEARCH_PARAMS,
  FHIR_TYPES,
  LOINC,
  MRN_SYSTEM,
  sampleResource,
  searchProbe,
  SNOMED,
  TYPE_SEARCH_PARAMS,
  type FhirType,
  type SampleRefs,
} from './fhirFixtures.js';

const MAX_ATTACHMENT = 1024;

/** The status and body of a request the client rejected (fhir-kit-client throws on any non-2xx). */
async function failure(
  request: Promise<unknown> | (() => Promise<unknown>),
): Promise<{ status: number; data: any }> {
  try {
    await (typeof request === 'function' ? request() : request);
  } catch (error: any) {
    if (typeof error?.response?.status === 'number')
      return { status: error.response.status, data: error.response.data };
    throw error;
  }
  throw new Error('expected the request to fail, but it succeeded');
}

function headerOf(resource: any, name: string): string | null {
  return Client.httpFor(resource).response?.headers.get(name) ?? null;
}

function statusOf(resource: any): number | undefined {
  return Client.httpFor(resource).response?.status;
}

function expectOutcome(data: any, status?: number): void {
  expect(data?.resourceType, `expected an OperationOutcome${status ? ` (${status})` : ''}`).toBe(
    'OperationOutcome',
  );
  expect(Array.isArray(data.issue) && data.issue.length > 0).toBe(true);
}

/** Everything an OperationOutcome says, for matching. */
const outcomeText = (data: any): string => JSON.stringify(data.issue);

const idsOf = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => e.resource.id as string);

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FHIR API through fhir-kit-client', () => {
  let node: TestNode;
  let client: Client;
  let reader: Client;
  let clinician: Client;
  let anonymous: Client;
  let tagCounter = 0;
  const tag = () => `${Date.now().toString(36)}${(tagCounter++).toString(36)}`;

  const newClient = (token?: string) =>
    new Client({
      baseUrl: `${node.url}/fhir`,
      ...(token ? { customHeaders: { Authorization: `Bearer ${token}` } } : {}),
    });

  const create = async (resource: Record<string, any>): Promise<any> =>
    client.create({ resourceType: resource.resourceType, body: resource as any });

  const search = async (resourceType: string, searchParams: Record<string, any>): Promise<any> =>
    client.search({ resourceType, searchParams });

  const historyTotal = async (resourceType: string): Promise<number> =>
    ((await client.history({ resourceType })) as any).total as number;

  beforeAll(async () => {
    node = await startTestNode({
      FHIR_MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT),
      FHIR_VALIDATION_WORKERS: '2', // the production path: validation on worker threads
    });
    client = newClient(node.token);
    reader = newClient(createApiToken(node.tokens, { name: 'fhir-reader', role: 'reader' }).token);
    clinician = newClient(createApiToken(node.tokens, { name: 'fhir-clinician', role: 'clinician' }).token);
    anonymous = newClient();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  describe('every supported type: create, read, update, vread, search, delete, history', () => {
    const T = tag();
    const created = new Map<FhirType, any>();
    const refs: SampleRefs = { patient: '', practitioner: '', organization: '', encounter: '' };
    const typeHistoryBefore = new Map<FhirType, number>();

    it('creates one resource of each of the 12 types (201, id, versionId 1, ETag, Location)', async () => {
      for (const type of FHIR_TYPES) typeHistoryBefore.set(type, await historyTotal(type));
      for (const type of FHIR_TYPES) {
        const body = sampleResource(type, refs, T);
        const resource = await create(body);
        expect(statusOf(resource), type).toBe(201);
        expect(resource.resourceType).toBe(type);
        expect(resource.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
        expect(resource.meta.versionId).toBe('1');
        expect(Date.parse(resource.meta.lastUpdated)).toBeGreaterThan(Date.now() - 60_000);
        expect(headerOf(resource, 'etag')).toBe('W/"1"');
        expect(headerOf(resource, 'location')).toBe(`${node.url}/fhir/${type}/${resource.id}/_history/1`);
        expect(headerOf(resource, 'last-modified')).toBe(new Date(resource.meta.lastUpdated).toUTCString());
        // What was sent comes back, plus the server's id and meta.
        const { id: _id, meta: _meta, ...rest } = resource;
        expect(rest).toEqual(body);
        created.set(type, resource);
        if (type === 'Patient') refs.patient = resource.id;
        if (type === 'Practitioner') refs.practitioner = resource.id;
        if (type === 'Organization') refs.organization = resource.id;
        if (type === 'Encounter') refs.encounter = resource.id;
      }
    });

    it('reads each back exactly as created', async () => {
      for (const [type, resource] of created) {
        const read = await client.read({ resourceType: type, id: resource.id });
        expect(read, type).toEqual(resource);
        expect(headerOf(read, 'etag')).toBe('W/"1"');
        expect(headerOf(read, 'content-type')).toMatch(/^application\/fhir\+json/);
      }
      const doc = created.get('DocumentReference');
      expect(Buffer.from(doc.content[0].attachment.data, 'base64').toString('utf8')).toBe(ATTACHMENT_TEXT);
    });

    it('finds each by every search parameter it lists, and not by a value it does not have', async () => {
      for (const [type, resource] of created) {
        for (const param of [...COMMON_SEARCH_PARAMS, ...TYPE_SEARCH_PARAMS[type]]) {
          const probe = searchProbe(type, param, {
            id: resource.id,
            lastUpdated: resource.meta.lastUpdated,
            patient: refs.patient,
            tag: T,
          });
          const hit = await search(type, { _id: resource.id, [param]: probe.hit });
          expect(idsOf(hit), `${type}?${param}=${String(probe.hit)}`).toEqual([resource.id]);
          expect(hit.total).toBe(1);
          if (probe.miss !== undefined) {
            const miss = await search(type, { _id: resource.id, [param]: probe.miss });
            expect(miss.total, `${type}?${param}=${probe.miss} must not match`).toBe(0);
          }
        }
      }
    });

    it('updates each with If-Match: version 2, new ETag; vread serves both versions', async () => {
      for (const [type, v1] of created) {
        const body = { ...v1, language: 'en-GB' };
        delete body.meta;
        const v2: any = await client.update({
          resourceType: type,
          id: v1.id,
          body,
          options: { headers: { 'If-Match': 'W/"1"' } },
        });
        expect(statusOf(v2), type).toBe(200);
        expect(v2.meta.versionId).toBe('2');
        expect(v2.language).toBe('en-GB');
        expect(headerOf(v2, 'etag')).toBe('W/"2"');
        expect(headerOf(v2, 'location')).toBe(`${node.url}/fhir/${type}/${v1.id}/_history/2`);
        expect(await client.vread({ resourceType: type, id: v1.id, version: '1' })).toEqual(v1);
        expect(await client.vread({ resourceType: type, id: v1.id, version: '2' })).toEqual(v2);
        expect(await client.read({ resourceType: type, id: v1.id })).toEqual(v2);
        const missing = await failure(client.vread({ resourceType: type, id: v1.id, version: '3' }));
        expect(missing.status).toBe(404);
        expectOutcome(missing.data);
        created.set(type, v2);
      }
    });

    it('deletes each (204): read answers 410, history shows the deletion, old versions stay readable', async () => {
      for (const [type, v2] of created) {
        const deleted = await client.delete({ resourceType: type, id: v2.id });
        expect(statusOf(deleted), type).toBe(204);
        const gone = await failure(client.read({ resourceType: type, id: v2.id }));
        expect(gone.status, type).toBe(410);
        expectOutcome(gone.data);
        expect(gone.data.issue[0].code).toBe('deleted');

        const history: any = await client.history({ resourceType: type, id: v2.id });
        expect(history.resourceType).toBe('Bundle');
        expect(history.type).toBe('history');
        expect(history.total).toBe(3);
        const [del, upd, crt] = history.entry;
        expect(del.resource).toBeUndefined();
        expect(del.request).toEqual({ method: 'DELETE', url: `${type}/${v2.id}` });
        expect(del.response).toMatchObject({ status: '204', etag: 'W/"3"' });
        expect(upd.resource).toEqual(v2);
        expect(upd.request).toEqual({ method: 'PUT', url: `${type}/${v2.id}` });
        expect(upd.response).toMatchObject({ status: '200', etag: 'W/"2"' });
        expect(crt.resource.meta.versionId).toBe('1');
        expect(crt.request).toEqual({ method: 'POST', url: type });
        expect(crt.response).toMatchObject({ status: '201', etag: 'W/"1"' });

        expect(await client.vread({ resourceType: type, id: v2.id, version: '2' })).toEqual(v2);
        const tomb = await failure(client.vread({ resourceType: type, id: v2.id, version: '3' }));
        expect(tomb.status).toBe(410);
        // Deleted resources are not found by search.
        expect((await search(type, { _id: v2.id })).total).toBe(0);
      }
    });

    it('type history lists every version of the type, newest first', async () => {
      for (const [type, resource] of created) {
        const history: any = await client.history({ resourceType: type });
        expect(history.total, type).toBe((typeHistoryBefore.get(type) ?? 0) + 3);
        const first = history.entry[0];
        expect(first.fullUrl).toBe(`${node.url}/fhir/${type}/${resource.id}`);
        expect(first.request.method).toBe('DELETE');
        const stamps = history.entry.map((e: any) => Date.parse(e.response.lastModified));
        expect(stamps).toEqual([...stamps].sort((a: number, b: number) => b - a));
      }
    });
  });

  describe('search', () => {
    const T = tag();
    let patient: any;
    let twin: any;
    const dated: any[] = [];

    beforeAll(async () => {
      patient = await create({
        resourceType: 'Patient',
        identifier: [{ system: MRN_SYSTEM, value: `MRN-${T}` }],
        name: [{ family: `Searchable${T}`, given: ['Ada'] }],
        birthDate: '1970-05-06',
      });
      twin = await create({
        resourceType: 'Patient',
        identifier: [{ system: MRN_SYSTEM, value: `MRN-${T}-twin` }],
        name: [{ family: `Searchable${T}`, given: ['Ida'] }],
        birthDate: '1981-11-30',
      });
      const observations: [string, string][] = [
        ['8867-4', '2024-01-10T08:00:00Z'],
        ['8310-5', '2024-02-15T08:00:00Z'],
        ['8867-4', '2024-03-20T08:00:00Z'],
      ];
      for (const [code, when] of observations) {
        dated.push(
          await create({
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: LOINC, code }] },
            subject: { reference: `Patient/${patient.id}` },
            effectiveDateTime: when,
          }),
        );
      }
    });

    it('by _id (one or several)', async () => {
      const [a, b, c] = dated;
      expect(idsOf(await search('Observation', { _id: a.id }))).toEqual([a.id]);
      expect(new Set(idsOf(await search('Observation', { _id: `${a.id},${c.id}` })))).toEqual(
        new Set([a.id, c.id]),
      );
      expect((await search('Observation', { _id: 'does-not-exist' })).total).toBe(0);
      expect(b).toBeDefined();
    });

    it('by patient and subject', async () => {
      const expected = new Set(dated.map((o) => o.id));
      for (const params of [
        { patient: patient.id },
        { patient: `Patient/${patient.id}` },
        { subject: `Patient/${patient.id}` },
      ]) {
        const bundle = await search('Observation', params);
        expect(bundle.type).toBe('searchset');
        expect(bundle.total).toBe(3);
        expect(new Set(idsOf(bundle))).toEqual(expected);
        for (const e of bundle.entry) {
          expect(e.search).toEqual({ mode: 'match' });
          expect(e.fullUrl).toBe(`${node.url}/fhir/Observation/${e.resource.id}`);
        }
      }
      expect((await search('Observation', { patient: twin.id })).total).toBe(0);
    });

    it('by code (system|code, code alone, wrong system)', async () => {
      const [jan, feb, mar] = dated;
      const byCode = async (code: string) =>
        new Set(idsOf(await search('Observation', { patient: patient.id, code })));
      expect(await byCode(`${LOINC}|8310-5`)).toEqual(new Set([feb.id]));
      expect(await byCode(`${LOINC}|8867-4`)).toEqual(new Set([jan.id, mar.id]));
      expect(await byCode('8867-4')).toEqual(new Set([jan.id, mar.id]));
      expect(await byCode(`${LOINC}|8867-4,${LOINC}|8310-5`)).toEqual(new Set([jan.id, feb.id, mar.id]));
      expect(await byCode(`${SNOMED}|8867-4`)).toEqual(new Set());
    });

    it('by date ranges (ge, lt, both)', async () => {
      const [jan, feb, mar] = dated;
      const byDate = async (date: string | string[]) =>
        new Set(idsOf(await search('Observation', { patient: patient.id, date })));
      expect(await byDate(['ge2024-02-01', 'lt2024-03-01'])).toEqual(new Set([feb.id]));
      expect(await byDate('ge2024-02-01')).toEqual(new Set([feb.id, mar.id]));
      expect(await byDate('lt2024-02-01')).toEqual(new Set([jan.id]));
      expect(await byDate('ge2024-03-20T08:00:00Z')).toEqual(new Set([mar.id]));
      expect(await byDate('lt2023-01-01')).toEqual(new Set());
      expect(await byDate('eq2024-02')).toEqual(new Set([feb.id]));
    });

    it('by _lastUpdated', async () => {
      const first = await create({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'before' },
        subject: { reference: `Patient/${twin.id}` },
      });
      await wait(5);
      const mid = new Date().toISOString();
      await wait(5);
      const second = await create({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'after' },
        subject: { reference: `Patient/${twin.id}` },
      });
      expect(first.meta.lastUpdated < mid && mid < second.meta.lastUpdated).toBe(true);
      const since = await search('Observation', { patient: twin.id, _lastUpdated: `ge${mid}` });
      expect(idsOf(since)).toEqual([second.id]);
      const before = await search('Observation', { patient: twin.id, _lastUpdated: `lt${mid}` });
      expect(idsOf(before)).toEqual([first.id]);
      const exact = await search('Observation', {
        _lastUpdated: `eq${second.meta.lastUpdated}`,
        _id: second.id,
      });
      expect(idsOf(exact)).toEqual([second.id]);
    });

    it('by identifier (system|value and value)', async () => {
      expect(idsOf(await search('Patient', { identifier: `${MRN_SYSTEM}|MRN-${T}` }))).toEqual([patient.id]);
      expect(idsOf(await search('Patient', { identifier: `MRN-${T}` }))).toEqual([patient.id]);
      expect((await search('Patient', { identifier: `urn:other|MRN-${T}` })).total).toBe(0);
      expect((await search('Patient', { identifier: `${MRN_SYSTEM}|MRN-${T}-nobody` })).total).toBe(0);
    });

    it('Patient by name and birthdate', async () => {
      const both = await search('Patient', { name: `searchable${T}` });
      expect(new Set(idsOf(both))).toEqual(new Set([patient.id, twin.id]));
      expect(idsOf(await search('Patient', { name: `Searchable${T}`, birthdate: '1970-05-06' }))).toEqual([
        patient.id,
      ]);
      expect(idsOf(await search('Patient', { name: `Searchable${T}`, birthdate: 'ge1980-01-01' }))).toEqual([
        twin.id,
      ]);
      expect(idsOf(await search('Patient', { given: 'ida', family: `Searchable${T}` }))).toEqual([twin.id]);
      expect((await search('Patient', { name: `Searchable${T}`, birthdate: '1999-01-01' })).total).toBe(0);
    });

    it('POST [type]/_search answers like GET', async () => {
      const posted: any = await client.search({
        resourceType: 'Observation',
        searchParams: { patient: patient.id, code: `${LOINC}|8310-5` },
        options: { postSearch: true },
      });
      expect(idsOf(posted)).toEqual([dated[1].id]);
    });

    it('_count pages: following next links to the end yields every match once', async () => {
      const pager = await create({ resourceType: 'Patient', name: [{ family: `Pager${T}` }] });
      const made: string[] = [];
      for (let i = 0; i < 7; i++) {
        const o = await create({
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: LOINC, code: '29463-7' }] },
          subject: { reference: `Patient/${pager.id}` },
          effectiveDateTime: `2024-04-0${i + 1}`,
        });
        made.push(o.id);
        await wait(2); // distinct lastUpdated, so the sort order below is fully determined
      }
      let page: any = await search('Observation', { patient: pager.id, _count: 3 });
      expect(page.total).toBe(7);
      expect(page.link.find((l: any) => l.relation === 'previous')).toBeUndefined();
      const seen: string[] = [];
      const sizes: number[] = [];
      for (let guard = 0; page && guard < 10; guard++) {
        seen.push(...idsOf(page));
        sizes.push(page.entry.length);
        const next = page.link.find((l: any) => l.relation === 'next');
        if (next) {
          expect(next.url).toContain(`patient=${pager.id}`);
          expect(next.url).toContain('_count=3');
        }
        page = await client.nextPage({ bundle: page });
        if (page) expect(page.link.find((l: any) => l.relation === 'previous')).toBeDefined();
      }
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toHaveLength(7);
      expect(new Set(seen)).toEqual(new Set(made));

      // _count=0: the total only, and no next link to follow forever.
      const countOnly: any = await search('Observation', { patient: pager.id, _count: 0 });
      expect(countOnly.total).toBe(7);
      expect(countOnly.entry ?? []).toEqual([]);
      expect(countOnly.link.find((l: any) => l.relation === 'next')).toBeUndefined();

      // _sort=-_lastUpdated: newest first; the default is oldest first.
      const newest: any = await search('Observation', { patient: pager.id, _sort: '-_lastUpdated' });
      const stamps = newest.entry.map((e: any) => e.resource.meta.lastUpdated as string);
      expect(stamps).toEqual([...stamps].sort().reverse());
      expect(newest.entry[0].resource.id).toBe(made[6]);
      const oldest: any = await search('Observation', { patient: pager.id, _sort: '_lastUpdated' });
      expect(idsOf(oldest)).toEqual(made);

      // History pages the same way.
      let hist: any = await client.request(`Observation/${made[0]}/_history?_count=1`);
      expect(hist.total).toBe(1);
      expect(hist.link.find((l: any) => l.relation === 'next')).toBeUndefined();
      hist = await client.request(`Observation/_history?_count=2`);
      expect(hist.entry).toHaveLength(2);
      expect(hist.link.find((l: any) => l.relation === 'next').url).toContain('_offset=2');
    });

    it('rejects unknown parameters and bad values with 400 OperationOutcome', async () => {
      for (const params of [
        { gender: 'female' },
        { birthdate: 'yesterday' },
        { _count: 'many' },
        { _sort: 'name' },
        { patient: 'not/a/patient' },
      ]) {
        const res = await failure(search('Patient', params));
        expect(res.status, JSON.stringify(params)).toBe(400);
        expectOutcome(res.data);
      }
      const unknownType = await failure(client.request('Medication?code=1'));
      expect(unknownType.status).toBe(404);
      expectOutcome(unknownType.data);
    });
  });

  describe('transaction and batch Bundles', () => {
    it('stores a transaction atomically and rewrites urn:uuid references to the ids it assigned', async () => {
      const T = tag();
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:0c3a4f3e-0000-4000-8000-000000000001',
            resource: { resourceType: 'Patient', name: [{ family: `Txn${T}` }] },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: 'urn:uuid:0c3a4f3e-0000-4000-8000-000000000002',
            resource: {
              resourceType: 'Encounter',
              status: 'finished',
              class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
              subject: { reference: 'urn:uuid:0c3a4f3e-0000-4000-8000-000000000001' },
            },
            request: { method: 'POST', url: 'Encounter' },
          },
          ...['8867-4', '8310-5'].map((code, i) => ({
            fullUrl: `urn:uuid:0c3a4f3e-0000-4000-8000-00000000001${i}`,
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { coding: [{ system: LOINC, code }] },
              subject: { reference: 'urn:uuid:0c3a4f3e-0000-4000-8000-000000000001' },
              encounter: { reference: 'urn:uuid:0c3a4f3e-0000-4000-8000-000000000002' },
            },
            request: { method: 'POST', url: 'Observation' },
          })),
        ],
      };
      const response: any = await client.transaction({ body: bundle });
      expect(response.resourceType).toBe('Bundle');
      expect(response.type).toBe('transaction-response');
      expect(response.entry).toHaveLength(4);
      for (const e of response.entry) {
        expect(e.response.status).toBe('201 Created');
        expect(e.response.etag).toBe('W/"1"');
        expect(e.response.location).toBe(
          `${node.url}/fhir/${e.resource.resourceType}/${e.resource.id}/_history/1`,
        );
      }
      const [p, enc, o1, o2] = response.entry.map((e: any) => e.resource);
      for (const o of [o1, o2]) {
        const stored: any = await client.read({ resourceType: 'Observation', id: o.id });
        expect(stored.subject.reference).toBe(`Patient/${p.id}`);
        expect(stored.encounter.reference).toBe(`Encounter/${enc.id}`);
      }
      const storedEncounter: any = await client.read({ resourceType: 'Encounter', id: enc.id });
      expect(storedEncounter.subject.reference).toBe(`Patient/${p.id}`);
      expect(idsOf(await search('Patient', { family: `Txn${T}` }))).toEqual([p.id]);
      expect(new Set(idsOf(await search('Observation', { patient: p.id })))).toEqual(new Set([o1.id, o2.id]));
      expect(idsOf(await search('Encounter', { subject: `Patient/${p.id}` }))).toEqual([enc.id]);
    });

    async function expectNothingStored(family: string, totals: Map<string, number>) {
      expect((await search('Patient', { family })).total).toBe(0);
      for (const [type, before] of totals) expect(await historyTotal(type), type).toBe(before);
    }

    async function totalsOf(...types: string[]) {
      const totals = new Map<string, number>();
      for (const type of types) totals.set(type, await historyTotal(type));
      return totals;
    }

    it('fails a transaction with one invalid entry, naming Bundle.entry[i], and stores nothing', async () => {
      const T = tag();
      const patientUrl = 'urn:uuid:7d1b7a8e-0000-4000-8000-000000000001';
      const good = (i: number) => ({
        fullUrl: `urn:uuid:7d1b7a8e-0000-4000-8000-00000000010${i}`,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: LOINC, code: '8867-4' }] },
          subject: { reference: patientUrl },
        },
        request: { method: 'POST', url: 'Observation' },
      });
      const patient = {
        fullUrl: patientUrl,
        resource: { resourceType: 'Patient', name: [{ family: `Atomic${T}` }] },
        request: { method: 'POST', url: 'Patient' },
      };
      const invalid: [string, any, number][] = [
        [
          'an invalid date',
          { ...good(9), resource: { ...good(9).resource, effectiveDateTime: 'the day before yesterday' } },
          400,
        ],
        [
          'an unknown element',
          { ...good(9), resource: { ...good(9).resource, favouriteColour: 'blue' } },
          400,
        ],
        [
          'a reference to a resource that does not exist',
          {
            ...good(9),
            resource: { ...good(9).resource, subject: { reference: 'Patient/no-such-patient' } },
          },
          422,
        ],
        [
          'a resource posted to another type',
          { ...good(9), request: { method: 'POST', url: 'Condition' } },
          400,
        ],
        [
          'a read of a resource that does not exist',
          { request: { method: 'GET', url: 'Patient/nobody' } },
          404,
        ],
        ['an unsupported method', { ...good(9), request: { method: 'PATCH', url: 'Observation/x' } }, 400],
      ];
      for (const [what, bad, status] of invalid) {
        const totals = await totalsOf('Patient', 'Observation');
        for (const at of [1, 3]) {
          const entry = [patient, good(1), good(2)];
          entry.splice(at, 0, bad);
          const res = await failure(
            client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry } }),
          );
          expect(res.status, what).toBe(status);
          expectOutcome(res.data);
          expect(outcomeText(res.data), what).toContain(`Bundle.entry[${at}]`);
          await expectNothingStored(`Atomic${T}`, totals);
        }
      }
      // A transaction of one entry names it too.
      const totals = await totalsOf('Patient');
      const single = await failure(
        client.transaction({
          body: {
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [{ ...patient, resource: { ...patient.resource, birthDate: '1970-13-01' } }],
          },
        }),
      );
      expect(single.status).toBe(400);
      expect(outcomeText(single.data)).toContain('Bundle.entry[0]');
      await expectNothingStored(`Atomic${T}`, totals);
    });

    it('runs a batch entry by entry: the bad entry reports its outcome, the others are stored', async () => {
      const T = tag();
      const response: any = await client.batch({
        body: {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            {
              resource: { resourceType: 'Patient', name: [{ family: `Batch${T}` }] },
              request: { method: 'POST', url: 'Patient' },
            },
            {
              resource: { resourceType: 'Patient', name: [{ family: `Batch${T}` }], birthDate: 'soon' },
              request: { method: 'POST', url: 'Patient' },
            },
            {
              resource: { resourceType: 'Organization', name: `Batch${T}` },
              request: { method: 'POST', url: 'Organization' },
            },
            { request: { method: 'GET', url: 'Patient/nobody-here' } },
          ],
        },
      });
      expect(response.type).toBe('batch-response');
      const [ok1, bad, ok2, missing] = response.entry;
      expect(ok1.response.status).toBe('201 Created');
      expect(ok2.response.status).toBe('201 Created');
      expect(bad.response.status).toBe('400');
      expectOutcome(bad.response.outcome);
      expect(missing.response.status).toBe('404');
      expectOutcome(missing.response.outcome);
      expect(await client.read({ resourceType: 'Patient', id: ok1.resource.id })).toEqual(ok1.resource);
      expect(await client.read({ resourceType: 'Organization', id: ok2.resource.id })).toEqual(ok2.resource);
      expect(idsOf(await search('Patient', { family: `Batch${T}` }))).toEqual([ok1.resource.id]);
    });
  });

  describe('write rules', () => {
    it('answers 412 when If-Match names a version that is no longer current', async () => {
      const v1: any = await create({ resourceType: 'Organization', name: 'Conflict Clinic' });
      const body = { resourceType: 'Organization', id: v1.id, name: 'Conflict Clinic (renamed)' };
      await client.update({
        resourceType: 'Organization',
        id: v1.id,
        body,
        options: { headers: { 'If-Match': 'W/"1"' } },
      });
      const stale = await failure(
        client.update({
          resourceType: 'Organization',
          id: v1.id,
          body: { ...body, name: 'Lost update' },
          options: { headers: { 'If-Match': 'W/"1"' } },
        }),
      );
      expect(stale.status).toBe(412);
      expectOutcome(stale.data);
      const current: any = await client.read({ resourceType: 'Organization', id: v1.id });
      expect(current.name).toBe('Conflict Clinic (renamed)');
      expect(current.meta.versionId).toBe('2');
      const badEtag = await failure(
        client.update({
          resourceType: 'Organization',
          id: v1.id,
          body,
          options: { headers: { 'If-Match': 'two' } },
        }),
      );
      expect(badEtag.status).toBe(400);
    });

    it('creates with PUT to a new id (updateCreate): 201, version 1', async () => {
      const id = `client-chosen-${tag()}`;
      const made: any = await client.update({
        resourceType: 'Practitioner',
        id,
        body: { resourceType: 'Practitioner', id, name: [{ family: 'Chosen' }] },
      });
      expect(statusOf(made)).toBe(201);
      expect(made.id).toBe(id);
      expect(headerOf(made, 'etag')).toBe('W/"1"');
    });

    it('refuses an update whose body is another type (400) or another id (400)', async () => {
      const patient: any = await create({ resourceType: 'Patient', name: [{ family: 'Typed' }] });
      const wrongType = await failure(
        client.update({
          resourceType: 'Patient',
          id: patient.id,
          body: { resourceType: 'Observation', id: patient.id, status: 'final', code: { text: 'x' } },
        }),
      );
      expect(wrongType.status).toBe(400);
      expectOutcome(wrongType.data);
      const wrongId = await failure(
        client.update({
          resourceType: 'Patient',
          id: patient.id,
          body: { resourceType: 'Patient', id: 'other' },
        }),
      );
      expect(wrongId.status).toBe(400);
      const postedElsewhere = await failure(
        client.create({ resourceType: 'Organization', body: { resourceType: 'Patient' } }),
      );
      expect(postedElsewhere.status).toBe(400);
      expect(((await client.read({ resourceType: 'Patient', id: patient.id })) as any).meta.versionId).toBe(
        '1',
      );
    });

    it('refuses an attachment over FHIR_MAX_ATTACHMENT_BYTES with 413, accepts one at the limit', async () => {
      const patient: any = await create({ resourceType: 'Patient', name: [{ family: 'Attached' }] });
      const doc = (bytes: number) => ({
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: `Patient/${patient.id}` },
        content: [
          {
            attachment: {
              contentType: 'application/octet-stream',
              data: Buffer.alloc(bytes, 7).toString('base64'),
            },
          },
        ],
      });
      const tooBig = await failure(create(doc(MAX_ATTACHMENT + 1)));
      expect(tooBig.status).toBe(413);
      expectOutcome(tooBig.data);
      expect(outcomeText(tooBig.data)).toContain('DocumentReference.content[0].attachment.data');
      const atLimit: any = await create(doc(MAX_ATTACHMENT));
      expect(statusOf(atLimit)).toBe(201);
      expect(Buffer.from(atLimit.content[0].attachment.data, 'base64')).toHaveLength(MAX_ATTACHMENT);
      expect((await search('DocumentReference', { patient: patient.id })).total).toBe(1);
    });
  });

  describe('access control', () => {
    it('lets a reader read, search and read history, but not write (403)', async () => {
      const patient: any = await clinician.create({
        resourceType: 'Patient',
        body: { resourceType: 'Patient', name: [{ family: 'Readable' }] },
      });
      expect(statusOf(patient)).toBe(201);
      expect(await reader.read({ resourceType: 'Patient', id: patient.id })).toEqual(patient);
      expect(
        ((await reader.search({ resourceType: 'Patient', searchParams: { _id: patient.id } })) as any).total,
      ).toBe(1);
      expect(((await reader.history({ resourceType: 'Patient', id: patient.id })) as any).total).toBe(1);
      expect(
        (
          (await reader.search({
            resourceType: 'Patient',
            searchParams: { _id: patient.id },
            options: { postSearch: true },
          })) as any
        ).total,
      ).toBe(1);

      const attempts: [string, () => Promise<unknown>][] = [
        ['create', () => reader.create({ resourceType: 'Patient', body: { resourceType: 'Patient' } })],
        [
          'update',
          () =>
            reader.update({ resourceType: 'Patient', id: patient.id, body: { ...patient, gender: 'male' } }),
        ],
        ['delete', () => reader.delete({ resourceType: 'Patient', id: patient.id })],
        [
          'transaction',
          () => reader.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: [] } }),
        ],
        ['batch', () => reader.batch({ body: { resourceType: 'Bundle', type: 'batch', entry: [] } })],
      ];
      for (const [what, attempt] of attempts) {
        const res = await failure(attempt);
        expect(res.status, what).toBe(403);
        expectOutcome(res.data);
        expect(res.data.issue[0].code).toBe('forbidden');
      }
      expect(await client.read({ resourceType: 'Patient', id: patient.id })).toEqual(patient);
      const erase = await node.api(`/admin/patients/${patient.id}/erase`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${createApiToken(node.tokens, { name: 'r2', role: 'reader' }).token}`,
        },
      });
      expect(erase.status).toBe(403);
    });

    it('answers 401 with an OperationOutcome without a token (or with a bad one); metadata stays public', async () => {
      for (const attempt of [
        () => anonymous.read({ resourceType: 'Patient', id: 'x' }),
        () => anonymous.search({ resourceType: 'Patient', searchParams: { name: 'a' } }),
        () => anonymous.create({ resourceType: 'Patient', body: { resourceType: 'Patient' } }),
        () => anonymous.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: [] } }),
        () => newClient('clt_' + 'A'.repeat(43)).read({ resourceType: 'Patient', id: 'x' }),
      ]) {
        const res = await failure(attempt);
        expect(res.status).toBe(401);
        expectOutcome(res.data);
        expect(res.data.issue[0].code).toBe('login');
      }
      const capabilities: any = await anonymous.capabilityStatement();
      expect(capabilities.resourceType).toBe('CapabilityStatement');
    });
  });

  describe('CapabilityStatement', () => {
    let statement: any;
    beforeAll(async () => {
      statement = await anonymous.capabilityStatement();
    });

    it('is an R4 server statement listing exactly the 12 types, the Consent views, the AuditEvents, transaction and batch', () => {
      expect(statement).toMatchObject({
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
      });
      expect(statement.format).toContain('application/fhir+json');
      expect(statement.rest).toHaveLength(1);
      const rest = statement.rest[0];
      expect(rest.mode).toBe('server');
      expect(rest.resource.map((r: any) => r.type).sort()).toEqual(
        [...FHIR_TYPES, 'Consent', 'AuditEvent'].sort(),
      );
      // Consent: read-only views of the chain (src/gateway/routes/consent.ts), read and searched by patient only.
      const consent = rest.resource.find((r: any) => r.type === 'Consent');
      expect(consent).toMatchObject({ versioning: 'no-version', readHistory: false, updateCreate: false });
      expect(consent.interaction.map((i: any) => i.code)).toEqual(['read', 'search-type']);
      expect(consent.searchParam.map((p: any) => [p.name, p.type])).toEqual([['patient', 'reference']]);
      // AuditEvent: the access audit trail (src/gateway/routes/auditEvents.ts), written by the server only.
      const audit = rest.resource.find((r: any) => r.type === 'AuditEvent');
      expect(audit).toMatchObject({ versioning: 'no-version', readHistory: false, updateCreate: false });
      expect(audit.interaction.map((i: any) => i.code)).toEqual(['read', 'search-type']);
      expect(audit.searchParam.map((p: any) => [p.name, p.type])).toEqual([['patient', 'reference']]);
      expect(audit.operation.map((o: any) => o.name)).toEqual(['proof']);
      expect(rest.interaction.map((i: any) => i.code).sort()).toEqual(['batch', 'transaction']);
      expect(statement.implementation.url).toBe(`${node.url}/fhir`);
    });

    it('lists for each type the interactions and exactly the search parameters it supports', () => {
      for (const resource of statement.rest[0].resource.filter(
        (r: any) => r.type !== 'Consent' && r.type !== 'AuditEvent',
      )) {
        const type = resource.type as FhirType;
        expect(resource.versioning, type).toBe('versioned');
        expect(resource.readHistory).toBe(true);
        expect(resource.updateCreate).toBe(true);
        expect(resource.conditionalCreate).toBe(false);
        expect(resource.conditionalUpdate).toBe(false);
        expect(resource.interaction.map((i: any) => i.code).sort()).toEqual(
          [
            'create',
            'delete',
            'history-instance',
            'history-type',
            'read',
            'search-type',
            'update',
            'vread',
          ].sort(),
        );
        expect(resource.searchParam.map((p: any) => p.name).sort(), type).toEqual(
          [...COMMON_SEARCH_PARAMS, ...TYPE_SEARCH_PARAMS[type]].sort(),
        );
        for (const p of resource.searchParam) {
          expect(['token', 'date', 'reference', 'string', 'number', 'special']).toContain(p.type);
          expect(typeof p.documentation).toBe('string');
        }
        expect(resource.operation.map((o: any) => o.name)).toEqual(['proof']);
      }
    });

    it('is truthful: every listed search parameter is accepted with a value of its type', async () => {
      const sample: Record<string, string> = {
        token: 'http://example.org|x',
        reference: 'Patient/someone',
        date: 'ge2000-01-01',
        string: 'abc',
      };
      for (const resource of statement.rest[0].resource) {
        for (const p of resource.searchParam) {
          const value =
            p.name === '_id'
              ? 'some-id'
              : p.name === '_sort'
                ? '-_lastUpdated'
                : p.type === 'number'
                  ? '3'
                  : sample[p.type];
          expect(value, `${resource.type}.${p.name}`).toBeDefined();
          const bundle: any = await search(resource.type, { [p.name]: value as string });
          expect(bundle.resourceType, `${resource.type}?${p.name}`).toBe('Bundle');
          expect(bundle.type).toBe('searchset');
        }
        // …and what it does not list is refused rather than silently ignored.
        const unlisted = await failure(search(resource.type, { 'not-a-parameter': 'x' }));
        expect(unlisted.status).toBe(400);
      }
    });

    it('is truthful about the $proof operation it lists: a stored version gets its anchoring proof', async () => {
      const made: any = await create({ resourceType: 'Organization', name: 'Proof Spot Check' });
      const proof: any = await eventually(
        () => client.request(`Organization/${made.id}/_history/1/$proof`),
        'the proof (409 until the batch is anchored)',
      );
      expect(proof.format).toBe('careledger.record-proof/v1');
      expect(proof.record.kind).toBe('fhir.Organization');
      expect(proof.anchor.contract.toLowerCase()).toBe(node.deployment().anchorRegistry.toLowerCase());
    });

    it('is truthful about interactions not listed: an unsupported interaction is refused', async () => {
      const res = await failure(client.request('Patient/x/_history/1/$everything'));
      expect(res.status).toBe(405);
      expectOutcome(res.data);
    });
  });
});
