import { expect } from 'vitest';
import type { TestNode } from './inProcessNode.js';
import { startFounderNode, startMemberNode } from './memberNode.js';

/**
 * A pharmaceutical supply chain for integration tests: a manufacturer, a wholesaler and a pharmacy, each with its
 * own gateway on one chain, their sites mapped to their organisations on every gateway, and builders of the EPCIS
 * documents they exchange.
 */

/** The product of the tests' packs (`urn:epc:id:sgtin:0614141.107346.*`). */
export const GTIN = '10614141073464';
export const MAKER_SITE = 'urn:epc:id:sgln:0614141.00001.0';
export const WHOLESALER_SITE = 'https://id.gs1.org/414/4012345000122';
export const PHARMACY_SITE = 'urn:epc:id:sgln:4000001.00012.0';

/** The EPC of the pack with serial `serial` of {@link GTIN}. */
export const pack = (serial: number | string) => `urn:epc:id:sgtin:0614141.107346.${serial}`;

export type EpcisEventInput = Record<string, unknown>;

/** An EPCIS 2.0 document as {@link documentBuilder} makes it. */
export interface TestEpcisDocument {
  '@context': string[];
  type: 'EPCISDocument';
  schemaVersion: '2.0';
  creationDate: string;
  epcisBody: { eventList: EpcisEventInput[] };
}

/**
 * A `doc(...events)` making an EPCIS 2.0 document of `events`, each timed by its own clock: an hour ago at first,
 * one second later for every event (so the events of one test keep the order they were built in).
 */
export function documentBuilder(): (...events: EpcisEventInput[]) => TestEpcisDocument {
  let clock = Date.now() - 3_600_000;
  const at = () => new Date((clock += 1_000)).toISOString();
  return (...events) => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events.map((e) => ({ eventTime: at(), eventTimeZoneOffset: '+00:00', ...e })) },
  });
}

