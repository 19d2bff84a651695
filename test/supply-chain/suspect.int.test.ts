import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestNode } from '../helpers/inProcessNode.js';
import {
  commissioning,
  distributeLot,
  documentBuilder,
  GTIN,
  post,
  startSupplyConsortium,
  verifyPack,
  type SupplyConsortium,
} from '../helpers/supplyConsortium.js';

/** A Server-Sent Events stream read with fetch: every `notification` event, parsed, as it arrives. */
class NotificationStream {
  readonly received: Record<string, any>[] = [];
  comments = 0;
  private readonly controller = new AbortController();
  private readonly waiters = new Set<() => void>();
  readonly opened: Promise<void>;

  constructor(node: TestNode) {
    this.opened = this.read(node);
  }

  private async read(node: TestNode): Promise<void> {
    const res = await node.api('/supply/notifications/stream', { signal: this.controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (block.split('\n').some((l) => l.startsWith(':'))) this.comments++;
            if (data) this.received.push(JSON.parse(data) as Record<string, any>);
            for (const wake of this.waiters) wake();
          }
        }
      } catch {
        // aborted
      }
    })();
  }

  /** Resolves with the first notification matching `predicate`, waiting at most `timeoutMs`. */
  async next(
    predicate: (n: Record<string, any>) => boolean,
    timeoutMs = 5_000,
  ): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching notification within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  close(): void {
    this.controller.abort();
  }
}

/**
 * Suspect product across three gateways on one chain: the pharmacy quarantines a pack (every verification answers
 * SUSPECT, the wholesaler is notified), finds it illegitimate (a report naming every organisation that handled it,
 * anchored; ILLEGITIMATE everywhere), and the maker's recall reaches the holders' notification streams.
 */
