import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NAME_PREFIX_MAX,
  NAME_WORDS_MAX,
  clearToken,
  anySystemTokenStrings,
  codeSystemOf,
  codingTokenStrings,
  escapeTokenPart,
  exactNameString,
  foldText,
  hashedToken,
  nameQueryString,
  namePrefixStrings,
  nameWords,
  patientReferenceToken,
  queryTokenString,
} from './tokenScheme.js';

const KEY = Buffer.alloc(32, 7);
const hasher = (v: string): Uint8Array =>
  new Uint8Array(createHmac('sha256', KEY).update(v).digest().subarray(0, 16));

describe('canonical token strings', () => {
  it('stores system|code and system| for a coding with a system; a hashed parameter also the bare code', () => {
    expect(codingTokenStrings('http://loinc.org', '8867-4', false)).toEqual([
      'http://loinc.org|8867-4',
      'http://loinc.org|',
    ]);
    expect(codingTokenStrings('http://loinc.org', '8867-4', true)).toEqual([
      'http://loinc.org|8867-4',
      '8867-4',
      'http://loinc.org|',
    ]);
  });

  it('stores |code for a coding without a system (and the bare code for a hashed parameter)', () => {
    expect(codingTokenStrings(undefined, 'local-1', false)).toEqual(['|local-1']);
    expect(codingTokenStrings('', 'local-1', false)).toEqual(['|local-1']);
    expect(codingTokenStrings(undefined, 'local-1', true)).toEqual(['|local-1', 'local-1']);
  });

  it('stores nothing for a coding without a code', () => {
    for (const anySystemForm of [false, true]) {
      expect(codingTokenStrings('http://loinc.org', undefined, anySystemForm)).toEqual([]);
      expect(codingTokenStrings('http://loinc.org', '', anySystemForm)).toEqual([]);
    }
    expect(codeSystemOf('http://loinc.org', '')).toBeNull();
    expect(codeSystemOf(undefined, 'x')).toBeNull();
  });

  it('gives each query form exactly the string stored for it', () => {
    const stored = new Set(codingTokenStrings('http://snomed.info/sct', '44054006', true));
    expect(stored.has(queryTokenString('http://snomed.info/sct', '44054006')!)).toBe(true); // system|code
    expect(stored.has(queryTokenString(undefined, '44054006')!)).toBe(true); // code
    expect(stored.has(queryTokenString('http://snomed.info/sct', '')!)).toBe(true); // system|
    expect(stored.has(queryTokenString('', '44054006')!)).toBe(false); // |code: only codings without a system
    expect(
      new Set(codingTokenStrings(undefined, '44054006', true)).has(queryTokenString('', '44054006')!),
    ).toBe(true);
    expect(queryTokenString('', '')).toBeNull();
    expect(queryTokenString(undefined, '')).toBeNull();
  });

  it('finds a clear code in any system through |code and system|code of the known systems', () => {
    const system = codeSystemOf('urn:a|b', 'x,y') as string;
    const stored = codingTokenStrings('urn:a|b', 'x,y', false);
    const lookedUp = anySystemTokenStrings('x,y', ['http://loinc.org', system]);
    expect(lookedUp).toEqual(['|x\\,y', 'http://loinc.org|x\\,y', 'urn:a\\|b|x\\,y']);
    expect(lookedUp.filter((s) => stored.includes(s))).toEqual(['urn:a\\|b|x\\,y']);
    expect(
      anySystemTokenStrings('x', []).filter((s) => codingTokenStrings(undefined, 'x', false).includes(s)),
    ).toEqual(['|x']);
  });

  it('escapes \\ | , $ so values containing them cannot collide with another form', () => {
    expect(escapeTokenPart('a|b,c$d\\e')).toBe('a\\|b\\,c\\$d\\\\e');
    // system "a", code "b|" versus system "a|b", no code: different strings.
    const one = codingTokenStrings('a', 'b|', true);
    const two = codingTokenStrings('a|b', 'x', true);
    expect(one).toEqual(['a|b\\|', 'b\\|', 'a|']);
    expect(two).toEqual(['a\\|b|x', 'x', 'a\\|b|']);
    expect(one.filter((s) => two.includes(s))).toEqual([]);
    // code "a|b" (any system) versus system "a", code "b".
    expect(queryTokenString(undefined, 'a|b')).toBe('a\\|b');
    expect(queryTokenString('a', 'b')).toBe('a|b');
  });

  it('clear tokens are the UTF-8 bytes; Patient references are Patient/<id>', () => {
    expect(Buffer.from(clearToken('http://loinc.org|8867-4')).toString('utf8')).toBe(
      'http://loinc.org|8867-4',
    );
    expect(Buffer.from(patientReferenceToken('p-1')).toString('utf8')).toBe('Patient/p-1');
  });

  it('hashed tokens are tokenHasher("<param>:<canonical>")', () => {
    expect(hashedToken(hasher, 'identifier', 'sys|v')).toEqual(hasher('identifier:sys|v'));
    expect(hashedToken(hasher, 'name', 'smi')).toEqual(hasher('name:smi'));
    expect(hashedToken(hasher, 'family', 'smi')).not.toEqual(hashedToken(hasher, 'name', 'smi'));
  });
});