/** The manufacturer commissions `serials` of {@link GTIN} in lot `lot` at its site. */
export const commissioning = (lot: string, serials: readonly (number | string)[], expiry = '2027-06-30') => ({
  type: 'ObjectEvent',
  epcList: serials.map(pack),
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
  readPoint: { id: MAKER_SITE },
  bizLocation: { id: MAKER_SITE },
  ilmd: { 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': expiry },
});

/** `from` ships `epcList` to `to` (both owning parties). */
export const shipping = (epcList: string[], from: string, to: string) => ({
  type: 'ObjectEvent',
  epcList,
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  readPoint: { id: from },
  sourceList: [{ type: 'owning_party', source: from }],
  destinationList: [{ type: 'owning_party', destination: to }],
});

/** `epcList` received at `site` (its business location only). */
export const receiving = (epcList: string[], site: string) => ({
  type: 'ObjectEvent',
  epcList,
  action: 'OBSERVE',
  bizStep: 'receiving',
  disposition: 'in_progress',
  bizLocation: { id: site },
});

/** `epcList` dispensed at `site` (its business location only). */
export const dispensing = (epcList: string[], site: string) => ({
  type: 'ObjectEvent',
  epcList,
  action: 'OBSERVE',
  bizStep: 'dispensing',
  disposition: 'dispensed',
  bizLocation: { id: site },
});

/** An `OBSERVE` object event of `epcList` at `site` (read point and business location). */
export const observe = (epcList: string[], bizStep: string, disposition: string, site: string) => ({
  type: 'ObjectEvent',
  epcList,
  action: 'OBSERVE',
  bizStep,
  disposition,
  readPoint: { id: site },
  bizLocation: { id: site },
});

/** An aggregation (`ADD` packs, `DELETE` unpacks) of `childEPCs` into `parentID` at `site`. */
export const aggregation = (
  action: string,
  parentID: string,
  childEPCs: string[],
  bizStep: string,
  site: string,
) => ({
  type: 'AggregationEvent',
  parentID,
  childEPCs,
  action,
  bizStep,
  disposition: 'in_progress',
  readPoint: { id: site },
});

/** `POST path` with a JSON body (an EPCIS content type for `/epcis/…`), with the status and the parsed answer. */
export async function post(
  node: TestNode,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, any> }> {
  const res = await node.api(path, {
    method: 'POST',
    headers: { 'content-type': path.startsWith('/epcis') ? 'application/ld+json' : 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Captures `document` at `node` (`POST /epcis/capture`), with the status and the parsed answer. */
export const capture = (node: TestNode, document: unknown) => post(node, '/epcis/capture', document);

/** What `GET /verify/product` answers. */
export interface VerifyAnswer {
  verified: boolean;
  reason?: string;
  owner?: string;
}

/** `GET /verify/product` at `node` of the pack `serial` of {@link GTIN} in lot `lot`, as sold by `seller` if given. */
export async function verifyPack(
  node: TestNode,
  lot: string,
  serial: number | string,
  seller?: string,
): Promise<VerifyAnswer> {
  const res = await node.api(
    `/verify/product?gtin=${GTIN}&serial=${serial}&lot=${lot}${seller ? `&seller=${seller}` : ''}`,
  );
  return (await res.json()) as VerifyAnswer;
}

export interface SupplyConsortium {
  maker: TestNode;
  wholesaler: TestNode;
  pharmacy: TestNode;
  /** Stops and removes the three gateways. */
  destroy(): Promise<void>;
}

/** `PUT /supply/parties` at `node`: maps the location or party `party` to `organization`. */
export async function mapParty(
  node: TestNode,
  party: { party: string; organization: string; name: string },
): Promise<Response> {
  return node.api('/supply/parties', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(party),
  });
}

/**
 * Starts the manufacturer's gateway (founding the chain), the wholesaler's and the pharmacy's, and maps each one's
 * site to its organisation on all three.
 */
export async function startSupplyConsortium(): Promise<SupplyConsortium> {
  const started: TestNode[] = [];
  const destroy = async () => {
    for (const node of started.reverse()) await node.destroy();
  };
  try {
    const maker = await startFounderNode(['MANUFACTURER']);
    started.push(maker);
    const wholesaler = await startMemberNode(maker, 'wholesaler', ['DISTRIBUTOR']);
    started.push(wholesaler);
    const pharmacy = await startMemberNode(maker, 'pharmacy', ['DISPENSER']);
    started.push(pharmacy);
    for (const node of [maker, wholesaler, pharmacy]) {
      for (const [party, organization, name] of [
        [MAKER_SITE, maker.organization, 'maker'],
        [WHOLESALER_SITE, wholesaler.organization, 'wholesaler'],
        [PHARMACY_SITE, pharmacy.organization, 'pharmacy'],
      ] as const) {
        expect((await mapParty(node, { party, organization, name })).status).toBe(200);
      }
    }
    return { maker, wholesaler, pharmacy, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * Carries the new lot `lot` down the chain by each organisation's own captures, every step accepted: the maker
 * commissions `serials`, commits the lot and ships them all to the wholesaler; the wholesaler and the pharmacy capture
 * the commissioning document (how a partner knows the lot's packs); the wholesaler ships `onward` of them on to the
 * pharmacy.
 */
export async function distributeLot(
  { maker, wholesaler, pharmacy }: SupplyConsortium,
  doc: ReturnType<typeof documentBuilder>,
  { lot, serials, onward }: { lot: string; serials: readonly number[]; onward: readonly number[] },
): Promise<void> {
  const accepted = async (sent: Promise<{ status: number; body: unknown }>, status = 202) => {
    const answer = await sent;
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  };
  const lotDocument = doc(commissioning(lot, serials));
  await accepted(capture(maker, lotDocument));
  await accepted(post(maker, '/supply/lots/commit', { gtin: GTIN, lot }), 201);
  await accepted(capture(maker, doc(shipping(serials.map(pack), MAKER_SITE, WHOLESALER_SITE))));
  await accepted(capture(wholesaler, lotDocument));
  await accepted(capture(pharmacy, lotDocument));
  await accepted(capture(wholesaler, doc(shipping(onward.map(pack), WHOLESALER_SITE, PHARMACY_SITE))));
}
