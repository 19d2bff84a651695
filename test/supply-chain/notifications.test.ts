import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { supplySuspectRoutes } from '../../src/gateway/routes/supplySuspect.js';
import { ProblemSchema } from '../../src/gateway/schemas.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite/openDatabase.js';
import { SqliteSupplyNotificationStore } from '../../src/store/sqlite/sqliteSupplyNotificationStore.js';
import { SqliteSupplyStore } from '../../src/store/sqlite/sqliteSupplyStore.js';
import type { SupplyChainNoticeEvent, SuspectLedger } from '../../src/supply-chain/custody/ports.js';
import { NotificationHub } from '../../src/supply-chain/notifications/notificationHub.js';
import { NotificationWatcher } from '../../src/supply-chain/notifications/notificationWatcher.js';
import { notificationsOf } from '../../src/supply-chain/notifications/notices.js';
import type { SupplyNotification } from '../../src/supply-chain/notifications/ports.js';

const SELF = `0x${'aa'.repeat(20)}` as const;
const OTHER = `0x${'bb'.repeat(20)}` as const;
const LOT_ID = `0x${'11'.repeat(32)}` as const;
const UNKNOWN_LOT_ID = `0x${'22'.repeat(32)}` as const;
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const;

const event = (e: Partial<SupplyChainNoticeEvent>): SupplyChainNoticeEvent => ({
  event: 'LotRecalled',
  lotId: LOT_ID,
  gtin: '10614141073464',
  lot: 'L1',
  serial: null,
  packId: null,
  by: OTHER,
  reference: hash(9),
  transactionHash: hash(1),
  blockNumber: 5,
  logIndex: 0,
  ...e,
});

describe('notificationsOf', () => {
  it('groups pack events of one transaction and lot, and keeps only what concerns this organisation', () => {
    const notes = notificationsOf(
      [
        event({ event: 'PackMarkedSuspect', packId: hash(100), serial: '1', logIndex: 0 }),
        event({ event: 'PackMarkedSuspect', packId: hash(101), serial: null, logIndex: 1 }),
        event({
          event: 'LotRecalled',
          lotId: UNKNOWN_LOT_ID,
          gtin: null,
          lot: null,
          transactionHash: hash(2),
        }),
        event({
          event: 'PackTransferred',
          lotId: UNKNOWN_LOT_ID,
          gtin: null,
          lot: null,
          packId: hash(7),
          to: SELF,
          transactionHash: hash(3),
        }),
        event({ event: 'PackTransferred', packId: hash(8), to: OTHER, transactionHash: hash(4) }),
      ],
      { self: SELF, regulator: false },
    );
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatchObject({ kind: 'suspect', scope: 'packs', serials: ['1'], packCount: 2 });
    expect(notes[0]?.message).toMatch(/quarantined 2 packs of lot L1/);
    expect(notes[1]).toMatchObject({ kind: 'received', gtin: null, lotId: UNKNOWN_LOT_ID, packCount: 1 });
  });

  it('tells a regulator of every illegitimate finding', () => {
    const finding = event({
      event: 'LotInvestigated',
      lotId: UNKNOWN_LOT_ID,
      gtin: null,
      lot: null,
      outcome: 'illegitimate',
    });
    expect(notificationsOf([finding], { self: SELF, regulator: false })).toEqual([]);
    expect(notificationsOf([finding], { self: SELF, regulator: true })).toMatchObject([
      { kind: 'investigation', outcome: 'illegitimate', scope: 'lot' },
    ]);
  });
});