describe('name folding', () => {
  it.each([
    ['Müller', 'muller'],
    ['MÜLLER', 'muller'],
    ['Mu\u0308ller', 'muller'], // decomposed input folds the same as composed
    ['Núñez', 'nunez'],
    ['Zoë', 'zoe'],
    ['François', 'francois'],
    ['İlker', 'ilker'],
    ['Đorđević', 'đorđevic'], // đ has no decomposition: kept as a letter
  ])('%s → %s', (input, folded) => {
    expect(foldText(input)).toBe(folded);
  });

  it('splits words on spaces, hyphens, apostrophes and dots', () => {
    expect(nameWords("  O'Brien-Núñez  Jr. ")).toEqual(['o', 'brien', 'nunez', 'jr']);
    expect(nameWords('-- . ')).toEqual([]);
  });
});

describe('namePrefixStrings', () => {
  it('every prefix of a single word', () => {
    expect(namePrefixStrings('Müller')).toEqual(['m', 'mu', 'mul', 'mull', 'mulle', 'muller']);
  });

  it('every prefix of every word, running on into the next words', () => {
    const prefixes = namePrefixStrings('Anne-Marie');
    expect(prefixes).toEqual(
      expect.arrayContaining(['a', 'anne', 'annem', 'annemarie', 'm', 'mar', 'marie']),
    );
    expect(prefixes).not.toContain('nne');
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('stops at 32 characters (code points)', () => {
    const long = 'Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen';
    const prefixes = namePrefixStrings(long);
    expect(Math.max(...prefixes.map((p) => Array.from(p).length))).toBe(NAME_PREFIX_MAX);
    expect(prefixes).toHaveLength(NAME_PREFIX_MAX);
    const astral = '𠀋'.repeat(40); // characters outside the BMP count once
    expect(namePrefixStrings(astral)).toHaveLength(NAME_PREFIX_MAX);
  });

  it(`indexes at most ${NAME_WORDS_MAX} words of one part`, () => {
    const many = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    const prefixes = namePrefixStrings(many);
    expect(prefixes).toContain(`w${NAME_WORDS_MAX - 1}`);
    expect(prefixes).not.toContain(`w${NAME_WORDS_MAX}`);
  });
});

describe('nameQueryString', () => {
  it.each([
    ['Smi', 'smi'],
    ['mul', 'mul'],
    ['MÜL', 'mul'],
    ["O'Bri", 'obri'],
    ['Anne-Ma', 'annema'],
    ['  anne  ma ', 'annema'],
  ])('%j → %j, which the stored prefixes contain', (query, expected) => {
    expect(nameQueryString(query)).toBe(expected);
  });

  it('is null when nothing searchable is left', () => {
    expect(nameQueryString('')).toBeNull();
    expect(nameQueryString(" -'. ")).toBeNull();
  });

  it('truncates to 32 characters, the longest stored prefix', () => {
    const long = 'Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen';
    const q = nameQueryString(long)!;
    expect(Array.from(q)).toHaveLength(NAME_PREFIX_MAX);
    expect(namePrefixStrings(long)).toContain(q);
  });

  it('exact strings keep case and accents (NFC) and cannot collide with folded prefixes', () => {
    expect(exactNameString('Müller')).toBe('=Müller');
    expect(exactNameString('Mu\u0308ller')).toBe('=Müller');
    expect(namePrefixStrings('=Müller').some((p) => p.startsWith('='))).toBe(false);
  });
});
