import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.js';
import {
  BIZ_STEPS,
  BIZ_TRANSACTION_TYPES,
  cbvUrn,
  cbvWebUri,
  DISPOSITIONS,
  ERROR_REASONS,
  isCbvWord,
  normalizeBizStep,
  normalizeBizTransactionType,
  normalizeDisposition,
  normalizeSourceDestinationType,
  normalizeVocabularyValue,
  SOURCE_DESTINATION_TYPES,
  toCbvWebUri,
  type CbvVocabulary,
} from './vocabulary.js';

function refusal(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected a refusal');
}

const VOCABULARIES: [CbvVocabulary, readonly string[], string, string][] = [
  ['bizStep', BIZ_STEPS, 'https://ref.gs1.org/cbv/BizStep-', 'urn:epcglobal:cbv:bizstep:'],
  ['disposition', DISPOSITIONS, 'https://ref.gs1.org/cbv/Disp-', 'urn:epcglobal:cbv:disp:'],
  ['bizTransactionType', BIZ_TRANSACTION_TYPES, 'https://ref.gs1.org/cbv/BTT-', 'urn:epcglobal:cbv:btt:'],
  [
    'sourceDestinationType',
    SOURCE_DESTINATION_TYPES,
    'https://ref.gs1.org/cbv/SDT-',
    'urn:epcglobal:cbv:sdt:',
  ],
  ['errorReason', ERROR_REASONS, 'https://ref.gs1.org/cbv/ER-', 'urn:epcglobal:cbv:er:'],
];

describe('CBV 2.0 word lists', () => {
  it('hold the full CBV 2.0 lists', () => {
    expect(BIZ_STEPS).toHaveLength(41);
    expect(DISPOSITIONS).toHaveLength(33);
    expect(BIZ_TRANSACTION_TYPES).toHaveLength(13);
    expect(SOURCE_DESTINATION_TYPES).toEqual(['owning_party', 'possessing_party', 'location']);
    for (const list of [BIZ_STEPS, DISPOSITIONS, BIZ_TRANSACTION_TYPES])
      expect(new Set(list).size).toBe(list.length);
  });

  it('include the terms a drug supply chain uses', () => {
    for (const step of [
      'commissioning',
      'packing',
      'unpacking',
      'shipping',
      'receiving',
      'dispensing',
      'decommissioning',
      'destroying',
      'inspecting',
      'holding',
      'storing',
      'sampling',
      'sensor_reporting',
      'void_shipping',
    ]) {
      expect(isCbvWord('bizStep', step)).toBe(true);
    }
    for (const disposition of [
      'active',
      'in_progress',
      'recalled',
      'dispensed',
      'expired',
      'damaged',
      'stolen',
      'destroyed',
      'in_transit',
      'returned',
      'sellable_accessible',
      'sellable_not_accessible',
      'non_sellable_other',
      'completeness_verified',
    ]) {
      expect(isCbvWord('disposition', disposition)).toBe(true);
    }
    for (const type of ['po', 'inv', 'desadv', 'bol', 'recadv', 'upevt']) {
      expect(isCbvWord('bizTransactionType', type)).toBe(true);
    }
    expect(isCbvWord('bizStep', 'returning')).toBe(false); // not a CBV 2.0 business step
  });
});

