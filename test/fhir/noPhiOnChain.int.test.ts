/**
 * No protected health information leaves the node in clear: resources with known, distinctive names,
 * identifiers, birth dates, phone numbers, addresses and free-text notes are written and anchored; then every
 * transaction input, every log (data and topics) and the whole chain state are scanned for those strings in many
 * encodings, and so are the SQLite files (main database and WAL) and every other file in the data folder.
 *
 * Positive controls keep the scans honest: a string that IS on chain (the organisation name the node registers)
 * and the Merkle roots the node anchored must be found by the same scanner, and the (pseudonymous, allowed)
 * resource ids must be found in the database files.
 */
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createPublicClient, hexToBytes, http, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, rpc, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

const ORG_NAME = 'Ravenholm Positive-Control Clinic';
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

/** Identifying strings written into resources (what must never be found in clear, anywhere). */
const IDENTIFYING = {
  names: [
    'Thaddeus',
    'Quillon',
    'Ashgrove-Vantablack',
    'Thaddeus Quillon Ashgrove-Vantablack',
    'Marisol',
    'Featherstonehaugh',
    'Barnaby Oystercatcher',
    'Oystercatcher',
    'Octavia Plimsoll-Wren',
    'Plimsoll-Wren',
    'Petronella',
  ],
  identifiers: ['MRN-7731-QXZ-0042', '987-65-4329', 'MRN-5580-KPL-9913', '123-45-6780', 'MRN-3141-BRN-2718'],
  phones: ['+1-555-0142-8837', '+1-555-0199-2211', '(555) 013-7766'],
  emails: ['thaddeus.ashgrove@example.org'],
  addresses: ['4471 Wisteria Hollow Lane', 'Zanzibarton', '12 Quenby Mews', 'Little Puddleford'],
  notes: [
    'Patient disclosed recurrent night terrors since the Kestrelmoor flood',
    'Reports taking Zorblatt herbal supplement daily',
    'Suspected hereditary Ashgrove syndrome; sibling Petronella affected',
    'Confidential psychotherapy note: client fears the lighthouse keeper',
    'Take one tablet at dawn facing the harbour',
    'Hives after eating Quennington gooseberries',
  ],
};
/** Birth dates: they must not reach the chain (the issue allows dates in the local search index, not on chain). */
const BIRTH_DATES = ['1961-07-14', '1988-02-29', '1990-12-24'];

/** Every encoding of `text` a leak could take: UTF-8, UTF-16LE, lower/upper case, hex text, base64. */
function encodings(text: string): { label: string; bytes: Buffer }[] {
  const out: { label: string; bytes: Buffer }[] = [];
  for (const [caseLabel, variant] of [
    ['as is', text],
    ['lower', text.toLowerCase()],
    ['upper', text.toUpperCase()],
  ] as const) {
    const utf8 = Buffer.from(variant, 'utf8');
    out.push({ label: `utf8 ${caseLabel}`, bytes: utf8 });
    out.push({ label: `utf16le ${caseLabel}`, bytes: Buffer.from(variant, 'utf16le') });
    out.push({ label: `hex ${caseLabel}`, bytes: Buffer.from(utf8.toString('hex'), 'latin1') });
    out.push({ label: `HEX ${caseLabel}`, bytes: Buffer.from(utf8.toString('hex').toUpperCase(), 'latin1') });
  }
  out.push({ label: 'base64', bytes: Buffer.from(Buffer.from(text, 'utf8').toString('base64'), 'latin1') });
  return out;
}

