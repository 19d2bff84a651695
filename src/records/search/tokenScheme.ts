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
 * Canonical token strings use the FHIR search token syntax with FHIR's escaping (`\\`, `\|`, `\,`, `\$`). A coding
 * (or identifier) with a code is stored as at most three strings, so every token query is equality lookups:
 *
 * | stored for system S, code C | stored for code C, no system | answers query                              |
 * | --------------------------- | ---------------------------- | ------------------------------------------ |
 * | `S|C`                       |                              | `S|C`; `C` (any system), with S among the  |
 * |                             |                              | parameter's known systems                  |
 * |                             | `|C`                         | `|C` (no system); `C` (any system)         |
 * | `C` (hashed parameters only)| `C` (hashed parameters only) | `C` (any system)                           |
 * | `S|`                        |                              | `S|` (any code in S)                       |
 *
 * A clear parameter (a code) does not store `C`: a query for `C` in any system looks up `|C` and `S|C` for each
 * system S the parameter has been seen with (the store keeps that short list, see `codeSystemOf`). That saves a
 * row in a random place of the index for every coding written, which is most of a create's disk writes. A hashed
 * parameter (an identifier) keeps `C`, since the systems inside its hashes cannot be listed.
 *
 * The forms cannot collide: only `S|C` and `|C` contain an unescaped `|` with text on the right, `C` has no
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

/**
 * The canonical strings stored for one coding or identifier; none when it has no code (value). `anySystemForm`: also
 * the bare `C` (hashed parameters, whose systems cannot be listed; see the table above).
 */
export function codingTokenStrings(
  system: string | undefined,
  code: string | undefined,
  anySystemForm: boolean,
): string[] {
  if (code === undefined || code === '') return [];
  const c = escapeTokenPart(code);
  if (system === undefined || system === '') return anySystemForm ? [`|${c}`, c] : [`|${c}`];
  const s = escapeTokenPart(system);
  return anySystemForm ? [`${s}|${c}`, c, `${s}|`] : [`${s}|${c}`, `${s}|`];
}

/** The escaped system a clear coding is stored under (what `anySystemTokenStrings` needs), or null without one. */
export function codeSystemOf(system: string | undefined, code: string | undefined): string | null {
  if (code === undefined || code === '' || system === undefined || system === '') return null;
  return escapeTokenPart(system);
}

/**
 * The strings a query for code `code` in any system looks up on a clear parameter: `|C` and `S|C` for each of the
 * parameter's known (escaped) systems.
 */
export function anySystemTokenStrings(code: string, knownSystems: readonly string[]): string[] {
  const c = escapeTokenPart(code);
  return [`|${c}`, ...knownSystems.map((s) => `${s}|${c}`)];
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
