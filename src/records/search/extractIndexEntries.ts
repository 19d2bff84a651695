/**
 * Turns a FHIR resource into the rows of the search side index. The resource itself is stored encrypted; these
 * rows hold only what search needs: clear Patient references and codes, keyed hashes of identifiers and names, and
 * date ranges. See `tokenScheme.ts` for the token formats and `dateRange.ts` for the date ranges.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  indexedSearchParameters,
  isFhirId,
  isSearchableResourceType,
  patientIdFromReference,
  PATIENT_REFERENCE_PATH,
} from './searchParameters.js';
import {
  clearToken,
  codeSystemOf,
  codingTokenStrings,
  exactNameString,
  hashedToken,
  namePrefixStrings,
  patientReferenceToken,
  type TokenHasher,
} from './tokenScheme.js';

/** Equality-lookup row: `param` = index parameter (e.g. `code`, `identifier`, `name`), `token` = bytes. */
export interface TokenRow {
  param: string;
  token: Uint8Array;
}

/** Range row: the inclusive millisecond range `[low, high]` a date value of `param` covers. */
export interface DateRow {
  param: string;
  low: number;
  high: number;
}

/** A value present on the resource that could not be indexed (so the resource is not found by it). */
export interface SkippedIndexValue {
  param: string;
  reason: string;
}

/** A code system a clear token parameter was seen with (escaped, as stored before the `|`). */
export interface CodeSystemRow {
  param: string;
  system: string;
}

export interface IndexEntries {
  tokens: TokenRow[];
  dates: DateRow[];
  /** The code systems of the clear token parameters' codings, deduplicated (see `tokenScheme.ts`). */
  systems: CodeSystemRow[];
  /** The Patient the resource belongs to: the Patient's own id, or its patient reference; null if none. */
  patientId: string | null;
  /** Values that were present but not indexable (invalid dates, absolute or unresolved Patient references). */
  skipped: SkippedIndexValue[];
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * The index rows of `resource`, deduplicated, in parameter order. `tokenHasher` hashes identifying values
 * (identifiers, names). Resource types that are not searchable yield no rows. Never throws on resource content:
 * what cannot be indexed is reported in `skipped`.
 */
export function extractIndexEntries(resource: Resource, tokenHasher: TokenHasher): IndexEntries {
  const tokens: TokenRow[] = [];
  const dates: DateRow[] = [];
  const systems: CodeSystemRow[] = [];
  const skipped: SkippedIndexValue[] = [];
  const seenTokens = new Set<string>();
  const seenDates = new Set<string>();
  const resourceType: unknown = (resource as { resourceType?: unknown }).resourceType;
  if (!isSearchableResourceType(resourceType)) return { tokens, dates, systems, patientId: null, skipped };

  const addToken = (param: string, token: Uint8Array): void => {
    const key = `${param}\u0000${hex(token)}`;
    if (seenTokens.has(key)) return;
    seenTokens.add(key);
    tokens.push({ param, token });
  };
  const addDate = (param: string, low: number, high: number): void => {
    const key = `${param}\u0000${low}\u0000${high}`;
    if (seenDates.has(key)) return;
    seenDates.add(key);
    dates.push({ param, low, high });
  };
  const addSkipped = (param: string, reason: string): void => {
    if (!skipped.some((s) => s.param === param && s.reason === reason)) skipped.push({ param, reason });
  };

  for (const parameter of indexedSearchParameters(resourceType)) {
    const param = parameter.indexParam;
    switch (parameter.type) {
      case 'reference':
        for (const value of parameter.extract(resource)) {
          if (typeof value === 'string') addToken(param, patientReferenceToken(value));
          else addSkipped(param, value.skipped);
        }
        break;
      case 'token':
        for (const { system, code } of parameter.extract(resource)) {
          for (const canonical of codingTokenStrings(system, code, parameter.hashed)) {
            addToken(
              param,
              parameter.hashed ? hashedToken(tokenHasher, param, canonical) : clearToken(canonical),
            );
          }
          const codeSystem = parameter.hashed ? null : codeSystemOf(system, code);
          if (codeSystem !== null && !systems.some((r) => r.param === param && r.system === codeSystem))
            systems.push({ param, system: codeSystem });
        }
        break;
      case 'date':
        for (const value of parameter.extract(resource)) {
          if ('skipped' in value) addSkipped(param, value.skipped);
          else addDate(param, value.low, value.high);
        }
        break;
      case 'string':
        for (const part of parameter.extract(resource)) {
          for (const prefix of namePrefixStrings(part))
            addToken(param, hashedToken(tokenHasher, param, prefix));
          addToken(param, hashedToken(tokenHasher, param, exactNameString(part)));
        }
        break;
    }
  }

  return { tokens, dates, systems, patientId: patientIdOf(resourceType, resource), skipped };
}

function patientIdOf(resourceType: keyof typeof PATIENT_REFERENCE_PATH, resource: Resource): string | null {
  if (resourceType === 'Patient') return isFhirId(resource.id) ? resource.id : null;
  const path = PATIENT_REFERENCE_PATH[resourceType];
  if (path === null) return null;
  const id = patientIdFromReference((resource as unknown as Record<string, unknown>)[path]);
  return typeof id === 'string' ? id : null;
}