describe('normalizeVocabularyValue', () => {
  it('reads every term in every spelling (bare word, Web URI, CURIE, URN) as the bare word', () => {
    for (const [vocabulary, words, web, urn] of VOCABULARIES) {
      for (const word of words) {
        const spellings = [
          word,
          `${web}${word}`,
          `cbv:${web.slice('https://ref.gs1.org/cbv/'.length)}${word}`,
          `${urn}${word}`,
        ];
        for (const spelling of spellings) expect(normalizeVocabularyValue(vocabulary, spelling)).toBe(word);
      }
    }
  });

  it('has shorthands per vocabulary', () => {
    expect(normalizeBizStep('urn:epcglobal:cbv:bizstep:commissioning')).toBe('commissioning');
    expect(normalizeDisposition('https://ref.gs1.org/cbv/Disp-recalled')).toBe('recalled');
    expect(normalizeBizTransactionType('po')).toBe('po');
    expect(normalizeSourceDestinationType('urn:epcglobal:cbv:sdt:owning_party')).toBe('owning_party');
  });

  it('refuses an unknown bizStep, naming what is allowed and the likely typo', () => {
    const error = refusal(() => normalizeBizStep('shiping'));
    expect(error.code).toBe('EPCIS.UNKNOWN_BIZSTEP');
    expect(error.status).toBe(400);
    expect(error.issueType).toBe('value');
    expect(error.details).toMatchObject({ vocabulary: 'bizStep', value: 'shiping', suggestion: 'shipping' });
    expect(error.message).toContain('did you mean "shipping"');
    expect(error.message).toContain('commissioning');
    expect(error.message).toContain('https://ref.gs1.org/cbv/BizStep-');
    expect(error.message).toContain('urn:epcglobal:cbv:bizstep:');
  });

  it('refuses unknown terms in the CBV namespaces, even when user vocabulary is allowed', () => {
    for (const value of [
      'urn:epcglobal:cbv:bizstep:teleporting',
      'https://ref.gs1.org/cbv/BizStep-teleporting',
      'cbv:BizStep-teleporting',
      'urn:epcglobal:cbv:disp:in_transit', // a disposition is not a bizStep
    ]) {
      expect(refusal(() => normalizeVocabularyValue('bizStep', value, { allowCustom: true })).code).toBe(
        'EPCIS.UNKNOWN_BIZSTEP',
      );
    }
  });

  it('refuses user vocabulary URIs unless allowed, then keeps them as written', () => {
    const custom = 'https://vocab.example.com/bizstep/compounding';
    expect(refusal(() => normalizeVocabularyValue('bizStep', custom)).message).toContain(
      'user vocabulary values are not accepted',
    );
    expect(normalizeVocabularyValue('bizStep', custom, { allowCustom: true })).toBe(custom);
  });

  it('uses each vocabulary its own error code', () => {
    expect(refusal(() => normalizeDisposition('lost')).code).toBe('EPCIS.UNKNOWN_DISPOSITION');
    expect(refusal(() => normalizeBizTransactionType('order')).code).toBe(
      'EPCIS.UNKNOWN_BIZ_TRANSACTION_TYPE',
    );
    expect(refusal(() => normalizeSourceDestinationType('owner')).code).toBe(
      'EPCIS.UNKNOWN_SOURCE_DESTINATION_TYPE',
    );
    expect(refusal(() => normalizeVocabularyValue('errorReason', 'oops')).code).toBe(
      'EPCIS.UNKNOWN_ERROR_REASON',
    );
  });

  it('refuses non-strings, empty strings and case variants', () => {
    for (const value of [undefined, null, 3, ['shipping'], '', 'Shipping', ' shipping']) {
      expect(refusal(() => normalizeBizStep(value)).code).toBe('EPCIS.UNKNOWN_BIZSTEP');
    }
    expect(refusal(() => normalizeBizStep('Shipping')).details).toMatchObject({ suggestion: 'shipping' });
  });
});

describe('CBV URIs', () => {
  it('writes Web URIs and URNs', () => {
    expect(cbvWebUri('bizStep', 'commissioning')).toBe('https://ref.gs1.org/cbv/BizStep-commissioning');
    expect(cbvWebUri('disposition', 'in_transit')).toBe('https://ref.gs1.org/cbv/Disp-in_transit');
    expect(cbvWebUri('bizTransactionType', 'desadv')).toBe('https://ref.gs1.org/cbv/BTT-desadv');
    expect(cbvWebUri('sourceDestinationType', 'owning_party')).toBe(
      'https://ref.gs1.org/cbv/SDT-owning_party',
    );
    expect(cbvUrn('bizStep', 'commissioning')).toBe('urn:epcglobal:cbv:bizstep:commissioning');
  });

  it('toCbvWebUri maps every spelling to the Web URI and leaves user vocabulary alone', () => {
    for (const value of ['shipping', 'urn:epcglobal:cbv:bizstep:shipping', 'cbv:BizStep-shipping']) {
      expect(toCbvWebUri('bizStep', value)).toBe('https://ref.gs1.org/cbv/BizStep-shipping');
    }
    const custom = 'http://epcis.example.com/user/vocab/bizstep/exampling';
    expect(toCbvWebUri('bizStep', custom)).toBe(custom);
  });
});
