import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CareLedgerError, UnavailableError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { PHARMA_NOW, pharmaDocument, withEvent } from '../epcis/testdata/pharmaDocument.js';
import { EpcisDocumentBytes, type CapturedEvent } from './captureService.js';
import { decodeCapturedEvents, encodeCapturedEvents } from './capturedEventsCodec.js';
import { epcisDocumentReader } from './epcisDocumentReader.js';
import { EpcisReaderPool } from './epcisReaderPool.js';

const inline = epcisDocumentReader();
const bytes = (value: unknown) => new EpcisDocumentBytes(Buffer.from(JSON.stringify(value), 'utf8'));
/** What a read throws, or undefined. */
const failure = async (read: () => unknown) => {
  try {
    await read();
    return undefined;
  } catch (error) {
    return error;
  }
};

let pool: EpcisReaderPool;
beforeAll(() => {
  pool = new EpcisReaderPool(2, {}, silentLogger);
});
afterAll(async () => {
  await pool.close();
});

describe('EpcisReaderPool', () => {
  it('reads a document exactly as the in-process reader does, from its bytes or parsed', async () => {
    const expected = inline.read(pharmaDocument(), PHARMA_NOW);
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.some((e) => e.epcs.some((x) => x.kind === 'sgtin' && x.serial !== undefined))).toBe(true);
    expect(await pool.read(bytes(pharmaDocument()), PHARMA_NOW)).toEqual(expected);
    expect(await pool.read(pharmaDocument(), PHARMA_NOW)).toEqual(expected);
    expect(inline.read(bytes(pharmaDocument()), PHARMA_NOW)).toEqual(expected);
  }, 30_000);

  it('refuses a bad document with the same error, naming every problem', async () => {
    const bad = withEvent(0, (e) => {
      (e.epcList as string[])[2] = 'https://id.gs1.org/01/10614141073465/21/1003';
      e.bizStep = 'shiping';
    });
    const expected = (await failure(() => inline.read(bad, PHARMA_NOW))) as CareLedgerError;
    expect(expected).toBeInstanceOf(CareLedgerError);
    const got = (await failure(() => pool.read(bytes(bad), PHARMA_NOW))) as CareLedgerError;
    expect(got).toBeInstanceOf(CareLedgerError);
    expect({ code: got.code, status: got.status, message: got.message, details: got.details }).toEqual({
      code: expected.code,
      status: expected.status,
      message: expected.message,
      details: expected.details,
    });
    expect((got.details as { problems: unknown[] }).problems.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses text that is not JSON with the SyntaxError JSON.parse gives', async () => {
    for (const text of ['{"type":"EPCISDocument"', '', '\uFEFF{}']) {
      const document = new EpcisDocumentBytes(Buffer.from(text, 'utf8'));
      const expected = (await failure(() => inline.read(document, PHARMA_NOW))) as Error;
      expect(expected).toBeInstanceOf(SyntaxError);
      const got = (await failure(() => pool.read(document, PHARMA_NOW))) as Error;
      expect(got).toBeInstanceOf(SyntaxError);
      expect(got.message).toBe(expected.message);
    }
  });

  it('answers many documents in flight each with its own events', async () => {
    const documents = Array.from({ length: 24 }, (_, i) =>
      withEvent(
        i % 5,
        (e) => void (e.eventTime = new Date(PHARMA_NOW - 86_400_000 + i * 1000).toISOString()),
      ),
    );
    const expected = documents.map((d) => inline.read(d, PHARMA_NOW).map((e) => e.eventId));
    const got = await Promise.all(documents.map((d) => pool.read(bytes(d), PHARMA_NOW)));
    expect(got.map((events) => events.map((e) => e.eventId))).toEqual(expected);
  });

  it('fails what a dead worker held with a retryable error, and carries on with a new one', async () => {
    // A long document (about a tenth of a second to read), sent to the first worker (both idle), which then dies.
    const big = pharmaDocument();
    const list = (big.epcisBody as { eventList: unknown[] }).eventList;
    (big.epcisBody as { eventList: unknown[] }).eventList = Array.from({ length: 300 }, () => list).flat();
    const workers = (pool as unknown as { pool: { workers: { worker: { terminate(): Promise<number> } }[] } })
      .pool.workers;
    const first = workers[0];
    const read = pool.read(bytes(big), PHARMA_NOW);
    await first?.worker.terminate();
    await expect(read).rejects.toBeInstanceOf(UnavailableError);
    expect(pool.size).toBe(2);
    expect(workers[0]).not.toBe(first);
    expect((await pool.read(bytes(pharmaDocument()), PHARMA_NOW)).length).toBeGreaterThan(5);
  }, 30_000);

  it('starts its workers at the first document, not before', async () => {
    const lazy = new EpcisReaderPool(1, {}, silentLogger);
    const running = () => (lazy as unknown as { pool: { workers: unknown[] } }).pool.workers.length;
    try {
      expect(running()).toBe(0);
      expect((await lazy.read(bytes(pharmaDocument()), PHARMA_NOW)).length).toBeGreaterThan(5);
      expect(running()).toBe(1);
    } finally {
      await lazy.close();
    }
  }, 30_000);

  it('refuses reads once closed', async () => {
    const closing = new EpcisReaderPool(1, {}, silentLogger);
    await closing.close();
    await expect(closing.read(pharmaDocument(), PHARMA_NOW)).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('captured events codec', () => {
  it('decodes to the events it encoded', () => {
    const events: CapturedEvent[] = inline.read(pharmaDocument(), PHARMA_NOW);
    expect(decodeCapturedEvents(encodeCapturedEvents(events))).toEqual(events);
    expect(decodeCapturedEvents(encodeCapturedEvents([]))).toEqual([]);
  });
});
