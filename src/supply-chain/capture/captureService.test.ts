import { describe, expect, it } from 'vitest';
import { PHARMA_NOW, pharmaDocument } from '../epcis/testdata/pharmaDocument.js';
import { CaptureService, type CaptureServiceOptions } from './captureService.js';
import { epcisDocumentReader } from './epcisDocumentReader.js';
import type { EpcisStore, StoredEpcisEvent } from './ports.js';

/** A store in memory and an anchoring that commits a turn later, like the spine's group commit. */
function setup(beforeStore?: CaptureServiceOptions['beforeStore']) {
  const rows: StoredEpcisEvent[] = [];
  const store: EpcisStore = {
    insertEvents: (events) => {
      for (const e of events) {
        if (rows.some((r) => r.eventId === e.eventId)) throw new Error(`event ${e.eventId} stored twice`);
        rows.push(e);
      }
    },
    existingEventIds: (ids) => new Set(ids.filter((id) => rows.some((r) => r.eventId === id))),
    getEvent: () => undefined,
    query: () => [],
    getCapture: () => undefined,
  };
  let nextId = 1;
  const service = new CaptureService({
    store,
    reader: epcisDocumentReader(),
    now: () => PHARMA_NOW,
    beforeStore,
    anchoring: {
      appendHashes: (items, withinCommit) =>
        new Promise((resolve, reject) =>
          setImmediate(() => {
            const receipts = items.map(() => ({ id: nextId++ }));
            try {
              withinCommit?.(receipts);
              resolve(receipts);
            } catch (error) {
              reject(error);
            }
          }),
        ),
    },
  });
  return { service, rows };
}

const EVENTS = (pharmaDocument().epcisBody as { eventList: unknown[] }).eventList.length;

describe('CaptureService', () => {
  it('stores each event once when the same document is captured several times at once', async () => {
    const { service, rows } = setup();
    const jobs = await Promise.all([1, 2, 3].map(() => service.capture(pharmaDocument())));
    expect(jobs.map((j) => j.stored).sort()).toEqual([0, 0, EVENTS]);
    expect(jobs.map((j) => j.duplicates).sort()).toEqual([0, EVENTS, EVENTS]);
    expect(rows).toHaveLength(EVENTS);
  });

  it('stores the events of a capture that failed when another one waiting for them goes ahead', async () => {
    let calls = 0;
    const { service, rows } = setup(async () => {
      if (++calls === 1) throw new Error('the chain refused it');
      return [];
    });
    const [first, second] = await Promise.allSettled([
      service.capture(pharmaDocument()),
      service.capture(pharmaDocument()),
    ]);
    expect(first.status).toBe('rejected');
    expect(second).toMatchObject({ status: 'fulfilled', value: { stored: EVENTS, duplicates: 0 } });
    expect(rows).toHaveLength(EVENTS);
    // Later captures find them stored.
    expect(await service.capture(pharmaDocument())).toMatchObject({ stored: 0, duplicates: EVENTS });
  });
});
