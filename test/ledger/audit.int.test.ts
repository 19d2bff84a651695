import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordLeafHash } from '../../src/anchoring/recordLeaf.js';
import { auditCommand } from '../../src/cli/audit.js';
import { fromHex } from '../../src/core/hex.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

type Json = Record<string, any>;

async function runAudit(node: TestNode): Promise<{ code: number; report: Json }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
  try {
    const code = await auditCommand({ data: node.dataDir, rpc: node.rpcUrl, json: true });
    return { code, report: JSON.parse(out.join('\n')) as Json };
  } finally {
    log.mockRestore();
  }
}

describe('careledger audit against a running node', () => {
  let node: TestNode;
  const ids: number[] = [];

  beforeAll(async () => {
    node = await startTestNode({ ANCHOR_BATCH_SIZE: '4' });
    for (let i = 0; i < 10; i++) {
      const res = await node.api(`/records?kind=test.audit`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: `audited record ${i}`,
      });
      ids.push(((await res.json()) as Json).id as number);
    }
    await eventually(async () => {
      const h = (await (await node.api(`/health`)).json()) as Json;
      return h.anchoring.pendingRecords === 0 ? h : undefined;
    }, 'every batch to be anchored');
  });
  afterAll(async () => {
    await node?.destroy();
  });

  const db = () => new Database(join(node.dataDir, 'careledger.db'));

  it('finds nothing wrong in untouched data, and checks the chain', async () => {
    const { code, report } = await runAudit(node);
    expect(code).toBe(0);
    expect(report).toMatchObject({ recordsChecked: 10, batchesChecked: 3, chainChecked: true, findings: [] });
  });

  it('reports exactly the record whose bytes were edited in the database', async () => {
    const target = ids[5] as number;
    const conn = db();
    conn
      .prepare('UPDATE records SET content = ? WHERE id = ?')
      .run(Buffer.from('audited record 5, edited'), target);
    conn.close();
    const { code, report } = await runAudit(node);
    expect(code).toBe(1);
    const records = new Set(
      report.findings.filter((f: Json) => f.recordId !== undefined).map((f: Json) => f.recordId),
    );
    expect([...records]).toEqual([target]);
    expect(report.findings.map((f: Json) => f.kind)).toContain('content-hash-mismatch');
    const conn2 = db();
    conn2.prepare('UPDATE records SET content = ? WHERE id = ?').run(Buffer.from('audited record 5'), target);
    conn2.close();
    expect((await runAudit(node)).code).toBe(0);
  });

  it('catches a forgery that rewrote the bytes and every stored hash consistently', async () => {
    const target = ids[1] as number;
    const forged = Buffer.from('a forged record');
    const contentHash = createHash('sha256').update(forged).digest();
    const conn = db();
    const row = conn.prepare('SELECT kind FROM records WHERE id = ?').get(target) as { kind: string };
    const leaf = recordLeafHash({
      organization: fromHex(node.organization, 20),
      id: target,
      kind: row.kind,
      contentHash,
    });
    conn
      .prepare('UPDATE records SET content = ?, content_hash = ?, leaf_hash = ? WHERE id = ?')
      .run(forged, contentHash, Buffer.from(leaf), target);
    conn.close();
    const { code, report } = await runAudit(node);
    expect(code).toBe(1);
    const kinds = report.findings.map((f: Json) => f.kind);
    expect(kinds).toContain('not-on-chain');
    expect(report.findings.every((f: Json) => f.batchSequence === 1)).toBe(true);
  });
});
