/**
 * How search values become index tokens. The same functions build the tokens stored for a resource and the tokens
 * looked up for a query, so the two sides cannot drift apart.
 *
 * - Patient references (`patient`, `subject`): clear UTF-8 of `Patient/<id>`. Server ids are pseudonymous, and
 *   keeping them readable lets erasure find every row of a patient.
 * - Codes (`code`, `type`, `vaccine-code`): clear UTF-8 of a canonical token string (codes are not identifying).
 * - Identifiers and names: `tokenHasher("<param>:<canonical string>")`, never the clear value. Prefixing the
 *   parameter keeps equal values under different parameters unlinkable (`name:smi` vs `family:smi`).
 *
 * Canonical token strings use the FHIR search token syntax with FHIR's escaping (`\\`, `\|`, `\,`, `\$`), and a
 * coding (or identifier) with a code is stored as up to three strings so every token query is one equality lookup:
 *
 * | stored for system S, code C | stored for code C, no system | answers query             |
 * | --------------------------- | ---------------------------- | ------------------------- |
 * | `S|C`                       |                              | `S|C`                     |
 * |                             | `|C`                         | `|C` (no system)          |
 * | `C`                         | `C`                          | `C` (any system)          |
 * | `S|`                        |                              | `S|` (any code in S)      |
 *
 * The four forms cannot collide: only `S|C` and `|C` contain an unescaped `|` with text on the right, `C` has no
 * unescaped `|`, and `S|` ends with it. Codings without a code are not indexed.
 */

/** Keyed one-way function for identifying values, e.g. HMAC-SHA256 truncated to 16 bytes. */
export type TokenHasher = (value: string) => Uint8Array;

/** Longest name prefix indexed, in code points; longer queries are looked up by their first 32 characters. */
export const NAME_PREFIX_MAX = 32;
/** Words of one name part beyond this many are not indexed (bounds the row count of hostile input). */
export const NAME_WORDS_MAX = 16;

const encoder = new TextEncoder();

/** Escapes `\`, `|`, `,` and `$` the way FHIR search values do. */
export function escapeTokenPart(value: string): string {
  return value.replace(/[\\|,$]/g, (c) => `\\${c}`);
}

/** The canonical strings stored for one coding or identifier; none when it has no code (value). */
export function codingTokenStrings(system: string | undefined, code: string | undefined): string[] {
  if (code === undefined || code === '') return [];
  const c = escapeTokenPart(code);
  if (system === undefined || system === '') return [`|${c}`, c];
  const s = escapeTokenPart(system);
  return [`${s}|${c}`, c, `${s}|`];
}

/**
 * The canonical string looked up for a parsed token query. `system` is undefined when the query had no `|`
 * (any system), '' for `|code` (no system). Null for the meaningless `|` alone.
 */
export function queryTokenString(system: string | undefined, code: string): string | null {
  if (system === undefined) return code === '' ? null : escapeTokenPart(code);
  if (system === '') return code === '' ? null : `|${escapeTokenPart(code)}`;
  return `${escapeTokenPart(system)}|${escapeTokenPart(code)}`;
}

/** Clear token: the UTF-8 bytes of a canonical string. */
export function clearToken(canonical: string): Uint8Array {
  return encoder.encode(canonical);
}

/** Hashed token of an identifying value: `tokenHasher("<param>:<canonical>")`. */
export function hashedToken(tokenHasher: TokenHasher, param: string, canonical: string): Uint8Array {
  return tokenHasher(`${param}:${canonical}`);
}

/** The clear token of a reference to a Patient: UTF-8 of `Patient/<id>`. */
export function patientReferenceToken(patientId: string): Uint8Array {
  return encoder.encode(`Patient/${patientId}`);
}

/** FHIR `id`: 1–64 letters, digits, `-` and `.` (one definition, in supportedTypes.ts). */
export { FHIR_ID_RE } from '../supportedTypes.js';

/** Case- and accent-folded text: NFD, combining marks removed, lower case. */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '');
}

/** The folded words of a text: runs of letters and digits; spaces, hyphens, apostrophes and dots separate. */
export function nameWords(text: string): string[] {
  return foldText(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

function firstCodePoints(text: string, max: number): string {
  return Array.from(text).slice(0, max).join('');
}

/**
 * Canonical strings stored for one name part (a family name, a given name, a prefix, a suffix or the text):
 * every prefix, 1 to 32 characters, of every folded word, also running on into the following words with the
 * separators dropped. "Anne-Marie" yields a, an, ann, anne, annem, …, annemarie, m, ma, mar, mari, marie, so a
 * query "Anne-Ma" (looked up as "annema") finds it as well as "mar".
 */
export function namePrefixStrings(part: string): string[] {
  const words = nameWords(part).slice(0, NAME_WORDS_MAX);
  const out = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const chars = Array.from(words.slice(i).join('')).slice(0, NAME_PREFIX_MAX);
    let prefix = '';
    for (const ch of chars) {
      prefix += ch;
      out.add(prefix);
    }
  }
  return [...out];
}

/** The canonical string looked up for a name query: folded, separators dropped, at most 32 characters. */
export function nameQueryString(query: string): string | null {
  const compact = nameWords(query).join('');
  return compact === '' ? null : firstCodePoints(compact, NAME_PREFIX_MAX);
}

/**
 * Canonical string for `:exact` on a name part: `=` and the NFC form of the whole part. Folded prefix strings are
 * letters and digits only, so they never start with `=`.
 */
export function exactNameString(part: string): string {
  return `=${part.normalize('NFC')}`;
}
