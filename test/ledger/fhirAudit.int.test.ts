import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditCommand } from '../../src/cli/audit.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

async function runAudit(node: TestNode): Promise<{ code: number; report: any }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
  try {
    const code = await auditCommand({ data: node.dataDir, rpc: node.rpcUrl, json: true });
    return { code, report: JSON.parse(out.join('\n')) };
  } finally {
    log.mockRestore();
  }
}

describe('careledger audit over encrypted FHIR versions', () => {
  let node: TestNode;
  const fhir = (path: string, method = 'GET', body?: unknown) =>
    node.api(`/fhir${path}`, {
      method,
      headers: { 'content-type': 'application/fhir+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  let kept = '';
  let erased = '';

  beforeAll(async () => {
    node = await startTestNode();
    const created: any = await (
      await fhir('/Patient', 'POST', { resourceType: 'Patient', name: [{ family: 'Audited' }] })
    ).json();
    kept = created.id;
    const v2 = await fhir(`/Patient/${kept}`, 'PUT', {
      resourceType: 'Patient',
      id: kept,
      name: [{ family: 'Audited', given: ['Again'] }],
    });
    expect(v2.status).toBe(200);
    const other: any = await (
      await fhir('/Patient', 'POST', { resourceType: 'Patient', name: [{ family: 'Forgotten' }] })
    ).json();
    erased = other.id;
    await fhir('/Observation', 'POST', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'heart rate' },
      subject: { reference: `Patient/${erased}` },
    });
    // A read is an access: it adds an encrypted, anchored audit entry, which the audit must re-hash too.
    expect((await fhir(`/Patient/${kept}`, 'GET')).status).toBe(200);
    await eventually(async () => {
      const h: any = await (await fetch(`${node.url}/health`)).json();
      return h.anchoring.pendingRecords === 0 ? h : undefined;
    }, 'everything anchored');
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('finds every version intact, and counts an erased patient as hashes only', async () => {
    const erase = await node.api(`/admin/patients/${erased}/erase`, { method: 'POST' });
    expect(erase.status).toBe(200);
    const { code, report } = await runAudit(node);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect(report.recordsChecked).toBe(5); // 4 FHIR versions and 1 audit entry
    expect(report.erasedRecords).toBe(2);
  });

  it('reports exactly the version whose ciphertext was edited in the database', async () => {
    const db = new Database(join(node.dataDir, 'careledger.db'));
    const row = db
      .prepare(`SELECT payload FROM fhir_versions WHERE resource_type = 'Patient' AND id = ? AND version = 1`)
      .get(kept) as {
      payload: Buffer;
    };
    const edited = Buffer.from(row.payload);
    edited[20] = (edited[20] ?? 0) ^ 0x01;
    db.prepare(
      `UPDATE fhir_versions SET payload = ? WHERE resource_type = 'Patient' AND id = ? AND version = 1`,
    ).run(edited, kept);
    db.close();

    const { code, report } = await runAudit(node);
    expect(code).toBe(1);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0].kind).toBe('content-unreadable');
    expect(report.findings[0].message).toContain(`Patient/${kept}/_history/1`);
    // The read path refuses the tampered version too, while version 2 is unaffected.
    expect((await fhir(`/Patient/${kept}/_history/2`)).status).toBe(200);
  });
});
