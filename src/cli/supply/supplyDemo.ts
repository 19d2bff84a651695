import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startLocalFounder, startLocalMember, type LocalNode } from './localConsortium.js';

/**
 * `careledger supply demo`: a drug's journey across three organisations, each with its own gateway on one local
 * chain (started here, removed afterwards): a manufacturer commissions and ships, a wholesaler receives and sells
 * on, a pharmacy verifies and dispenses to a patient. On the way: a counterfeit (a serial never commissioned), a
 * clone of a dispensed pack, a diverted pack (one that never left the manufacturer turns up at the pharmacy), and a
 * recall. Each line says which party sees what.
 */

const GTIN = '10614141073464';
const COMPANY = '0614141.107346';
const sites = {
  manufacturer: 'urn:epc:id:sgln:0614141.00001.0',
  wholesaler: 'urn:epc:id:sgln:4012345.00012.0',
  pharmacy: 'urn:epc:id:sgln:4000001.00012.0',
} as const;
type Party = keyof typeof sites;

interface DemoOptions {
  /** Print JSON lines instead of text. */
  json?: boolean;
}

export async function supplyDemoCommand(options: DemoOptions = {}): Promise<number> {
  const token = `demo-${randomBytes(24).toString('base64url')}`;
  const env = { LOG_LEVEL: 'silent', ANCHOR_BATCH_AGE_MS: '200' };
  const say = (party: Party | 'regulator', what: string, detail?: unknown) => {
    if (options.json) console.log(JSON.stringify({ party, what, ...(detail ? { detail } : {}) }));
    else console.log(`${party.padEnd(12)} ${what}`);
  };
  const nodes: LocalNode[] = [];
  try {
    console.log('Starting a local chain and three gateways (manufacturer, wholesaler, pharmacy)…');
    const manufacturer = await startLocalFounder({
      name: 'Acme Pharma',
      roles: ['MANUFACTURER'],
      token,
      env,
    });
    nodes.push(manufacturer);
    const wholesaler = await startLocalMember(manufacturer, {
      name: 'MedDistrib',
      roles: ['DISTRIBUTOR'],
      token,
      env,
    });
    nodes.push(wholesaler);
    const pharmacy = await startLocalMember(manufacturer, {
      name: 'Corner Pharmacy',
      roles: ['DISPENSER'],
      token,
      env,
    });
    nodes.push(pharmacy);
    const at: Record<Party, LocalNode> = { manufacturer, wholesaler, pharmacy };

    const call = async (party: Party, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${at[party].url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    let clock = Date.now() - 3_600_000;
    const document = (...events: Record<string, unknown>[]) => ({
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: {
        eventList: events.map((e) => ({
          eventTime: new Date((clock += 60_000)).toISOString(),
          eventTimeZoneOffset: '+00:00',
          ...e,
        })),
      },
    });
    const pack = (serial: string) => `urn:epc:id:sgtin:${COMPANY}.${serial}`;
    const capture = (party: Party, doc: unknown) => call(party, 'POST', '/epcis/capture', doc);
    const verify = async (party: Party, serial: string, lot: string, seller?: LocalNode) => {
      const query = `gtin=${GTIN}&serial=${serial}&lot=${lot}${seller ? `&seller=${seller.organization}` : ''}`;
      const { body } = await call(party, 'GET', `/verify/product?${query}`);
      return body.verified === true
        ? `verified (owner ${String(body.owner).slice(0, 10)}…)`
        : `NOT verified: ${String(body.reason)} — ${String(body.message)}`;
    };
    const ship = (serials: string[] | string, from: Party, to: Party) => ({
      type: 'ObjectEvent',
      epcList: Array.isArray(serials) ? serials.map(pack) : [serials],
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      readPoint: { id: sites[from] },
      sourceList: [{ type: 'owning_party', source: sites[from] }],
      destinationList: [{ type: 'owning_party', destination: sites[to] }],
    });
    const dispense = (serial: string) => ({
      type: 'ObjectEvent',
      epcList: [pack(serial)],
      action: 'OBSERVE',
      bizStep: 'dispensing',
      disposition: 'dispensed',
      bizLocation: { id: sites.pharmacy },
    });

    for (const party of Object.keys(at) as Party[]) {
      for (const [site, owner] of Object.entries(sites) as [Party, string][]) {
        await call(party, 'PUT', '/supply/parties', {
          party: owner,
          organization: at[site].organization,
          name: site,
        });
      }
    }
    say('manufacturer', `gateway ${manufacturer.url}, organisation ${manufacturer.organization}`);
    say('wholesaler', `gateway ${wholesaler.url}, organisation ${wholesaler.organization}`);
    say('pharmacy', `gateway ${pharmacy.url}, organisation ${pharmacy.organization}`);

    // 1. Commissioning: six packs of lot A24, serialised, with lot and expiry; the lot committed on chain.
    const commissioning = document({
      type: 'ObjectEvent',
      epcList: ['1', '2', '3', '4', '5', '6'].map(pack),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      readPoint: { id: sites.manufacturer },
      bizLocation: { id: sites.manufacturer },
      ilmd: { 'cbvmda:lotNumber': 'A24', 'cbvmda:itemExpirationDate': '2028-03-31' },
    });
    await capture('manufacturer', commissioning);
    const committed = await call('manufacturer', 'POST', '/supply/lots/commit', { gtin: GTIN, lot: 'A24' });
    say(
      'manufacturer',
      `commissioned 6 packs of lot A24 and committed the lot on chain (block ${String(committed.body.blockNumber)})`,
    );

    // 2. Packing into a case and shipping it to the wholesaler: ownership moves on chain.
    const shipped = await capture(
      'manufacturer',
      document(
        {
          type: 'AggregationEvent',
          parentID: 'urn:epc:id:sscc:0614141.1234567890',
          childEPCs: ['1', '2', '3', '4'].map(pack),
          action: 'ADD',
          bizStep: 'packing',
          disposition: 'in_progress',
          readPoint: { id: sites.manufacturer },
        },
        ship('urn:epc:id:sscc:0614141.1234567890', 'manufacturer', 'wholesaler'),
      ),
    );
    say(
      'manufacturer',
      `packed packs 1–4 into case 0614141.1234567890 and shipped it: ${JSON.stringify(shipped.body.effects ?? shipped.body.detail)}`,
    );

    // 3. The wholesaler receives the seller's documents, verifies on receipt, and sells three packs to the pharmacy.
    await capture('wholesaler', commissioning);
    say('wholesaler', `pack 2 on receipt: ${await verify('wholesaler', '2', 'A24', wholesaler)}`);
    await capture('wholesaler', document(ship(['1', '2', '3'], 'wholesaler', 'pharmacy')));
    say('wholesaler', 'shipped packs 1–3 to the pharmacy');

    // 4. The pharmacy verifies and dispenses pack 1 to a patient.
    await capture('pharmacy', commissioning);
    say('pharmacy', `pack 1 before dispensing: ${await verify('pharmacy', '1', 'A24', pharmacy)}`);
    const dispensed = await capture('pharmacy', document(dispense('1')));
    say(
      'pharmacy',
      `dispensed pack 1 to a patient (${dispensed.status === 202 ? 'recorded on chain' : String(dispensed.body.detail)})`,
    );

    // 5. A counterfeit: a pack with a serial the manufacturer never commissioned.
    say('pharmacy', `a pack labelled serial 9999 of lot A24: ${await verify('pharmacy', '9999', 'A24')}`);
    // 6. A clone of the dispensed pack turns up.
    const clone = await capture('pharmacy', document(dispense('1')));
    say(
      'pharmacy',
      `a second pack labelled serial 1 at the counter: dispensing refused (${clone.status}): ${String(clone.body.detail)}`,
    );
    say('wholesaler', `pack 1, checked by the wholesaler: ${await verify('wholesaler', '1', 'A24')}`);
    // 7. A diverted pack: pack 5 never left the manufacturer, yet someone offers it to the pharmacy as the wholesaler's.
    say(
      'pharmacy',
      `pack 5 offered as the wholesaler's: ${await verify('pharmacy', '5', 'A24', wholesaler)}`,
    );
    // 8. A recall: every partner sees it at once; dispensing of the lot stops.
    await call('manufacturer', 'POST', '/supply/lots/recall', {
      gtin: GTIN,
      lot: 'A24',
      reason: 'out-of-specification assay',
    });
    say('manufacturer', 'recalled lot A24');
    for (const party of ['wholesaler', 'pharmacy'] as const) {
      say(
        party,
        `pack ${party === 'pharmacy' ? '2' : '4'} after the recall: ${await verify(party, party === 'pharmacy' ? '2' : '4', 'A24')}`,
      );
    }
    const refused = await capture('pharmacy', document(dispense('2')));
    say(
      'pharmacy',
      `dispensing pack 2 after the recall: refused (${refused.status}): ${String(refused.body.code)}`,
    );
    return 0;
  } catch (error) {
    console.error(`careledger supply demo: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  } finally {
    for (const node of nodes.reverse()) {
      await node.stop().catch(() => undefined);
      rmSync(node.dataDir, { recursive: true, force: true });
    }
  }
}
