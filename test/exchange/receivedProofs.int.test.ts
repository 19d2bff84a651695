import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordProof } from '../../src/anchoring/recordProof.js';
import type { ExchangeEntry } from '../../src/exchange/exchangeMessages.js';
import { verifyReceivedEntries } from '../../src/exchange/receivedProofs.js';
import { createAnchorReader } from '../../src/ledger/viemAnchorReader.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

/**
 * What a receiving gateway checks of each resource a holder sends, against a real node's proofs and its chain: a
 * holder that is itself dishonest (its envelope signature is fine) still cannot get an altered, foreign or
 * unanchored resource shown.
 */
describe('verifyReceivedEntries', () => {
  let node: TestNode;
  let entries: ExchangeEntry[];
  let chain: { reader: ReturnType<typeof createAnchorReader>; anchorRegistry: Hex };

  beforeAll(async () => {
    node = await startTestNode();
    const created = await node.fhir.write([
      { op: 'create', resource: { resourceType: 'Patient', name: [{ family: 'Mensah' }] } },
    ]);
    const patientId = created[0]?.id as string;
    const observations = await node.fhir.write(
      [1, 2, 3].map((i) => ({
        op: 'create' as const,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: `reading ${i}` },
          subject: { reference: `Patient/${patientId}` },
        },
      })),
    );
    const all = [...created, ...observations];
    entries = await eventually(async () => {
      try {
        return all.map((w) => ({
          resource: w.json as string,
          proof: node.fhir.proof(w.resourceType, w.id, w.version),
        }));
      } catch {
        return undefined;
      }
    }, 'the batch anchored');
    chain = { reader: createAnchorReader(node.rpcUrl), anchorRegistry: node.deployment().anchorRegistry };
  }, 60_000);

  afterAll(async () => node?.destroy());

  const proofOf = (entry: ExchangeEntry) => structuredClone(entry.proof) as RecordProof;

  it('accepts the holder’s resources exactly as anchored', async () => {
    const { verified, dropped } = await verifyReceivedEntries(node.organization, entries, chain);
    expect(dropped).toEqual([]);
    expect(verified.map((v) => v.json)).toEqual(entries.map((e) => e.resource));
  });

  it('drops each bad entry with its reason and keeps the good ones', async () => {
    const [patient, a, b, c] = entries as [ExchangeEntry, ExchangeEntry, ExchangeEntry, ExchangeEntry];
    const altered = { ...a, resource: a.resource.replace('reading 1', 'reading 9') };
    const swapped = { resource: b.resource, proof: patient.proof }; // a real proof, of another resource
    const foreignRegistry = proofOf(c);
    foreignRegistry.anchor.contract = '0x000000000000000000000000000000000000dEaD';
    const wrongPath = proofOf(patient);
    wrongPath.path = wrongPath.path.map(() => `0x${'00'.repeat(32)}`);
    const notJson = { resource: '{"resourceType":', proof: a.proof };
    const { verified, dropped } = await verifyReceivedEntries(
      node.organization,
      [
        altered,
        swapped,
        { resource: c.resource, proof: foreignRegistry },
        { resource: patient.resource, proof: wrongPath },
        notJson,
        { resource: b.resource, proof: { format: 'something else' } },
        c,
      ],
      chain,
    );
    expect(verified.map((v) => v.json)).toEqual([c.resource]);
    expect(dropped.map((d) => d.code)).toEqual([
      'PROOF.CONTENT_MISMATCH',
      'PROOF.WRONG_KIND',
      'PROOF.WRONG_CONTRACT',
      'MERKLE.ROOT_MISMATCH',
      'EXCHANGE.NOT_FHIR',
      'PROOF.MALFORMED',
    ]);
    expect(dropped[0]?.reference).toMatch(/^Observation\/[^/]+\/_history\/1$/);
  });

  it('refuses a genuine proof presented by another organisation than the one that anchored it', async () => {
    const other = '0x1111111111111111111111111111111111111111';
    const { verified, dropped } = await verifyReceivedEntries(other, entries.slice(0, 1), chain);
    expect(verified).toEqual([]);
    expect(dropped[0]?.code).toBe('PROOF.WRONG_ORGANIZATION');
  });
});