/** `needle`s found in `haystack`, as "needle (encoding) in where". */
function findAll(haystacks: { where: string; bytes: Buffer }[], needles: string[]): string[] {
  const hits: string[] = [];
  for (const needle of needles) {
    for (const { label, bytes } of encodings(needle)) {
      for (const haystack of haystacks) {
        if (haystack.bytes.includes(bytes)) hits.push(`"${needle}" (${label}) in ${haystack.where}`);
      }
    }
  }
  return hits;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('no PHI on chain or in clear at rest', () => {
  let node: TestNode;
  const written: { type: string; id: string; version: number }[] = [];
  const ids: string[] = [];

  const fhir = (path: string, init: RequestInit = {}) => node.api(`/fhir/${path}`, init);
  async function send(method: string, path: string, body: object, expected: number): Promise<any> {
    const res = await fhir(path, { method, headers: FHIR_JSON, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }
  async function create(body: Record<string, any>): Promise<any> {
    const made = await send('POST', body.resourceType, body, 201);
    written.push({ type: made.resourceType, id: made.id, version: 1 });
    ids.push(made.id);
    return made;
  }

  beforeAll(async () => {
    node = await startTestNode({ CARELEDGER_ORG_NAME: ORG_NAME });

    const practitioner = await create({
      resourceType: 'Practitioner',
      name: [{ text: 'Octavia Plimsoll-Wren', family: 'Plimsoll-Wren', given: ['Octavia'] }],
    });
    const thaddeus = await create({
      resourceType: 'Patient',
      identifier: [
        { system: 'urn:oid:1.2.36.146.595.217.0.1', value: 'MRN-7731-QXZ-0042' },
        { system: 'http://hl7.org/fhir/sid/us-ssn', value: '987-65-4329' },
      ],
      name: [
        {
          use: 'official',
          text: 'Thaddeus Quillon Ashgrove-Vantablack',
          family: 'Ashgrove-Vantablack',
          given: ['Thaddeus', 'Quillon'],
        },
      ],
      telecom: [
        { system: 'phone', value: '+1-555-0142-8837', use: 'home' },
        { system: 'email', value: 'thaddeus.ashgrove@example.org' },
      ],
      gender: 'male',
      birthDate: '1961-07-14',
      address: [{ line: ['4471 Wisteria Hollow Lane'], city: 'Zanzibarton', postalCode: '99501' }],
      generalPractitioner: [{ reference: `Practitioner/${practitioner.id}` }],
    });
    const marisol = await create({
      resourceType: 'Patient',
      identifier: [
        { system: 'urn:oid:1.2.36.146.595.217.0.1', value: 'MRN-5580-KPL-9913' },
        { system: 'http://hl7.org/fhir/sid/us-ssn', value: '123-45-6780' },
      ],
      name: [{ family: 'Featherstonehaugh', given: ['Marisol'] }],
      telecom: [{ system: 'phone', value: '(555) 013-7766' }],
      birthDate: '1988-02-29',
      address: [{ line: ['12 Quenby Mews'], city: 'Little Puddleford' }],
    });
    // Version 2 of a patient, with a new phone number.
    const { meta: _meta, ...thaddeusBody } = thaddeus;
    const v2 = await send(
      'PUT',
      `Patient/${thaddeus.id}`,
      { ...thaddeusBody, telecom: [{ system: 'phone', value: '+1-555-0199-2211' }] },
      200,
    );
    written.push({ type: 'Patient', id: thaddeus.id, version: Number(v2.meta.versionId) });

    const subject = { reference: `Patient/${thaddeus.id}` };
    const encounter = await create({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject,
      reasonCode: [{ text: 'Patient disclosed recurrent night terrors since the Kestrelmoor flood' }],
      period: { start: '2024-01-10T09:00:00Z' },
    });
    await create({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject,
      encounter: { reference: `Encounter/${encounter.id}` },
      effectiveDateTime: '2024-01-10T09:30:00Z',
      valueQuantity: { value: 88, unit: '/min' },
      note: [{ text: 'Patient disclosed recurrent night terrors since the Kestrelmoor flood' }],
    });
    const supplement = await create({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Supplement use' },
      subject,
      valueString: 'Reports taking Zorblatt herbal supplement daily',
    });
    await create({
      resourceType: 'Condition',
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      code: { text: 'Hereditary syndrome' },
      subject,
      note: [{ text: 'Suspected hereditary Ashgrove syndrome; sibling Petronella affected' }],
    });
    await create({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' },
        ],
      },
      patient: { reference: `Patient/${marisol.id}` },
      code: { text: 'Gooseberry' },
      note: [{ text: 'Hives after eating Quennington gooseberries' }],
    });
    await create({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '197361' }],
      },
      subject: { reference: `Patient/${marisol.id}` },
      dosageInstruction: [{ text: 'Take one tablet at dawn facing the harbour' }],
      requester: { reference: `Practitioner/${practitioner.id}` },
    });
    await create({
      resourceType: 'DocumentReference',
      status: 'current',
      subject,
      description: 'Session notes',
      content: [
        {
          attachment: {
            contentType: 'text/plain',
            data: Buffer.from('Confidential psychotherapy note: client fears the lighthouse keeper').toString(
              'base64',
            ),
          },
        },
      ],
    });
    // A deletion is anchored too.
    const deleted = await fhir(`Observation/${supplement.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    written.push({ type: 'Observation', id: supplement.id, version: 2 });

    // A transaction with urn:uuid references.
    const response = await send(
      'POST',
      '',
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:5f0c2a4e-1111-4000-8000-000000000001',
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: 'MRN-3141-BRN-2718' }],
              name: [{ text: 'Barnaby Oystercatcher', family: 'Oystercatcher', given: ['Barnaby'] }],
              birthDate: '1990-12-24',
            },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] },
              subject: { reference: 'urn:uuid:5f0c2a4e-1111-4000-8000-000000000001' },
              valueQuantity: { value: 37.2, unit: 'Cel' },
            },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      },
      200,
    );
    for (const e of response.entry) {
      written.push({ type: e.resource.resourceType, id: e.resource.id, version: 1 });
      ids.push(e.resource.id);
    }

    // Wait until every version is anchored: nothing pending, and a proof for each.
    await eventually(async () => {
      const health: any = await (await node.api('/health')).json();
      const a = health.anchoring;
      return (
        a.openBatchRecords === 0 &&
        a.pendingRecords === 0 &&
        a.batches.open + a.batches.sealed + a.batches.submitted === 0 &&
        a.batches.confirmed > 0
      );
    }, 'every record to be anchored');
  });
  afterAll(async () => {
    await node?.destroy();
  });

  const allIdentifying = Object.values(IDENTIFYING).flat();

  describe('the chain', () => {
    let haystacks: { where: string; bytes: Buffer }[] = [];
    let roots: string[] = [];
    let transactionsScanned = 0;
    let logsScanned = 0;

    beforeAll(async () => {
      for (const { type, id, version } of written) {
        const res = await fhir(`${type}/${id}/_history/${version}/$proof`);
        expect(res.status, `${type}/${id}/_history/${version}/$proof`).toBe(200);
        roots.push(((await res.json()) as any).tree.root);
      }
      roots = [...new Set(roots)];

      const client = createPublicClient({ transport: http(node.rpcUrl) });
      const latest = await client.getBlockNumber({ cacheTime: 0 });
      const bytesOf = (hex: Hex) => Buffer.from(hexToBytes(hex));
      const out: { where: string; bytes: Buffer }[] = [];
      for (let n = 0n; n <= latest; n++) {
        const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
        out.push({ where: `block ${n} extraData`, bytes: bytesOf(block.extraData) });
        for (const tx of block.transactions) {
          transactionsScanned++;
          out.push({ where: `tx ${tx.hash} input`, bytes: bytesOf(tx.input) });
          const receipt = await client.getTransactionReceipt({ hash: tx.hash });
          for (const log of receipt.logs) {
            logsScanned++;
            out.push({ where: `tx ${tx.hash} log ${log.logIndex} data`, bytes: bytesOf(log.data) });
            for (const topic of log.topics) {
              out.push({ where: `tx ${tx.hash} log ${log.logIndex} topic`, bytes: bytesOf(topic) });
            }
          }
        }
      }
      // Every log of every contract, also through eth_getLogs.
      const logs = await client.getLogs({ fromBlock: 0n, toBlock: latest });
      expect(logs.length).toBe(logsScanned);
      for (const log of logs) {
        out.push({ where: `getLogs ${log.transactionHash}/${log.logIndex} data`, bytes: bytesOf(log.data) });
        for (const topic of log.topics) out.push({ where: `getLogs topic`, bytes: bytesOf(topic) });
      }
      // The whole chain state as anvil holds it (accounts, code, storage, blocks, transactions).
      const dump = (await rpc(node.rpcUrl, 'anvil_dumpState')) as Hex;
      out.push({ where: 'anvil state dump', bytes: gunzipSync(bytesOf(dump)) });
      haystacks = out;
    });

    it('scans real data: the anchoring transactions and their logs are there, with every Merkle root', () => {
      expect(transactionsScanned).toBeGreaterThanOrEqual(3 + 1); // deployments, admission, >= 1 anchor
      expect(logsScanned).toBeGreaterThan(0);
      expect(roots.length).toBeGreaterThan(0);
      for (const root of roots) {
        const bytes = Buffer.from(root.slice(2), 'hex');
        const where = haystacks.filter((h) => h.bytes.includes(bytes)).map((h) => h.where);
        expect(
          where.some((w) => w.includes('input')),
          `root ${root} in a transaction input`,
        ).toBe(true);
      }
    });

    it('finds a string that is on chain (the organisation name the node registered): the scanner works', () => {
      const hits = findAll(haystacks, [ORG_NAME]);
      expect(hits.some((h) => h.includes('(utf8 as is) in tx'))).toBe(true);
      expect(hits.some((h) => h.includes('anvil state dump'))).toBe(true);
    });

    it('holds no name, identifier, phone number, e-mail, address or note in any encoding', () => {
      expect(findAll(haystacks, allIdentifying)).toEqual([]);
    });

    it('holds no birth date and no resource id', () => {
      expect(findAll(haystacks, BIRTH_DATES)).toEqual([]);
      expect(findAll(haystacks, ids)).toEqual([]);
    });
  });

  describe('the data folder (SQLite database, WAL, chain state, keys)', () => {
    let haystacks: { where: string; bytes: Buffer }[] = [];

    beforeAll(async () => {
      // Move everything from the WAL into the database file, through a separate connection, then read raw bytes.
      const db = new Database(join(node.dataDir, 'careledger.db'), { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        db.pragma('wal_checkpoint(TRUNCATE)');
        const versions = db.prepare('SELECT COUNT(*) FROM fhir_versions').pluck().get() as number;
        expect(versions).toBe(written.length);
      } finally {
        db.close();
      }
      const files = filesUnder(node.dataDir);
      expect(files.map((f) => f.slice(node.dataDir.length + 1))).toContain('careledger.db');
      haystacks = files.map((f) => ({ where: f.slice(node.dataDir.length + 1), bytes: readFileSync(f) }));
    });

    it('scans real data: the pseudonymous resource ids are found in the database', () => {
      for (const id of ids) {
        expect(
          haystacks.some((h) => h.where.startsWith('careledger.db') && h.bytes.includes(Buffer.from(id))),
          id,
        ).toBe(true);
      }
    });

    it('holds no name, identifier, phone number, e-mail, address or note in clear, in any file', () => {
      expect(findAll(haystacks, allIdentifying)).toEqual([]);
    });

    it('also none in the WAL written after the checkpoint (reads and a new write)', async () => {
      // A new write lands in the WAL again: it must be sealed there too.
      await create({
        resourceType: 'Patient',
        name: [{ family: 'Featherstonehaugh', given: ['Marisol'] }],
        telecom: [{ system: 'phone', value: '(555) 013-7766' }],
      });
      const wal = filesUnder(node.dataDir).filter((f) => f.endsWith('-wal'));
      expect(wal.length).toBeGreaterThan(0);
      const walHaystacks = wal.map((f) => ({ where: f, bytes: readFileSync(f) }));
      expect(walHaystacks.some((h) => h.bytes.includes(Buffer.from(ids.at(-1) as string)))).toBe(true);
      expect(findAll(walHaystacks, allIdentifying)).toEqual([]);
    });
  });
});
