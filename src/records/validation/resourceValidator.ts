import type { Resource } from '@medplum/fhirtypes';
import { canonicalJsonBytes } from '../../core/canonicalJson.js';
import { hmacToken } from '../../crypto/index.js';
import type { OutcomeIssue } from '../fhirErrors.js';
import { extractIndexEntries, type IndexEntries } from '../search/index.js';
import { fhirValidationIssues, loadFhirDefinitions } from '../validateFhirResource.js';

/**
 * What checking one stamped resource (id and meta set as they will be stored) yields: its validation issues and,
 * when it is valid, the pure work that follows from its content alone: its canonical JSON (RFC 8785) and its
 * search index entries. `canonical` and `index` are null when the resource is invalid, or when producing them
 * failed (the repository then redoes that step itself and reports the error).
 */
export interface CheckedResource {
  issues: OutcomeIssue[];
  canonical: Uint8Array | null;
  index: IndexEntries | null;
}

/** Validates FHIR resources and prepares the valid ones' content (see CheckedResource). */
export interface ResourceValidator {
  validateMany(stamped: unknown[]): Promise<CheckedResource[]>;
  close(): Promise<void>;
}

/** Checks one stamped resource; the same function runs in-process and on the pool's workers. */
export function checkResource(stamped: unknown, searchIndexKey: Uint8Array): CheckedResource {
  const issues = fhirValidationIssues(stamped);
  if (issues.length > 0) return { issues, canonical: null, index: null };
  let canonical: Uint8Array | null = null;
  let index: IndexEntries | null = null;
  try {
    canonical = canonicalJsonBytes(stamped);
    index = extractIndexEntries(stamped as Resource, (value) => hmacToken(searchIndexKey, value));
  } catch {
    // Left to the repository, which raises the proper FHIR error for it.
  }
  return { issues, canonical, index };
}

/** Checking on the calling thread (for tools, tests and single-core machines). */
export class InlineValidator implements ResourceValidator {
  private readonly searchIndexKey: Uint8Array;

  constructor(searchIndexKey: Uint8Array) {
    loadFhirDefinitions();
    this.searchIndexKey = searchIndexKey;
  }

  validateMany(stamped: unknown[]): Promise<CheckedResource[]> {
    try {
      return Promise.resolve(stamped.map((r) => checkResource(r, this.searchIndexKey)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
