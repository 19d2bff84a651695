/**
 * Consent decisions on the cache-hit path, as a gateway makes them for every read and every search result:
 * `ConsentCache.get` + `resourceScopes` + `decideAccess`. 10,000 patients with 5 consents each (treatment,
 * payment, research by category and date range, one document for one practitioner, an old revoked one; a tenth
 * of the treatment consents expired), and a mix of readers: a hospital (half the time naming the practitioner,
 * sometimes breaking the glass), a pharmacy, an insurer, a research sponsor and an organisation without consent.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Hex } from '../src/core/hex.js';
import { ORGANIZATION_ROLES } from '../src/ledger/organizationRoles.js';
import { ConsentCache } from '../src/consent/consentCache.js';
import { decideAccess, type AccessCaller, type ConsentView } from '../src/consent/consentDecision.js';
import { PURPOSES_OF_USE, scopeHash, type PurposeOfUse } from '../src/consent/consentTypedData.js';
import {
  categoryScopeHash,
  resourceScopes,
  typeScopeHash,
  type FhirResourceLike,
} from '../src/consent/resourceScopes.js';
import { prng } from './fhirResources.js';
import { percentile } from './timing.js';

export interface ConsentDecisionBenchResult {
  /** Decisions per second on one core, timed per batch of 1,024. */
  perSecond: number;
  /** Latency of one decision, timed one by one (includes ~0.05 µs of `performance.now()`). */
  p50Us: number;
  p99Us: number;
  maxUs: number;
  decisions: number;
  /** Share of decisions that allowed the read. */
  allowedShare: number;
  patients: number;
  consentsPerPatient: number;
}

const PATIENTS = 10_000;
const CONSENTS_PER_PATIENT = 5;
const RESOURCES = 4096;
const REQUESTS = 16_384;
const BATCH = 1024;
const NOW = Math.floor(Date.UTC(2025, 0, 15) / 1000);
const YEAR = 365 * 86_400;

const address = (n: number): Hex => `0x${n.toString(16).padStart(40, '0')}`;
const HOSPITAL = address(0xb001);
const PHARMACY = address(0xb002);
const INSURER = address(0xb003);
const SPONSOR = address(0xb004);
const STRANGER = address(0xb005);
const DOCTOR = address(0xd001);
const patientAddress = (i: number) => address(0xa000_0000 + i);
const documentId = (i: number) => `doc-${i}`;

const CLINICAL_TYPES = [
  'Observation',
  'Condition',
  'Encounter',
  'Procedure',
  'DiagnosticReport',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
];

function consentsOf(i: number, random: () => number): ConsentView[] {
  const patient = patientAddress(i);
  const id = BigInt(i * CONSENTS_PER_PATIENT);
  const base = {
    patient,
    validFrom: BigInt(NOW - YEAR),
    validUntil: BigInt(NOW + YEAR),
    dataFrom: 0n,
    dataUntil: 0n,
    revokedAt: null,
  };
  return [
    {
      ...base,
      id: id + 1n,
      grantee: HOSPITAL,
      scopes: CLINICAL_TYPES.map(typeScopeHash),
      purposes: PURPOSES_OF_USE.TREAT | PURPOSES_OF_USE.ETREAT,
      validUntil: random() < 0.1 ? BigInt(NOW - 86_400) : base.validUntil,
    },
    {
      ...base,
      id: id + 2n,
      grantee: INSURER,
      scopes: ['Encounter', 'Procedure', 'MedicationRequest'].map(typeScopeHash),
      purposes: PURPOSES_OF_USE.HPAYMT,
    },
    {
      ...base,
      id: id + 3n,
      grantee: SPONSOR,
      scopes: ['laboratory', 'vital-signs'].map(categoryScopeHash),
      purposes: PURPOSES_OF_USE.HRESCH,
      dataFrom: BigInt(Date.UTC(2018, 0, 1) / 1000),
      dataUntil: BigInt(Date.UTC(2022, 11, 31) / 1000),
    },
    {
      ...base,
      id: id + 4n,
      grantee: DOCTOR,
      scopes: [scopeHash(`resource:DocumentReference/${documentId(i)}`)],
      purposes: PURPOSES_OF_USE.TREAT,
    },
    {
      ...base,
      id: id + 5n,
      grantee: HOSPITAL,
      scopes: [typeScopeHash('DocumentReference')],
      purposes: PURPOSES_OF_USE.TREAT,
      revokedAt: BigInt(NOW - 30 * 86_400),
    },
  ];
}

type BenchResource = FhirResourceLike & Record<string, unknown>;

const coded = (code: string) => [{ coding: [{ system: 'http://example.org/cs', code }] }];

function sharedDocument(patient: number, date: string): BenchResource {
  return {
    resourceType: 'DocumentReference',
    id: documentId(patient),
    category: coded('clinical-note'),
    date: `${date}T10:00:00Z`,
  };
}

/** What is read, by share of reads: mostly laboratory results and vital signs. */
const MIX: [number, (i: number, date: string) => BenchResource][] = [
  [
    0.35,
    (i, date) => ({
      resourceType: 'Observation',
      id: `obs-${i}`,
      category: coded('laboratory'),
      effectiveDateTime: date,
    }),
  ],
  [
    0.2,
    (i, date) => ({
      resourceType: 'Observation',
      id: `vit-${i}`,
      category: coded('vital-signs'),
      issued: `${date}T08:00:00Z`,
    }),
  ],
  [
    0.1,
    (i, date) => ({
      resourceType: 'Condition',
      id: `cond-${i}`,
      category: coded('problem-list-item'),
      onsetDateTime: date,
    }),
  ],
  [
    0.1,
    (i, date) => ({ resourceType: 'Encounter', id: `enc-${i}`, period: { start: `${date}T09:00:00+01:00` } }),
  ],
  [0.1, (i, date) => ({ ...sharedDocument(0, date), id: `note-${i}` })],
  [
    0.05,
    (i, date) => ({
      resourceType: 'MedicationRequest',
      id: `rx-${i}`,
      category: coded('outpatient'),
      authoredOn: date,
    }),
  ],
  [
    0.05,
    (i, date) => ({
      resourceType: 'DiagnosticReport',
      id: `dr-${i}`,
      category: coded('LAB'),
      issued: `${date}T11:00:00Z`,
    }),
  ],
  [0.05, (i, date) => ({ resourceType: 'Immunization', id: `imm-${i}`, occurrenceDateTime: date })],
];

