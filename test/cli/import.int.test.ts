import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { importCommand, type ImportOptions } from '../../src/cli/import.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { freePort } from '../helpers/testAnvil.js';
import { captureCli } from './cliOutput.js';

const SYNTHEA = fileURLToPath(new URL('../../examples/synthea', import.meta.url));
const SYNTHEA_BUNDLE = join(SYNTHEA, 'synthea-sample-bundle.json');
const NDJSON = fileURLToPath(new URL('../../examples/ndjson', import.meta.url));
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

describe('careledger import', () => {
  let node: TestNode;
  let scratch: string;
  const run = (paths: string[], options: Partial<ImportOptions> = {}) =>
    captureCli(() => importCommand(paths, { url: node.url, token: node.token, ...options }));
  const read = async (path: string) => {
    const res = await node.api(`/fhir/${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    node = await startTestNode();
    scratch = mkdtempSync(join(tmpdir(), 'careledger-import-'));
  });
  afterAll(async () => {
    await node?.destroy();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('imports the Synthea example cleanly, keeping ids and resolving urn:uuid references', async () => {
    const bundle = JSON.parse(readFileSync(SYNTHEA_BUNDLE, 'utf8'));
    const entries = bundle.entry as { fullUrl: string; resource: any }[];

    const result = await run([SYNTHEA]);
    expect(result.stderr).not.toMatch(/careledger import:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `${entries.length} accepted (${entries.length} created, 0 updated), 0 rejected`,
    );

    const search = await read('Patient?identifier=http://hospital.smarthealthit.org|MH-004518');
    expect(search.body.total).toBe(1);
    const patient = search.body.entry[0].resource;
    expect(patient.name[0].family).toBe('Okuneva707');
    const source = entries.find((e) => e.resource.resourceType === 'Patient' && e.resource.id === patient.id);
    expect(source).toBeDefined(); // the id of the source file was kept

    const expected = entries.filter(
      (e) => e.resource.resourceType === 'Observation' && e.resource.subject.reference === source?.fullUrl,
    );
    const observations = await read(`Observation?patient=${patient.id}&_count=100`);
    expect(observations.body.total).toBe(expected.length);
    for (const { resource } of observations.body.entry) {
      expect(resource.subject.reference).toBe(`Patient/${patient.id}`);
      expect(resource.encounter.reference).toMatch(/^Encounter\/[0-9a-f-]{36}$/);
    }
    const encounter = await read(observations.body.entry[0].resource.encounter.reference);
    expect(encounter.status).toBe(200);
    expect(encounter.body.serviceProvider.reference).toMatch(/^Organization\//);
    expect((await read(encounter.body.serviceProvider.reference)).status).toBe(200);

    const reports = await read(`DiagnosticReport?patient=${patient.id}`);
    expect(reports.body.total).toBe(1);
    for (const result of reports.body.entry[0].resource.result) {
      const observation = await read(result.reference);
      expect(observation.status).toBe(200);
      expect(observation.body.category[0].coding[0].code).toBe('laboratory');
    }
    const notes = await read(`DocumentReference?patient=${patient.id}`);
    expect(notes.body.total).toBe(1);
    const text = Buffer.from(notes.body.entry[0].resource.content[0].attachment.data, 'base64').toString();
    expect(text).toContain('# Chief Complaint');

    for (const mrn of ['MH-007731', 'MH-010264']) {
      expect((await read(`Patient?identifier=http://hospital.smarthealthit.org|${mrn}`)).body.total).toBe(1);
    }
  });

  it('imports the NDJSON example with exactly the invalid line rejected, by file and line', async () => {
    const result = await run([NDJSON]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('21 accepted');
    expect(result.stdout).toContain('1 rejected');
    expect(result.stdout).toMatch(
      /examples\/ndjson\/Observation\.ndjson line 4 \(Observation\/bulk-observation-4\)/,
    );
    expect(result.stdout).toMatch(/HTTP 400/);
    expect(result.stdout).toMatch(/expected number, but got string/);

    expect((await read('Observation/bulk-observation-4')).status).toBe(404);
    expect((await read('Observation/bulk-observation-5')).status).toBe(200);
    expect((await read('Observation?patient=bulk-patient-1')).body.total).toBe(3);
    expect((await read('Observation?patient=bulk-patient-2')).body.total).toBe(2);
    // Condition.ndjson sorts before Encounter.ndjson by name, yet its references resolved.
    const condition = await read('Condition/bulk-condition-1');
    expect(condition.body.encounter.reference).toBe('Encounter/bulk-encounter-1');
    expect((await read('Patient/bulk-patient-3')).body.managingOrganization.reference).toBe(
      'Organization/bulk-org-1',
    );
  });

  it('imports a folder: bundles of every kind, single resources and NDJSON, in reference order', async () => {
    const dir = join(scratch, 'folder');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    // A transaction without ids: the server assigns them and resolves the urn:uuid references.
    writeFileSync(
      join(dir, 'a-transaction.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:0d6c7f9e-2b1a-4c3d-9e8f-7a6b5c4d3e21',
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: 'urn:test', value: 'no-id' }],
              name: [{ family: 'Noid' }],
            },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: 'urn:uuid:5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'note' },
              subject: { reference: 'urn:uuid:0d6c7f9e-2b1a-4c3d-9e8f-7a6b5c4d3e21' },
            },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      }),
    );
    // A collection referring to its entries by absolute fullUrl; it needs dir-patient (imported first).
    writeFileSync(
      join(dir, 'b-collection.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          {
            fullUrl: 'http://elsewhere.example/fhir/Encounter/dir-encounter',
            resource: {
              resourceType: 'Encounter',
              id: 'dir-encounter',
              status: 'finished',
              class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
              subject: { reference: 'Patient/dir-patient' },
            },
          },
          {
            resource: {
              resourceType: 'Condition',
              id: 'dir-condition',
              code: { text: 'cough' },
              subject: { reference: 'Patient/dir-patient' },
              encounter: { reference: 'http://elsewhere.example/fhir/Encounter/dir-encounter' },
            },
          },
        ],
      }),
    );
    // NDJSON whose first line refers to a resource further down.
    writeFileSync(
      join(dir, 'c-mixed.ndjson'),
      [
        {
          resourceType: 'Observation',
          id: 'dir-obs',
          status: 'final',
          code: { text: 'x' },
          subject: { reference: 'Patient/dir-late' },
        },
        { resourceType: 'Patient', id: 'dir-late' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    writeFileSync(
      join(dir, 'z-patient.json'),
      JSON.stringify({ resourceType: 'Patient', id: 'dir-patient' }),
    );
    writeFileSync(join(dir, 'notes.txt'), 'not imported');
    writeFileSync(
      join(dir, 'nested', 'deep.json'),
      JSON.stringify({ resourceType: 'Patient', id: 'dir-deep' }),
    );

    const flat = await run([dir]);
    expect(flat.stderr).not.toMatch(/careledger import:/);
    expect(flat.code).toBe(0);
    expect(flat.stdout).toContain('files:     4 imported');
    expect(flat.stdout).toContain('7 accepted (7 created, 0 updated), 0 rejected');
    expect((await read('Patient/dir-deep')).status).toBe(404);

    const condition = await read('Condition/dir-condition');
    expect(condition.body.encounter.reference).toBe('Encounter/dir-encounter');
    expect((await read('Observation/dir-obs')).body.subject.reference).toBe('Patient/dir-late');
    const noid = await read('Patient?identifier=urn:test|no-id');
    expect(noid.body.total).toBe(1);
    const observations = await read(`Observation?patient=${noid.body.entry[0].resource.id}`);
    expect(observations.body.total).toBe(1);

    const deep = await run([dir], { recursive: true, json: true });
    expect(deep.code).toBe(0);
    const summary = JSON.parse(deep.stdout);
    expect(summary.files.imported).toBe(5);
    // Resources with ids are updated; the two of the id-less transaction are created again, and so is dir-deep.
    expect(summary.resources).toMatchObject({ accepted: 8, created: 3, updated: 5, rejected: 0 });
    expect((await read('Patient/dir-deep')).status).toBe(200);
  });

  it('refuses resources of types the gateway does not keep, and still stores the rest of their transaction', async () => {
    const file = join(scratch, 'with-claim.json');
    writeFileSync(
      file,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
            resource: { resourceType: 'Patient', id: 'claim-patient' },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: 'urn:uuid:1b2c3d4e-5f60-4718-9a0b-c1d2e3f4a5b6',
            resource: {
              resourceType: 'Claim',
              id: 'claim-1',
              patient: { reference: 'urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' },
            },
            request: { method: 'POST', url: 'Claim' },
          },
        ],
      }),
    );
    const result = await run([file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 accepted');
    expect(result.stdout).toMatch(/with-claim\.json entry 1 \(Claim\/claim-1\)/);
    expect(result.stdout).toMatch(/does not keep Claim resources/);
    expect((await read('Patient/claim-patient')).status).toBe(200);
  });

  it('names the entry that failed a transaction, and counts the whole transaction as not stored', async () => {
    const file = join(scratch, 'bad-transaction.json');
    writeFileSync(
      file,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', id: 'tx-ok' },
            request: { method: 'PUT', url: 'Patient/tx-ok' },
          },
          {
            resource: { resourceType: 'Patient', id: 'tx-bad', birthDate: '1990-13-45' },
            request: { method: 'PUT', url: 'Patient/tx-bad' },
          },
        ],
      }),
    );
    const result = await run([file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('0 accepted');
    expect(result.stdout).toContain('2 rejected');
    expect(result.stdout).toMatch(
      /Invalid date format.*the whole transaction \(2 resources\) was not stored/,
    );
    expect(result.stdout).toMatch(/bad-transaction\.json entry 1 \(Patient\/tx-bad\)/);
    expect((await read('Patient/tx-ok')).status).toBe(404);
  });

  it('reports a file that is not JSON, imports the others, and exits 2', async () => {
    const dir = join(scratch, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'broken.json'), '{"resourceType": "Patient",\n  "id": oops }\n');
    writeFileSync(join(dir, 'fine.json'), JSON.stringify({ resourceType: 'Patient', id: 'next-to-broken' }));
    writeFileSync(join(dir, 'lines.ndjson'), '{"resourceType":"Patient","id":"nd-ok"}\n{oops\n');

    const result = await run([dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.json: not JSON/);
    expect(result.stdout).toMatch(/Files that could not be imported \(1\):\n {2}\S*broken\.json: not JSON/);
    expect(result.stdout).toMatch(
      /not JSON — 1 resource:\n.*The line is not JSON.*\n\s+\S*lines\.ndjson line 2/,
    );
    expect(result.stdout).toContain('2 accepted');
    expect((await read('Patient/next-to-broken')).status).toBe(200);
    expect((await read('Patient/nd-ok')).status).toBe(200);

    const alone = await run([join(dir, 'broken.json')]);
    expect(alone.code).toBe(2);
    expect(alone.stdout).toContain('0 accepted');
  });

  it('exits 2 with the server’s message for a bad token, and for a token that may not write', async () => {
    const bad = await run([NDJSON], { token: 'clt_' + 'A'.repeat(43) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('refused the token: The bearer token is not known to this gateway.');
    expect(bad.stdout).toBe('');

    const reader = createApiToken(node.tokens, { name: 'import-reader', role: 'reader' });
    const readOnly = await run([NDJSON], { token: reader.token });
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr).toMatch(/may not write.*The role "reader" may not write here/);
  });

  it('takes the token from CARELEDGER_TOKEN and says so when there is none', async () => {
    const saved = process.env.CARELEDGER_TOKEN;
    try {
      delete process.env.CARELEDGER_TOKEN;
      const none = await captureCli(() => importCommand([NDJSON], { url: node.url }));
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/--token or set CARELEDGER_TOKEN/);

      process.env.CARELEDGER_TOKEN = node.token;
      const file = join(scratch, 'env-token.json');
      writeFileSync(file, JSON.stringify({ resourceType: 'Patient', id: 'env-token' }));
      const withEnv = await captureCli(() => importCommand([file], { url: `${node.url}/fhir/` }));
      expect(withEnv.code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.CARELEDGER_TOKEN;
      else process.env.CARELEDGER_TOKEN = saved;
    }
  });

  it('exits 2 when the gateway is unreachable, and for missing files', async () => {
    const port = await freePort();
    const unreachable = await run([NDJSON], { url: `http://127.0.0.1:${port}` });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(
      new RegExp(`Cannot reach the gateway at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );

    const missing = await run([join(scratch, 'no-such-file.ndjson')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-file\.ndjson: cannot read: no such file or folder/);

    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    const nothing = await run([empty]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/No \.json or \.ndjson files/);
  });

  it('stops with a clear message, saying how far it got, when the connection is lost mid-way', async () => {
    const file = join(scratch, 'many.ndjson');
    writeFileSync(
      file,
      Array.from({ length: 250 }, (_, i) =>
        JSON.stringify({ resourceType: 'Patient', id: `many-${i + 1}` }),
      ).join('\n'),
    );
    // A gateway that answers the first batch and then drops the connection.
    let batches = 0;
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/fhir/metadata') {
          res.setHeader('content-type', 'application/fhir+json');
          res.end(
            JSON.stringify({
              resourceType: 'CapabilityStatement',
              rest: [{ resource: [{ type: 'Patient' }] }],
            }),
          );
          return;
        }
        const bundle = JSON.parse(body) as { entry: unknown[] };
        if (bundle.entry.length > 0 && ++batches > 1) {
          req.socket.destroy();
          return;
        }
        res.setHeader('content-type', 'application/fhir+json');
        res.end(
          JSON.stringify({
            resourceType: 'Bundle',
            type: 'batch-response',
            entry: bundle.entry.map(() => ({ response: { status: '201 Created' } })),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const result = await captureCli(() =>
        importCommand([file], { url: `http://127.0.0.1:${port}`, token: 'x' }),
      );
      expect(result.code).toBe(2);
      expect(result.stdout).toContain('100 accepted');
      expect(result.stderr).toMatch(
        /Cannot reach the gateway .* while sending \S*many\.ndjson lines 101–200/,
      );
      expect(result.stderr).toMatch(
        /Stopped after 0 of 1 files and 100 of 250 resources \(100 accepted, 0 rejected\)/,
      );
      expect(result.stderr).toMatch(/running the same import again is safe/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('(server) resolves references to the urn:uuid fullUrl of a PUT entry in a transaction', async () => {
    // Fixed in src/records/processBundle.ts: such references used to be stored as the bare urn:uuid, so the
    // Observation was neither found by patient search nor encrypted under the patient's key (erasure missed it).
    const res = await node.api('/fhir', {
      method: 'POST',
      headers: FHIR_JSON,
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:c0ffee00-0000-4000-8000-000000000001',
            resource: { resourceType: 'Patient', id: 'put-with-urn' },
            request: { method: 'PUT', url: 'Patient/put-with-urn' },
          },
          {
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'x' },
              subject: { reference: 'urn:uuid:c0ffee00-0000-4000-8000-000000000001' },
            },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.entry[1].resource.subject.reference).toBe('Patient/put-with-urn');
    expect((await read('Observation?patient=put-with-urn')).body.total).toBe(1);
  });
});