describe('NotificationWatcher on SQLite', () => {
  let dir: string;
  let db: SqliteDatabase;
  let head: number;
  let chainEvents: SupplyChainNoticeEvent[];
  let asked: { fromBlock: number; toBlock: number; lots: readonly { gtin: string; lot: string }[] }[];
  const ledger: Pick<SuspectLedger, 'blockNumber' | 'contract' | 'noticeEvents'> = {
    blockNumber: async () => head,
    contract: () => `0x${'cc'.repeat(20)}`,
    noticeEvents: async (q) => {
      asked.push({ fromBlock: q.fromBlock, toBlock: q.toBlock, lots: q.lots });
      expect(q.serialsOf('10614141073464', 'L1')).toEqual(['1', '2']);
      return chainEvents.filter((e) => e.blockNumber >= q.fromBlock && e.blockNumber <= q.toBlock);
    },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-notifications-'));
    db = openDatabase(join(dir, 'db.sqlite'));
    new SqliteSupplyStore(db).recordPacks(
      ['1', '2'].map((serial) => ({
        gtin: '10614141073464',
        serial,
        lot: 'L1',
        expiry: '2027-06-30',
        origin: 'received' as const,
      })),
    );
    head = 10;
    chainEvents = [];
    asked = [];
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts after the head, stores each notification once, publishes it, and resumes from its cursor', async () => {
    const store = new SqliteSupplyNotificationStore(db);
    const hub = new NotificationHub();
    const published: SupplyNotification[] = [];
    hub.subscribe((n) => published.push(n));
    const watcher = new NotificationWatcher({ ledger, store, hub, self: SELF });
    await watcher.start();
    await watcher.stop();
    expect(watcher.lastProcessedBlock).toBe(10);
    chainEvents = [
      event({ blockNumber: 11 }),
      event({ blockNumber: 12, transactionHash: hash(2), lotId: UNKNOWN_LOT_ID, gtin: null, lot: null }),
    ];
    head = 12;
    expect(await watcher.poll()).toBe(false);
    expect(asked.at(-1)).toMatchObject({
      fromBlock: 11,
      toBlock: 12,
      lots: [{ gtin: '10614141073464', lot: 'L1' }],
    });
    expect(published).toMatchObject([{ id: 1, kind: 'recall', lot: 'L1' }]);
    expect(store.list({ limit: 10 })).toMatchObject([{ id: 1, kind: 'recall' }]);

    // A new watcher (a restart) resumes after block 12; a repeated event is not stored twice.
    const again = new NotificationWatcher({ ledger, store, hub, self: SELF });
    await again.start();
    await again.stop();
    expect(again.lastProcessedBlock).toBe(12);
    expect(
      store.append(
        notificationsOf([event({ blockNumber: 11 })], { self: SELF, regulator: false }),
        { contract: 'x', block: 1 },
        0,
      ),
    ).toEqual([]);
    expect(store.list({ limit: 10 })).toHaveLength(1);
  });
});

describe('GET /supply/notifications/stream', () => {
  let app: FastifyInstance;
  let hub: NotificationHub;
  const stored: SupplyNotification[] = [];

  beforeEach(async () => {
    hub = new NotificationHub();
    app = Fastify();
    app.addSchema(ProblemSchema);
    await app.register(supplySuspectRoutes, {
      quarantine: async () => ({}),
      investigate: async () => ({}),
      reports: () => ({ reports: [], nextPageToken: null }),
      report: () => {
        throw new Error('none');
      },
      notifications: {
        list: ({ after }) => stored.filter((n) => after === undefined || n.id > after),
        subscribe: (listener) => hub.subscribe(listener),
      },
      keepAliveMs: 30,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
  });

  const notification = (id: number): SupplyNotification => ({
    id,
    createdAt: new Date().toISOString(),
    ...notificationsOf([event({})], { self: SELF, regulator: false })[0]!,
  });

  it('streams new notifications, replays after Last-Event-ID, sends keep-alives, drops a client that leaves', async () => {
    stored.push(notification(1), notification(2));
    const address = app.server.address() as { port: number };
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${address.port}/supply/notifications/stream`, {
      headers: { 'last-event-id': '1' },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil(/id: 2\n/);
    expect(text).not.toMatch(/id: 1\n/);
    expect(hub.size).toBe(1);
    hub.publish(notification(3));
    await readUntil(/id: 3\nevent: notification\ndata: \{.*"kind":"recall"/);
    await readUntil(/: keep-alive\n\n/);
    controller.abort();
    for (let i = 0; i < 50 && hub.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(hub.size).toBe(0);
  });

  it('ends open streams when the server closes', async () => {
    const address = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${address.port}/supply/notifications/stream`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await app.close();
    for (;;) if ((await reader.read()).done) break;
    expect(hub.size).toBe(0);
  });
});