describe('suspect product, investigations and notifications across three gateways', () => {
  let consortium: SupplyConsortium | undefined;
  let maker: TestNode;
  let wholesaler: TestNode;
  let pharmacy: TestNode;
  const streams: NotificationStream[] = [];
  const LOT = 'SUS1';
  const OTHER_LOT = 'SUS2';
  const doc = documentBuilder();
  const verify = (node: TestNode, n: number) => verifyPack(node, LOT, n);
  const lower = (a: string) => a.toLowerCase();

  beforeAll(async () => {
    consortium = await startSupplyConsortium();
    ({ maker, wholesaler, pharmacy } = consortium);
    // Packs 1-4 of the first lot go maker → wholesaler, packs 1-2 on to the pharmacy; each partner captures the lot's
    // commissioning document (how it knows the lot's packs). The maker also commissions and commits a second lot.
    await distributeLot(consortium, doc, { lot: LOT, serials: [1, 2, 3, 4], onward: [1, 2] });
    expect((await post(maker, '/epcis/capture', doc(commissioning(OTHER_LOT, [11, 12])))).status).toBe(202);
    expect((await post(maker, '/supply/lots/commit', { gtin: GTIN, lot: OTHER_LOT })).status).toBe(201);
    for (const node of [maker, wholesaler, pharmacy]) streams.push(new NotificationStream(node));
    await Promise.all(streams.map((s) => s.opened));
  }, 180_000);

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await consortium?.destroy();
  });

  it('tells the pharmacy it received packs', async () => {
    const notifications = await eventually(async () => {
      const res = await pharmacy.api('/supply/notifications');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { notifications: Record<string, any>[] };
      return body.notifications.length > 0 && body.notifications;
    }, 'a notification at the pharmacy');
    expect(notifications).toContainEqual(
      expect.objectContaining({
        kind: 'received',
        lotId: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        packCount: 2,
        by: lower(wholesaler.organization),
      }),
    );
  });

  it('the pharmacy quarantines a pack: SUSPECT everywhere, and the wholesaler’s stream hears of it', async () => {
    const quarantined = await post(pharmacy, '/supply/suspect', {
      gtin: GTIN,
      lot: LOT,
      serials: ['1'],
      reason: 'tamper-evident seal broken on receipt',
    });
    expect(quarantined.status, JSON.stringify(quarantined.body)).toBe(201);
    expect(quarantined.body).toMatchObject({
      serials: ['1'],
      reasonHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    });
    for (const node of [maker, wholesaler, pharmacy]) {
      expect(await verify(node, 1)).toMatchObject({ verified: false, reason: 'SUSPECT' });
    }
    const notice = await (streams[1] as NotificationStream).next((n) => n.kind === 'suspect');
    expect(notice).toMatchObject({
      gtin: GTIN,
      lot: LOT,
      scope: 'packs',
      serials: ['1'],
      by: lower(pharmacy.organization),
    });
  });

  it('an illegitimate finding: a report naming maker, wholesaler and pharmacy, anchored; ILLEGITIMATE everywhere', async () => {
    const found = await post(pharmacy, '/supply/investigations', {
      gtin: GTIN,
      lot: LOT,
      serials: ['1'],
      outcome: 'illegitimate',
      report: 'Counterfeit: the tablets contain no active ingredient.',
    });
    expect(found.status, JSON.stringify(found.body)).toBe(201);
    const report = found.body.report as Record<string, any>;
    expect(found.body.reportHash).toBe(report.hash);
    expect(report.document).toMatchObject({
      type: 'IllegitimateProductNotification',
      product: { gtin: GTIN },
      lot: LOT,
      packs: { scope: 'packs', serials: ['1'] },
      finding: { outcome: 'illegitimate' },
      investigatedBy: lower(pharmacy.organization),
    });
    expect(report.document.handlers).toEqual([
      { organization: lower(maker.organization), roles: ['manufacturer', 'sender'] },
      { organization: lower(wholesaler.organization), roles: ['recipient', 'sender'] },
      { organization: lower(pharmacy.organization), roles: ['recipient'] },
    ]);
    for (const node of [maker, wholesaler, pharmacy]) {
      expect(await verify(node, 1)).toMatchObject({ verified: false, reason: 'ILLEGITIMATE' });
    }
    // Stored and anchored here: the anchoring record's content hash is the report's hash.
    const one = await pharmacy.api(`/supply/reports/${report.id as string}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(report);
    const list = (await (await pharmacy.api('/supply/reports')).json()) as Record<string, any>;
    expect(list.reports.map((r: Record<string, any>) => r.id)).toEqual([report.id]);
    const record = (await (await pharmacy.api(`/records/${report.recordId as number}`)).json()) as Record<
      string,
      any
    >;
    expect(record).toMatchObject({ kind: 'supply.illegitimate-report', contentHash: report.hash });
    expect((await pharmacy.api('/supply/reports/nope')).status).toBe(404);
    // Every partner that knows the lot hears of it through the chain event.
    for (const stream of [streams[0], streams[1]] as NotificationStream[]) {
      const notice = await stream.next((n) => n.kind === 'investigation');
      expect(notice).toMatchObject({ outcome: 'illegitimate', serials: ['1'], reference: report.hash });
    }
  });

  it('a cleared investigation lifts the quarantine', async () => {
    const reason = { gtin: GTIN, lot: LOT, serials: ['3'], reason: 'label smudged' };
    expect((await post(wholesaler, '/supply/suspect', reason)).status).toBe(201);
    expect(await verify(maker, 3)).toMatchObject({ verified: false, reason: 'SUSPECT' });
    const cleared = await post(wholesaler, '/supply/investigations', {
      gtin: GTIN,
      lot: LOT,
      serials: ['3'],
      outcome: 'cleared',
      report: 'Label reprinted by the maker; the pack is genuine.',
    });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(201);
    expect(cleared.body.report).toBeUndefined();
    expect(await verify(pharmacy, 3)).toMatchObject({ verified: true });
    await (streams[0] as NotificationStream).next(
      (n) => n.kind === 'investigation' && n.outcome === 'cleared',
    );
  });

  it('a recall by the maker reaches the holders’ notification streams within a couple of seconds', async () => {
    const started = Date.now();
    const recall = await post(maker, '/supply/lots/recall', {
      gtin: GTIN,
      lot: LOT,
      reason: 'assay failure',
    });
    expect(recall.status).toBe(200);
    for (const stream of streams.slice(1)) {
      const notice = await stream.next((n) => n.kind === 'recall', 3_000);
      expect(notice).toMatchObject({ gtin: GTIN, lot: LOT, scope: 'lot', by: lower(maker.organization) });
      expect(notice.message).toMatch(/recalled/);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await verify(wholesaler, 2)).toMatchObject({ verified: false, reason: 'RECALLED' });
    // Newest first, paged.
    const page = (await (await wholesaler.api('/supply/notifications?limit=1')).json()) as Record<
      string,
      any
    >;
    expect(page.notifications).toHaveLength(1);
    expect(page.notifications[0]).toMatchObject({ kind: 'recall' });
    const rest = (await (await wholesaler.api(page.next as string)).json()) as Record<string, any>;
    expect(rest.notifications[0].id).toBeLessThan(page.notifications[0].id);
  });

  it('refuses bad input with 400 and a lot never held with the chain’s 403', async () => {
    for (const body of [
      { gtin: GTIN, lot: LOT },
      { gtin: GTIN, lot: LOT, serials: [], reason: 'x' },
      { gtin: '10614141073465', lot: LOT, reason: 'bad check digit' },
      { gtin: GTIN, lot: LOT, serials: ['2', '2'], reason: 'twice' },
      { gtin: GTIN, lot: 'a lot with spaces', reason: 'x' },
      { gtin: GTIN, lot: LOT, reason: '   ' },
    ]) {
      const res = await post(pharmacy, '/supply/suspect', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(typeof res.body.detail).toBe('string');
    }
    const badOutcome = await post(pharmacy, '/supply/investigations', {
      gtin: GTIN,
      lot: LOT,
      outcome: 'maybe',
      report: 'x',
    });
    expect(badOutcome.status).toBe(400);
    const never = await post(pharmacy, '/supply/suspect', { gtin: GTIN, lot: OTHER_LOT, reason: 'hearsay' });
    expect(never.status).toBe(403);
    expect(never.body.code).toBe('SUPPLY.NOT_LOT_HOLDER');
    const unknown = await post(pharmacy, '/supply/suspect', { gtin: GTIN, lot: 'NOPE', reason: 'x' });
    expect(unknown.status).toBe(404);
  });
});