function randomDate(random: () => number): string {
  return `${2016 + Math.floor(random() * 9)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 10)}`;
}

function resourceAt(i: number, random: () => number): BenchResource {
  let pick = random();
  for (const [share, make] of MIX) {
    if (pick < share) return make(i, randomDate(random));
    pick -= share;
  }
  return (MIX[0] as (typeof MIX)[number])[1](i, randomDate(random));
}

interface Template {
  patient: Hex;
  caller: AccessCaller;
  purpose: PurposeOfUse;
  resource: BenchResource;
  breakGlass: { reason: string } | undefined;
}

function templates(random: () => number, resources: BenchResource[]): Template[] {
  const org = (organization: Hex, role: number, practitioner?: Hex): AccessCaller => ({
    organization,
    organizationActive: true,
    organizationRoles: role,
    practitioner,
  });
  const out: Template[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const p = Math.floor(random() * PATIENTS);
    let resource = resources[Math.floor(random() * resources.length)] as BenchResource;
    const who = random();
    let caller: AccessCaller;
    let purpose: PurposeOfUse = 'TREAT';
    let breakGlass: Template['breakGlass'];
    if (who < 0.5) {
      caller = org(HOSPITAL, ORGANIZATION_ROLES.PROVIDER, random() < 0.5 ? DOCTOR : undefined);
      // The doctor mostly opens the document the patient shared with them.
      if (
        caller.practitioner !== undefined &&
        resource.resourceType === 'DocumentReference' &&
        random() < 0.5
      ) {
        resource = sharedDocument(p, randomDate(random));
      }
      if (random() < 0.02) {
        purpose = 'ETREAT';
        breakGlass = { reason: 'arrived unconscious' };
      }
    } else if (who < 0.6) {
      caller = org(PHARMACY, ORGANIZATION_ROLES.DISPENSER);
    } else if (who < 0.75) {
      caller = org(INSURER, ORGANIZATION_ROLES.PAYER);
      purpose = 'HPAYMT';
    } else if (who < 0.9) {
      caller = org(SPONSOR, ORGANIZATION_ROLES.RESEARCHER);
      purpose = 'HRESCH';
    } else {
      caller = org(STRANGER, ORGANIZATION_ROLES.PROVIDER);
    }
    out.push({ patient: patientAddress(p), caller, purpose, resource, breakGlass });
  }
  return out;
}

/** Runs for about `ms` milliseconds (half throughput, half latency) after building the cache and a warm-up. */
export function runConsentDecisionBench(ms: number): ConsentDecisionBenchResult {
  const random = prng(0xc0_75e7);
  const cache = new ConsentCache({ maxPatients: 2 * PATIENTS });
  for (let i = 0; i < PATIENTS; i++) cache.set(patientAddress(i), consentsOf(i, random), 1n);
  const resources = Array.from({ length: RESOURCES }, (_, i) => resourceAt(i, random));
  const requests = templates(random, resources);

  let allowed = 0;
  const decide = (i: number): void => {
    const t = requests[i & (REQUESTS - 1)] as Template;
    const entry = cache.get(t.patient);
    if (entry === undefined) throw new Error(`bench cache lost patient ${t.patient}`);
    const decision = decideAccess(
      {
        patient: t.patient,
        caller: t.caller,
        purpose: t.purpose,
        resource: resourceScopes(t.resource),
        breakGlass: t.breakGlass,
      },
      entry.consents,
      NOW,
    );
    if (decision.allowed) allowed++;
  };

  let n = 0;
  const warmUpUntil = performance.now() + Math.min(500, ms / 4);
  while (performance.now() < warmUpUntil) for (let j = 0; j < BATCH; j++) decide(n++);

  // Throughput: whole batches between clock reads.
  allowed = 0;
  let decisions = 0;
  let busyMs = 0;
  const throughputUntil = performance.now() + ms / 2;
  while (performance.now() < throughputUntil) {
    const start = performance.now();
    for (let j = 0; j < BATCH; j++) decide(n++);
    busyMs += performance.now() - start;
    decisions += BATCH;
  }
  const allowedShare = allowed / decisions;

  // Latency: every decision timed on its own, in batches until the time is up.
  const latencies = new Float64Array(4_000_000);
  let count = 0;
  const latencyUntil = performance.now() + ms / 2;
  while (performance.now() < latencyUntil && count + BATCH <= latencies.length) {
    for (let j = 0; j < BATCH; j++) {
      const start = performance.now();
      decide(n++);
      latencies[count++] = performance.now() - start;
    }
  }
  const sorted = latencies.subarray(0, count).sort();
  return {
    perSecond: (decisions / busyMs) * 1000,
    p50Us: percentile(sorted, 50) * 1000,
    p99Us: percentile(sorted, 99) * 1000,
    maxUs: (sorted[count - 1] ?? 0) * 1000,
    decisions: decisions + count,
    allowedShare,
    patients: PATIENTS,
    consentsPerPatient: CONSENTS_PER_PATIENT,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(runConsentDecisionBench(Number(process.argv[2] ?? 4000)));
}
