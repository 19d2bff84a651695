import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDateTimeStamp, parseOffset } from './dateTime.js';
import { identifierKey, readIdentifier } from './gs1.js';

describe('parseDateTimeStamp', () => {
  it('reads date-times with Z or an offset and any number of fractional digits', () => {
    expect(parseDateTimeStamp('2020-03-04T11:00:30.000+01:00')).toEqual({
      epochMs: Date.parse('2020-03-04T10:00:30.000Z'),
      fraction: '000',
      offsetMinutes: 60,
    });
    expect(parseDateTimeStamp('2019-10-21T00:05:00-06:00')?.epochMs).toBe(Date.parse('2019-10-21T06:05:00Z'));
    expect(parseDateTimeStamp('2023-02-02T11:04:03.1415Z')).toMatchObject({
      fraction: '1415',
      offsetMinutes: 0,
    });
    expect(parseDateTimeStamp('0099-01-01T00:00:00Z')?.epochMs).toBe(Date.parse('0099-01-01T00:00:00Z'));
    expect(parseDateTimeStamp('2024-02-29T12:00:00+14:00')).toBeDefined();
  });

  it.each([
    '2020-03-04T11:00:30', // no offset: local time means nothing to a ledger
    '2020-03-04 11:00:30Z',
    '2020-03-04t11:00:30z',
    '2023-02-29T00:00:00Z', // not a leap year
    '1900-02-29T00:00:00Z',
    '2020-04-31T00:00:00Z',
    '2020-13-01T00:00:00Z',
    '2020-00-10T00:00:00Z',
    '2020-01-01T24:00:00Z',
    '2020-01-01T23:60:00Z',
    '2020-01-01T23:59:60Z',
    '2020-01-01T00:00:00+14:30',
    '2020-01-01T00:00:00+15:00',
    '2020-01-01T00:00:00+0100',
    '2020-01-01T00:00:00.Z',
    '0000-01-01T00:00:00Z',
    '+2020-01-01T00:00:00Z',
  ])('refuses %s', (text) => {
    expect(parseDateTimeStamp(text)).toBeUndefined();
  });

  it('agrees with Date.parse on ISO strings it writes', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0100-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (date) => {
          expect(parseDateTimeStamp(date.toISOString())?.epochMs).toBe(date.getTime());
        },
      ),
    );
  });
});

describe('parseOffset', () => {
  it.each([
    ['+00:00', 0],
    ['-06:00', -360],
    ['+05:45', 345],
    ['+14:00', 840],
    ['-12:00', -720],
  ])('%s → %d minutes', (text, minutes) => {
    expect(parseOffset(text)).toBe(minutes);
  });

  it.each(['Z', '+1:00', '+01', '+01:60', '+14:01', '01:00'])('refuses %s', (text) => {
    expect(parseOffset(text)).toBeUndefined();
  });
});

describe('readIdentifier (through the GS1 identifier module)', () => {
  it('reads EPC URNs and Digital Link URIs to their canonical key', () => {
    expect(readIdentifier('urn:epc:id:sgtin:0614141.107346.1001')).toMatchObject({
      status: 'gs1',
      key: 'https://id.gs1.org/01/10614141073464/21/1001',
    });
    expect(identifierKey('https://example.com/dl/00/106141412345678908')).toBe(
      'https://id.gs1.org/00/106141412345678908',
    );
  });

  it('reads party GLNs, GDTIs and GIAIs (URN or Digital Link) to their canonical key', () => {
    for (const [value, key] of [
      ['urn:epc:id:pgln:0614141.00000', 'https://id.gs1.org/417/0614141000005'],
      ['https://example.com/417/0614141000005', 'https://id.gs1.org/417/0614141000005'],
      ['urn:epc:id:gdti:4012345.11111.123', 'https://id.gs1.org/253/4012345111118123'],
      ['https://id.example.com/253/4012345000054987', 'https://id.gs1.org/253/4012345000054987'],
      ['urn:epc:id:giai:4000001.111', 'https://id.gs1.org/8004/4000001111'],
      ['https://id.gs1.org/8004/4000001111', 'https://id.gs1.org/8004/4000001111'],
    ]) {
      expect(readIdentifier(value as string)).toMatchObject({ status: 'gs1', key });
      expect(identifierKey(value as string)).toBe(key);
    }
  });

  it('finds invalid GS1 keys, and leaves other schemes and URIs opaque', () => {
    expect(readIdentifier('https://id.gs1.org/01/10614141073465/21/1').status).toBe('invalid');
    expect(readIdentifier('urn:epc:id:sgln:0614141.0001.0').status).toBe('invalid');
    for (const invalid of [
      'urn:epc:id:pgln:0614141.0000',
      'https://id.gs1.org/417/0614141000006',
      'urn:epc:id:gdti:0614141.12345.a/b',
      'https://id.gs1.org/253/061414112345X',
      `urn:epc:id:giai:4000001.${'1'.repeat(24)}`,
      'https://example.com/8004/12ABC',
    ]) {
      expect(readIdentifier(invalid).status).toBe('invalid');
    }
    for (const opaque of [
      'urn:epc:id:grai:0614141.12345.400',
      'urn:epc:id:gsrn:0614141.1234567890',
      // A GDTI without serial component names a document type; a GIAI with a 4-digit company prefix is not read.
      'https://id.gs1.org/253/4012345000054',
      'https://id.gs1.org/8004/1234ABC',
      'https://id.gs1.org/8003/00614141123452400',
      'urn:uuid:6b1c7a4e-4f3b-4a8e-9d4e-2f6c1b0e8a11',
      'https://example.com/item/1',
      'geo:50.9,6.9',
      '12345',
    ]) {
      expect(readIdentifier(opaque).status).toBe('opaque');
      expect(identifierKey(opaque)).toBe(opaque);
    }
  });
});
