import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyCommand } from '../../src/cli/verify.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

const post = (node: TestNode, path: string, body: string | Buffer, type = 'application/octet-stream') =>
  node.api(`${path}`, { method: 'POST', headers: { 'content-type': type }, body });

async function json(res: Response): Promise<Record<string, any>> {
  return (await res.json()) as Record<string, any>;
}

describe('gateway on a real node (embedded anvil, SQLite, HTTP)', () => {
  let node: TestNode;
  let scratch: string;

  beforeAll(async () => {
    node = await startTestNode({ RECORD_MAX_BYTES: '4096', RECORD_BATCH_MAX: '10' });
    scratch = mkdtempSync(join(tmpdir(), 'careledger-verify-'));
  });
  afterAll(async () => {
    await node?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reports chain id, latest block, contracts and the anchoring queue on /health', async () => {
    const res = await node.api(`/health`);
    expect(res.status).toBe(200);
    const health = await json(res);
    expect(health.status).toBe('ok');
    expect(health.chain).toMatchObject({ mode: 'embedded', reachable: true, chainId: 31337 });
    expect(health.chain.latestBlock).toBeGreaterThanOrEqual(3); // two deployments and one admission
    expect(health.contracts.anchorRegistry).toBe(node.deployment().anchorRegistry);
    expect(health.contracts.organizationRegistry).toBe(node.deployment().organizationRegistry);
    expect(health.anchoring.batches).toEqual(expect.objectContaining({ sealed: 0, submitted: 0 }));
  });

  it('stores a record, anchors it, and serves a proof that careledger verify accepts', async () => {
    const bytes = Buffer.from(`{"resourceType":"Observation","id":"obs-${Date.now()}"}`);
    const res = await post(node, '/records?kind=fhir.Observation', bytes);
    expect(res.status).toBe(201);
    const receipt = await json(res);
    expect(res.headers.get('location')).toBe(`/records/${receipt.id}`);
    expect(receipt.kind).toBe('fhir.Observation');
    expect(receipt.contentHash).toMatch(/^0x[0-9a-f]{64}$/);

    const content = await node.api(`/records/${receipt.id}/content`);
    expect(Buffer.from(await content.arrayBuffer())).toEqual(bytes);

    const proof = await eventually(async () => {
      const r = await node.api(`/records/${receipt.id}/proof`);
      return r.status === 200 ? json(r) : undefined;
    }, 'the proof');
    expect(proof.record).toMatchObject({ id: receipt.id, contentHash: receipt.contentHash });
    expect(proof.anchor.contract).toBe(node.deployment().anchorRegistry);
    expect(proof.anchor.organization).toBe(node.organization);

    const view = await json(await node.api(`/records/${receipt.id}`));
    expect(view.batch.state).toBe('confirmed');
    const batch = await json(await node.api(`/batches/${view.batch.sequence}`));
    expect(batch.anchor.transactionHash).toBe(proof.anchor.transactionHash);

    const recordFile = join(scratch, 'record.bin');
    const proofFile = join(scratch, 'proof.json');
    writeFileSync(recordFile, bytes);
    writeFileSync(proofFile, JSON.stringify(proof));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(
        await verifyCommand(recordFile, proofFile, {
          rpc: node.rpcUrl,
          contract: node.deployment().anchorRegistry,
        }),
      ).toBe(0);
      writeFileSync(recordFile, Buffer.concat([bytes, Buffer.from(' ')]));
      expect(await verifyCommand(recordFile, proofFile, { rpc: node.rpcUrl })).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/SHA-256/);
      writeFileSync(recordFile, bytes);
      writeFileSync(proofFile, JSON.stringify({ ...proof, batch: { sequence: proof.batch.sequence + 1 } }));
      expect(await verifyCommand(recordFile, proofFile, { rpc: node.rpcUrl })).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/batch sequence/);
      writeFileSync(proofFile, '{"not":"a proof"');
      expect(await verifyCommand(recordFile, proofFile, { rpc: node.rpcUrl })).toBe(2);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });

  it('appends a JSON batch atomically', async () => {
    const res = await post(
      node,
      '/records/batch',
      JSON.stringify({
        records: [1, 2, 3].map((n) => ({
          kind: 'test.batch',
          content: Buffer.from(`b${n}`).toString('base64'),
        })),
      }),
      'application/json',
    );
    expect(res.status).toBe(201);
    const { records } = await json(res);
    expect(records).toHaveLength(3);
    expect(records[1].id).toBe(records[0].id + 1);
    expect(records[2].id).toBe(records[0].id + 2);
  });

  describe('bad input gets a clear error and changes nothing', () => {
    async function lastId(): Promise<number> {
      const r = await json(await post(node, '/records?kind=probe', 'probe'));
      return r.id as number;
    }

    const cases: [string, () => Promise<Response>, number, string][] = [
      [
        'an oversize record',
        () => post(node, '/records?kind=x', Buffer.alloc(4097, 1)),
        413,
        'REQUEST.BODY_TOO_LARGE',
      ],
      [
        'a JSON body on the raw record route',
        () => post(node, '/records?kind=x', '{"a":1}', 'application/json'),
        415,
        'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'an unknown content type',
        () => post(node, '/records?kind=x', 'abc', 'text/plain'),
        415,
        'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      ],
      ['a missing kind', () => post(node, '/records', 'abc'), 400, 'REQUEST.INVALID'],
      [
        'a kind with spaces',
        () => post(node, '/records?kind=no%20spaces', 'abc'),
        400,
        'RECORD.INVALID_KIND',
      ],
      ['an empty record', () => post(node, '/records?kind=x', Buffer.alloc(0)), 400, 'RECORD.EMPTY'],
      [
        'malformed JSON',
        () => post(node, '/records/batch', '{"records": [', 'application/json'),
        400,
        'REQUEST.MALFORMED_JSON',
      ],
      [
        'a batch with an extra field',
        () =>
          post(
            node,
            '/records/batch',
            JSON.stringify({ records: [{ kind: 'x', content: 'YQ==', extra: 1 }] }),
            'application/json',
          ),
        400,
        'REQUEST.INVALID',
      ],
      [
        'bad base64',
        () =>
          post(
            node,
            '/records/batch',
            JSON.stringify({
              records: [
                { kind: 'x', content: 'YQ==' },
                { kind: 'x', content: '***' },
              ],
            }),
            'application/json',
          ),
        400,
        'RECORD.BAD_BASE64',
      ],
      [
        'one bad kind in a batch',
        () =>
          post(
            node,
            '/records/batch',
            JSON.stringify({
              records: [
                { kind: 'ok', content: 'YQ==' },
                { kind: '.bad', content: 'YQ==' },
              ],
            }),
            'application/json',
          ),
        400,
        'RECORD.INVALID_KIND',
      ],
      [
        'an empty record in a batch',
        () =>
          post(
            node,
            '/records/batch',
            JSON.stringify({
              records: [
                { kind: 'ok', content: 'YQ==' },
                { kind: 'ok', content: '' },
              ],
            }),
            'application/json',
          ),
        400,
        'RECORD.EMPTY',
      ],
      [
        'too many records in a batch',
        () =>
          post(
            node,
            '/records/batch',
            JSON.stringify({ records: Array.from({ length: 11 }, () => ({ kind: 'x', content: 'YQ==' })) }),
            'application/json',
          ),
        400,
        'RECORD.BATCH_TOO_LARGE',
      ],
      ['a non-numeric record id', () => node.api(`/records/abc`), 400, 'REQUEST.INVALID'],
      ['an unknown record', () => node.api(`/records/999999/proof`), 404, 'RECORD.NOT_FOUND'],
      ['an unknown batch', () => node.api(`/batches/999999`), 404, 'BATCH.NOT_FOUND'],
      ['an unknown route', () => node.api(`/nothing-here`), 404, 'ROUTE.NOT_FOUND'],
    ];

    it.each(cases)('%s', async (_name, send, status, code) => {
      const before = await lastId();
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await json(res);
      expect(problem).toMatchObject({ status, code });
      expect(problem.detail.length).toBeGreaterThan(10);
      // Nothing was stored: the next record gets the very next id.
      expect(await lastId()).toBe(before + 1);
    });

    it('names the offending record of a batch', async () => {
      const res = await post(
        node,
        '/records/batch',
        JSON.stringify({
          records: [
            { kind: 'ok', content: 'YQ==' },
            { kind: '.bad', content: 'YQ==' },
          ],
        }),
        'application/json',
      );
      expect((await json(res)).detail).toMatch(/^records\[1\]/);
    });
  });

  it('publishes an OpenAPI document covering every route', async () => {
    const doc = await json(await node.api(`/openapi.json`));
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/health',
      '/records',
      '/records/batch',
      '/records/{id}',
      '/records/{id}/content',
      '/records/{id}/proof',
      '/batches/{sequence}',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
