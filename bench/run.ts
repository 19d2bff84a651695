/**
 * CareLedger throughput, gas and verification bench (`npm run bench`). One run measures:
 *
 * 1. records anchored per second end to end through a real node (HTTP in, confirmed on chain), and the rate of
 *    acknowledgements, against raw SQLite inserts of the same bytes (2);
 * 3. gas per anchored record, against one anchor transaction per record on the same chain;
 * 4. proof verifications per second on one core, against raw SHA-256 throughput;
 * 8. consent decisions per second on the cache-hit path and their p99 (against the node's time per FHIR read);
 * 5–7. FHIR on a fresh node: Observation creates per second (single POSTs and transaction Bundles) and reads per
 *    second, against the spine's acknowledgement rate from (1), and where one create's CPU goes;
 * 9. a cross-gateway fetch of a 200-resource patient record between two nodes on one chain (latency, resources/s,
 *    every proof verified), against the same resources read from the holder's own store;
 * 10–11. the supply chain on a manufacturer's node: EPCIS events captured per second in documents of 100, against
 *    raw SQLite inserts of the same rows; then product verifications per second and their p99 for packs of a lot
 *    committed on chain, against the chain reads alone.
 *
 * Targets are reported as PASS/MISS, never asserted: the exit code is non-zero only when a section failed to run.
 * Figures are also written to `.bench/results.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup } from './cleanup.js';
import { runEndToEnd, type EndToEndResult } from './endToEnd.js';
import { runConsentDecisionBench, type ConsentDecisionBenchResult } from './consentDecisions.js';
import { runConsentReads, type ConsentReadsResult } from './consentReads.js';
import {
  exchangeFetchDetail,
  exchangeFetchRows,
  runExchangeFetch,
  type ExchangeFetchResult,
} from './exchangeFetch.js';
import { EPCIS_TARGET_EVENTS_PER_SECOND, epcisCaptureDetail, epcisCaptureRows } from './epcisCapture.js';
import { runFhir, type FhirResult } from './fhir.js';
import { makeRecordSet, totalBytes } from './records.js';
import { fmt, fmtRatio, renderTable, status, type Row } from './report.js';
import {
  productVerificationDetail,
  productVerificationRows,
  VERIFICATION_TARGET_P99_MS,
} from './productVerification.js';
import { readSettings } from './settings.js';
import { rawSqliteInserts, type RawSqliteResult } from './sqliteRaw.js';
import { runSupplyChain, type SupplyChainResult } from './supplyChain.js';
import { runVerifyBench, type VerifyResult } from './verifyBench.js';

const TARGETS = {
  anchoredPerSecond: 5_000,
  gasPerRecord: 50,
  verificationsPerSecond: 50_000,
  fhirCreatesPerSecond: 3_000,
  fhirReadsPerSecond: 5_000,
  consentDecisionP99Us: 1_000,
  epcisEventsPerSecond: EPCIS_TARGET_EVENTS_PER_SECOND,
  productVerificationP99Ms: VERIFICATION_TARGET_P99_MS,
} as const;
const WATCHDOG_MS = 10 * 60_000;

const log = (line: string) => console.log(`[bench] ${line}`);
const message = (error: unknown) =>
  error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);

async function main(cleanup: Cleanup): Promise<number> {
  const settings = readSettings();
  const errors: string[] = [];
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  if (loadAtStart > 1) {
    log(
      `warning: the machine is busy (1-minute load average ${fmt(loadAtStart, 2)}); figures will be lower than on an idle machine`,
    );
  }

  log(`generating ${fmt(settings.records)} records of ${settings.minBytes}–${settings.maxBytes} bytes…`);
  const records = makeRecordSet(settings.records, settings.minBytes, settings.maxBytes);
  const meanBytes = totalBytes(records) / records.count;

  // 1 + 3: the node, end to end, and the gas of what it anchored.
  let e2e: EndToEndResult | null = null;
  try {
    e2e = await runEndToEnd(settings, records, cleanup, log);
    errors.push(...e2e.problems);
  } catch (error) {
    cleanup.throwIfAborted();
    errors.push(`end-to-end section failed: ${message(error)}`);
    console.error(error);
  }
  cleanup.throwIfAborted();

  // 2: raw SQLite, with the node's mean group-commit size so both make about the same number of fsyncs.
  const observedGroup = e2e?.commits?.meanGroup ?? 0;
  const groupSize = observedGroup > 0 ? Math.max(1, Math.round(observedGroup)) : settings.concurrency;
  const groupSource = observedGroup > 0 ? "node's mean group commit" : 'estimate: requests in flight';
  let raw: RawSqliteResult | null = null;
  let rawBulk: RawSqliteResult | null = null;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-bench-sqlite-'));
    cleanup.defer('remove the raw SQLite folder', () => rmSync(dir, { recursive: true, force: true }));
    log(`raw SQLite: ${fmt(records.count)} inserts, ${groupSize} per transaction (${groupSource})…`);
    raw = rawSqliteInserts(dir, records, groupSize);
    log('raw SQLite: the same inserts, 4,096 per transaction…');
    rawBulk = rawSqliteInserts(dir, records, 4096);
  } catch (error) {
    errors.push(`raw SQLite section failed: ${message(error)}`);
  }

  cleanup.throwIfAborted();

  // 4: proof verification on one core.
  let verify: VerifyResult | null = null;
  try {
    log(`proof verification: 3 timed loops of ${settings.verifyMs} ms…`);
    // Always a full 4,096-leaf batch, even when fewer records were sent.
    const leaves =
      records.count >= 4096 ? records : makeRecordSet(4096, settings.minBytes, settings.maxBytes);
    verify = runVerifyBench(leaves, settings.verifyMs);
  } catch (error) {
    errors.push(`verification section failed: ${message(error)}`);
  }

  cleanup.throwIfAborted();

  // 8: consent decisions on the cache-hit path, one core (in-process; the FHIR node is not started yet).
  let consent: ConsentDecisionBenchResult | null = null;
  try {
    log(`consent decisions: ${settings.consentMs} ms over 10,000 patients × 5 consents…`);
    consent = runConsentDecisionBench(settings.consentMs);
  } catch (error) {
    errors.push(`consent decision section failed: ${message(error)}`);
  }

  cleanup.throwIfAborted();

  // 5–7: FHIR on its own node (last, so its disk traffic does not disturb the sections above).
  let fhir: FhirResult | null = null;
  try {
    fhir = await runFhir(settings, cleanup, log);
    errors.push(...fhir.problems);
  } catch (error) {
    cleanup.throwIfAborted();
    errors.push(`FHIR section failed: ${message(error)}`);
    console.error(error);
  }

  cleanup.throwIfAborted();

  // 6b: the same reads with consent enforced, on a node whose patients granted consent on chain.
  let consentReads: ConsentReadsResult | null = null;
  try {
    consentReads = await runConsentReads(settings, cleanup, log);
    if (consentReads.reads.failed > 0) {
      errors.push(
        `consent reads: ${consentReads.reads.failed} failed, e.g. ${consentReads.reads.errors.join(' | ')}`,
      );
    }
  } catch (error) {
    cleanup.throwIfAborted();
    errors.push(`consent read section failed: ${message(error)}`);
    console.error(error);
  }

  cleanup.throwIfAborted();

  // 9: a cross-gateway fetch between two nodes on one chain, against the same read from the holder's store.
  let exchange: ExchangeFetchResult | null = null;
  try {
    exchange = await runExchangeFetch(settings, cleanup, log);
    errors.push(...exchange.problems);
  } catch (error) {
    cleanup.throwIfAborted();
    errors.push(`exchange fetch section failed: ${message(error)}`);
    console.error(error);
  }

  cleanup.throwIfAborted();

  // 10–11: the supply chain on a manufacturer's node: EPCIS capture, then product verification.
  let supply: SupplyChainResult | null = null;
  try {
    supply = await runSupplyChain(settings, cleanup, log);
    errors.push(...supply.problems);
  } catch (error) {
    cleanup.throwIfAborted();
    errors.push(`supply-chain section failed: ${message(error)}`);
    console.error(error);
  }

  cleanup.throwIfAborted();

  // Report.
  const anchored = e2e?.anchoredPerSecond ?? null;
  const ack = e2e?.ackPerSecond ?? null;
  const rawRate = raw?.insertsPerSecond ?? null;
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);
  const na = (v: number | null, f: (x: number) => string) => (v === null ? 'n/a' : f(v));
  const perSecond = (v: number) => `${fmt(v)}/s`;
  const batchGas = e2e?.batchGas ?? null;
  const singleGas = e2e?.singleRecordGas ?? null;
  const gasPerRecord = batchGas?.gasPerRecord ?? null;
  const sha = verify?.sha256PerSecond ?? null;

  const rows: Row[] = [
    {
      figure: '1. Records anchored end to end',
      value: na(anchored, perSecond),
      baseline: `raw SQLite inserts ${na(rawRate, perSecond)}`,
      ratio: fmtRatio(ratio(anchored, rawRate)),
      target: `≥ ${fmt(TARGETS.anchoredPerSecond)}/s`,
      status: status(anchored, TARGETS.anchoredPerSecond, 'atLeast'),
    },
    {
      figure: '   Acknowledgements (201s)',
      value: na(ack, perSecond),
      baseline: `raw SQLite inserts ${na(rawRate, perSecond)}`,
      ratio: fmtRatio(ratio(ack, rawRate)),
      target: '',
      status: '',
    },
    {
      figure: `2. Raw SQLite inserts, ${groupSize}/tx`,
      value: na(rawRate, perSecond),
      baseline: `4,096/tx ${na(rawBulk?.insertsPerSecond ?? null, perSecond)}`,
      ratio: fmtRatio(ratio(rawRate, rawBulk?.insertsPerSecond ?? null)),
      target: '(the limit)',
      status: '',
    },
    {
      figure: '3. Gas per anchored record',
      value: na(gasPerRecord, (v) => `${fmt(v, 1)} gas`),
      baseline: `1 tx per record ${na(singleGas?.gasPerRecord ?? null, (v) => `${fmt(v)} gas`)}`,
      ratio: fmtRatio(ratio(gasPerRecord, singleGas?.gasPerRecord ?? null)),
      target: `≤ ${TARGETS.gasPerRecord} gas`,
      status: status(gasPerRecord, TARGETS.gasPerRecord, 'atMost'),
    },
    {
      figure: '4. Proof verifications/s/core (Merkle)',
      value: na(verify?.merklePerSecond ?? null, perSecond),
      baseline: `SHA-256 (64 B) ${na(sha, perSecond)}`,
      ratio: fmtRatio(ratio(verify?.merklePerSecond ?? null, sha)),
      target: `≥ ${fmt(TARGETS.verificationsPerSecond)}/s`,
      status: status(verify?.merklePerSecond ?? null, TARGETS.verificationsPerSecond, 'atLeast'),
    },
    {
      figure: '   Full record check/s/core',
      value: na(verify?.fullPerSecond ?? null, perSecond),
      baseline: `SHA-256 (64 B) ${na(sha, perSecond)}`,
      ratio: fmtRatio(ratio(verify?.fullPerSecond ?? null, sha)),
      target: `≥ ${fmt(TARGETS.verificationsPerSecond)}/s`,
      status: status(verify?.fullPerSecond ?? null, TARGETS.verificationsPerSecond, 'atLeast'),
    },
  ];

  // FHIR rows: rates against the spine's acknowledgement rate, CPU per create against its parts.
  const fl = fhir?.load ?? null;
  const single = fl && fl.single.ok > 0 ? fl.single.perSecond : null;
  const bundled = fl && fl.bundle.ok > 0 ? fl.bundle.perSecond : null;
  const reads = fl && fl.reads.ok > 0 ? fl.reads.perSecond : null;
  const spineAck = `spine acks ${na(ack, perSecond)}`;
  const us = (v: number) => `${fmt(v, v < 100 ? 1 : 0)} µs`;
  const spineAckUs =
    e2e && e2e.nodeAckPhaseEventLoopUtilization !== null && e2e.load.acked > 0
      ? (e2e.nodeAckPhaseEventLoopUtilization * e2e.ackSeconds * 1e6) / e2e.load.acked
      : null;
  const singleUs = fhir?.nodeBusyUsPerResource.single ?? null;
  const singleCommit = fhir?.commits.single ?? null;
  const commitUs =
    singleCommit && singleCommit.records > 0 ? (singleCommit.commitMs * 1000) / singleCommit.records : null;
  const bd = fhir?.breakdown ?? null;
  const writeUs = bd?.repositoryWrite.us ?? null;
  const part = (label: string, v: number | null): Row => ({
    figure: `     ${label}`,
    value: na(v, us),
    baseline: `in-process write ${na(writeUs, us)}`,
    ratio: fmtRatio(ratio(v, writeUs)),
    target: '',
    status: '',
  });
  rows.push(
    {
      figure: '5. FHIR creates/s, single POST',
      value: na(single, perSecond),
      baseline: spineAck,
      ratio: fmtRatio(ratio(single, ack)),
      target: `≥ ${fmt(TARGETS.fhirCreatesPerSecond)}/s`,
      status: status(single, TARGETS.fhirCreatesPerSecond, 'atLeast'),
    },
    {
      figure: `   FHIR creates/s, Bundles of ${settings.fhirBundleSize}`,
      value: na(bundled, perSecond),
      baseline: spineAck,
      ratio: fmtRatio(ratio(bundled, ack)),
      target: `≥ ${fmt(TARGETS.fhirCreatesPerSecond)}/s`,
      status: status(bundled, TARGETS.fhirCreatesPerSecond, 'atLeast'),
    },
    {
      figure: '6. FHIR reads/s (GET by id)',
      value: na(reads, perSecond),
      baseline: spineAck,
      ratio: fmtRatio(ratio(reads, ack)),
      target: `≥ ${fmt(TARGETS.fhirReadsPerSecond)}/s`,
      status: status(reads, TARGETS.fhirReadsPerSecond, 'atLeast'),
    },
    {
      figure: '7. Node thread busy per single create',
      value: na(singleUs, us),
      baseline: `per spine ack ${na(spineAckUs, us)}`,
      ratio: fmtRatio(ratio(singleUs, spineAckUs)),
      target: '',
      status: '',
    },
    {
      figure: '   of which group commit (SQLite)',
      value: na(commitUs, us),
      baseline: `node thread ${na(singleUs, us)}`,
      ratio: fmtRatio(ratio(commitUs, singleUs)),
      target: '',
      status: '',
    },
    {
      figure: '   in-process write (no HTTP/SQL)',
      value: na(writeUs, us),
      baseline: `node thread ${na(singleUs, us)}`,
      ratio: fmtRatio(ratio(writeUs, singleUs)),
      target: '',
      status: '',
    },
    part('validation (Medplum)', bd?.validation.us ?? null),
    part('canonical JSON + SHA-256', bd?.canonicalSha256.us ?? null),
    part('index extraction (HMAC)', bd?.indexExtraction.us ?? null),
    part('encryption (AES-256-GCM)', bd?.encryption.us ?? null),
  );

  // Consent rows: what a decision adds to a read, against the node's own time per FHIR read.
  const readUs = fhir?.nodeBusyUsPerResource.reads ?? null;
  const enforcedReads = consentReads && consentReads.reads.ok > 0 ? consentReads.reads.perSecond : null;
  rows.push(
    {
      figure: '   FHIR reads/s, consent enforced',
      value: na(enforcedReads, perSecond),
      baseline: `not enforced ${na(reads, perSecond)}`,
      ratio: fmtRatio(ratio(enforcedReads, reads)),
      target: '',
      status: '',
    },
    {
      figure: '8. Consent decisions/s/core (cache hit)',
      value: na(consent?.perSecond ?? null, perSecond),
      baseline: `FHIR reads ${na(reads, perSecond)}`,
      ratio: fmtRatio(ratio(consent?.perSecond ?? null, reads)),
      target: '',
      status: '',
    },
    {
      figure: '   consent decision p99',
      value: na(consent?.p99Us ?? null, (v) => `${fmt(v, 1)} µs`),
      baseline: `node time per read ${na(readUs, us)}`,
      ratio: fmtRatio(ratio(consent?.p99Us ?? null, readUs)),
      target: `≤ ${fmt(TARGETS.consentDecisionP99Us / 1000)} ms`,
      status: status(consent?.p99Us ?? null, TARGETS.consentDecisionP99Us, 'atMost'),
    },
  );

  // Exchange rows: a cross-gateway fetch against the same resources read from the holder's own store.
  rows.push(...exchangeFetchRows(exchange));

  // Supply-chain rows: capture against raw SQLite inserts of the same rows, verification against its chain reads.
  const supplyRowsAt = rows.length;
  rows.push(
    ...epcisCaptureRows(supply?.capture ?? null, settings.epcisDocumentEvents),
    ...productVerificationRows(supply?.verification ?? null),
  );

  const cpuList = cpus();
  const details: string[] = [];
  if (e2e) {
    const l = e2e.load;
    const c = e2e.commits;
    details.push(
      `end to end: ${fmt(l.acked)} acknowledged, ${l.failed} failed; acks took ${fmt(e2e.ackSeconds, 2)} s, ` +
        `then ${e2e.tailSeconds === null ? 'n/a' : fmt(e2e.tailSeconds, 2)} s until all confirmed ` +
        `(batch age ${settings.batchAgeMs} ms, seal, anchor); total ${e2e.anchoredSeconds === null ? 'n/a' : fmt(e2e.anchoredSeconds, 2)} s`,
      `ack latency ms: p50 ${fmt(l.latencyMs.p50, 1)}, p90 ${fmt(l.latencyMs.p90, 1)}, p99 ${fmt(l.latencyMs.p99, 1)}, max ${fmt(l.latencyMs.max, 1)}`,
      c
        ? `group commit: ${fmt(c.commits)} commits, mean ${fmt(c.meanGroup, 1)} records (max ${c.maxGroup}); ` +
            `${fmt(c.commitMs / 1000, 2)} s inside commit (${fmt(c.commits > 0 ? c.commitMs / c.commits : 0, 2)} ms each) ` +
            `= ${fmt((c.commitMs / 1000 / e2e.ackSeconds) * 100)}% of the ack phase`
        : 'group commit: not measured',
      `CPU: node event loop ${e2e.nodeAckPhaseEventLoopUtilization === null ? 'n/a' : fmt(e2e.nodeAckPhaseEventLoopUtilization * 100)}% busy while acknowledging, ` +
        `${fmt(e2e.nodeEventLoopUtilization * 100)}% first request → confirmed; ` +
        `load worker ${fmt(l.clientEventLoopUtilization * 100)}% busy while sending, ` +
        `anvil ${e2e.anvilCpuSeconds === null ? 'n/a' : `${fmt(e2e.anvilCpuSeconds, 2)} CPU s`}`,
    );
    if (batchGas && batchGas.perBatch.length > 0) {
      const full = batchGas.perBatch.filter((b) => b.leafCount === 4096);
      details.push(
        `gas: ${batchGas.batches} anchor txs, ${fmt(batchGas.totalGas)} gas for ${fmt(batchGas.records)} records; ` +
          `first batch ${fmt(batchGas.perBatch[0]?.gasUsed ?? 0)} gas` +
          (full.length > 1
            ? `, later full batches ${fmt(full[full.length - 1]?.gasUsed ?? 0)} gas (${fmt((full[full.length - 1]?.gasUsed ?? 0) / 4096, 1)}/record)`
            : ''),
      );
    }
    if (singleGas) {
      details.push(
        `single-record baseline: ${singleGas.anchors} txs, first ${fmt(singleGas.firstGas)} gas, then ${fmt(singleGas.steadyGasPerRecord)} gas each`,
      );
    }
  }
  if (raw && rawBulk) {
    details.push(
      `raw SQLite: ${raw.transactions} transactions in ${fmt(raw.seconds, 2)} s ` +
        `(${fmt((raw.seconds / raw.transactions) * 1000, 2)} ms per commit); 4,096/tx: ${fmt(rawBulk.seconds, 2)} s ` +
        `(${rawBulk.transactions} commits)`,
    );
  }
  if (verify) {
    details.push(
      `verification: tree of ${verify.treeSize} leaves, proof length ${verify.proofLength} ` +
        `(${verify.proofLength} node hashes per Merkle check: ideal ratio 1/${verify.proofLength}); ` +
        `records average ${fmt(verify.meanRecordBytes)} B; best of ${verify.slices} × ${fmt(settings.verifyMs / verify.slices)} ms ` +
        `(medians: Merkle ${fmt(verify.stats.merkle.median)}/s, full ${fmt(verify.stats.full.median)}/s, SHA-256 ${fmt(verify.stats.sha256.median)}/s)`,
    );
  }

  if (fhir) {
    const { load: f, nodeEventLoopUtilization: u, nodeBusyUsPerResource: b, commits: fc } = fhir;
    const lat = (p: { latencyMs: { p50: number; p99: number } }) =>
      `p50 ${fmt(p.latencyMs.p50, 1)} ms, p99 ${fmt(p.latencyMs.p99, 1)} ms`;
    const pct = (v: number | null) => (v === null ? 'n/a' : `${fmt(v * 100)}%`);
    const commitLine = (c: typeof fc.single) =>
      c
        ? `${fmt(c.commits)} commits, mean ${fmt(c.meanGroup, 1)} resources, ` +
          `${fmt(c.commitMs / 1000, 2)} s inside commit (${fmt(c.commits > 0 ? c.commitMs / c.commits : 0, 2)} ms each)`
        : 'commits not measured';
    details.push(
      `FHIR: ${f.patients} Patients; ${fmt(f.warmup.ok)} warm-up creates; Observation bodies ${fmt(f.single.meanBodyBytes)} B ` +
        `(Bundles ${fmt(f.bundle.meanBodyBytes / 1024)} KiB); ${settings.fhirConcurrency} requests in flight, ` +
        `${settings.fhirBundlesInFlight} Bundles in flight; ${fhir.validationWorkers} validation worker thread(s) beside the node thread`,
      `FHIR single: ${fmt(f.single.ok)} created in ${fmt(f.single.seconds, 2)} s, ${lat(f.single)}; node thread ${pct(u.single)} busy, ` +
        `process CPU (all threads, load generator included) ${na(fhir.processCpuUsPerResource.single, us)} per create; ` +
        commitLine(fc.single),
      `FHIR Bundles: ${fmt(f.bundle.ok)} created in ${fmt(f.bundle.seconds, 2)} s (${fmt(f.bundle.requests)} Bundles), ${lat(f.bundle)}; ` +
        `node thread ${pct(u.bundle)} busy, ${na(b.bundle, us)} per resource; ${commitLine(fc.bundle)}`,
      `FHIR reads: ${fmt(f.reads.ok)} in ${fmt(f.reads.seconds, 2)} s, ${lat(f.reads)}; node thread ${pct(u.reads)} busy, ` +
        `${na(b.reads, us)} per read; all creates confirmed on chain ${f.confirmSeconds === null ? 'n/a' : `${fmt(f.confirmSeconds, 2)} s`} after the last; ` +
        `load worker ${pct(f.single.clientEventLoopUtilization)} / ${pct(f.reads.clientEventLoopUtilization)} busy (creates / reads); ` +
        `anvil ${fhir.anvilCpuSeconds === null ? 'n/a' : `${fmt(fhir.anvilCpuSeconds, 2)} CPU s`}`,
    );
    if (bd) {
      const rest =
        bd.repositoryWrite.us -
        bd.validation.us -
        bd.canonicalSha256.us -
        bd.indexExtraction.us -
        bd.encryption.us;
      details.push(
        `FHIR per create, in-process (median µs; best in brackets): validation ${fmt(bd.validation.us, 1)} (${fmt(bd.validation.bestUs, 1)}), ` +
          `canonical JSON + SHA-256 ${fmt(bd.canonicalSha256.us, 1)} (${fmt(bd.canonicalSha256.bestUs, 1)}) for ${fmt(bd.canonicalBytes)} B, ` +
          `index ${fmt(bd.indexExtraction.us, 1)} (${fmt(bd.indexExtraction.bestUs, 1)}) for ${bd.indexTokens} tokens of which ${bd.hashedTokens} HMAC, ` +
          `encryption ${fmt(bd.encryption.us, 1)} (${fmt(bd.encryption.bestUs, 1)}); whole write ${fmt(bd.repositoryWrite.us, 1)} ` +
          `(${fmt(bd.repositoryWrite.bestUs, 1)}), remainder ${fmt(rest, 1)} (stamping, reference check, promises; ± noise); ` +
          `for reads: decryption ${fmt(bd.decryption.us, 1)}, JSON.parse of a body ${fmt(bd.jsonParse.us, 1)}`,
      );
    }
  }
  if (consentReads) {
    const r = consentReads.reads;
    details.push(
      `FHIR reads with consent enforced: a second node, ${consentReads.patients} Patients with linked keys each ` +
        `granting TREAT on Observations on chain, ${fmt(consentReads.observations)} Observations (setup ` +
        `${fmt(consentReads.setupSeconds, 1)} s); ${fmt(r.ok)} reads in ${fmt(r.seconds, 2)} s, p50 ${fmt(r.latencyMs.p50, 1)} ms, ` +
        `p99 ${fmt(r.latencyMs.p99, 1)} ms; node thread ${na(consentReads.nodeBusyUsPerRead, us)} per read ` +
        `(not enforced: ${na(readUs, us)})`,
    );
  }

  if (exchange) details.push(exchangeFetchDetail(exchange));
  if (supply?.capture) details.push(epcisCaptureDetail(supply.capture));
  if (supply?.verification) details.push(productVerificationDetail(supply.verification));

  console.log('');
  console.log(
    `CareLedger bench — ${fmt(records.count)} records of ${settings.minBytes}–${settings.maxBytes} B ` +
      `(mean ${fmt(meanBytes)} B), ${settings.concurrency} requests in flight; node ${process.version}, ` +
      `${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; load average at start ${fmt(loadAtStart, 2)}`,
  );
  console.log('');
  console.log(renderTable(rows));
  console.log('');
  for (const line of details) console.log(`  ${line}`);
  if (errors.length > 0) {
    console.log('');
    for (const e of errors) console.log(`  PROBLEM: ${e}`);
  }
  console.log('');

  const results = {
    generatedAt: startedAt.toISOString(),
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model.trim() ?? null,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg()[0] ?? 0,
    },
    settings: { ...settings, meanRecordBytes: meanBytes, batchSize: 4096 },
    targets: TARGETS,
    endToEnd: e2e && {
      acked: e2e.load.acked,
      failed: e2e.load.failed,
      ackSeconds: e2e.ackSeconds,
      ackPerSecond: e2e.ackPerSecond,
      anchoredSeconds: e2e.anchoredSeconds,
      anchoredPerSecond: e2e.anchoredPerSecond,
      tailSeconds: e2e.tailSeconds,
      latencyMs: e2e.load.latencyMs,
      commits: e2e.commits,
      nodeEventLoopUtilization: e2e.nodeEventLoopUtilization,
      nodeAckPhaseEventLoopUtilization: e2e.nodeAckPhaseEventLoopUtilization,
      clientEventLoopUtilization: e2e.load.clientEventLoopUtilization,
      anvilCpuSeconds: e2e.anvilCpuSeconds,
      ratioToRawSqlite: ratio(anchored, rawRate),
      ackRatioToRawSqlite: ratio(ack, rawRate),
      status: rows[0]?.status,
    },
    rawSqlite: raw && { ...raw, groupSource, oneTransactionPer4096: rawBulk },
    gas: {
      batched: batchGas,
      singleRecord: singleGas,
      ratioToSingleRecord: ratio(gasPerRecord, singleGas?.gasPerRecord ?? null),
      status: rows[3]?.status,
    },
    consentDecisions: consent,
    consentReads,
    exchangeFetch: exchange,
    epcisCapture: supply?.capture && {
      ...supply.capture,
      ratioToRawSqlite:
        supply.capture.baseline && supply.capture.load.ok > 0
          ? supply.capture.load.perSecond / supply.capture.baseline.eventsPerSecond
          : null,
      status: rows[supplyRowsAt]?.status,
    },
    productVerification: supply?.verification && {
      ...supply.verification,
      p99RatioToChainReads:
        supply.verification.chainReads && supply.verification.load.ok > 0
          ? supply.verification.load.latencyMs.p99 / supply.verification.chainReads.latencyMs.p99
          : null,
      p99Status: rows[supplyRowsAt + 3]?.status,
    },
    verification: verify && {
      ...verify,
      merkleRatioToSha256: ratio(verify.merklePerSecond, sha),
      fullRatioToSha256: ratio(verify.fullPerSecond, sha),
      merkleStatus: rows[4]?.status,
      fullStatus: rows[5]?.status,
    },
    fhir: fhir && {
      ...fhir.load,
      nodeEventLoopUtilization: fhir.nodeEventLoopUtilization,
      nodeBusyUsPerResource: fhir.nodeBusyUsPerResource,
      processCpuUsPerResource: fhir.processCpuUsPerResource,
      commits: fhir.commits,
      anvilCpuSeconds: fhir.anvilCpuSeconds,
      validationWorkers: fhir.validationWorkers,
      breakdownUs: fhir.breakdown,
      spineAckNodeUs: spineAckUs,
      singleRatioToSpineAcks: ratio(single, ack),
      bundleRatioToSpineAcks: ratio(bundled, ack),
      readsRatioToSpineAcks: ratio(reads, ack),
      singleRatioToRawSqlite: ratio(single, rawRate),
      bundleRatioToRawSqlite: ratio(bundled, rawRate),
      singleStatus: rows[6]?.status,
      bundleStatus: rows[7]?.status,
      readsStatus: rows[8]?.status,
    },
    problems: errors,
  };
  const outDir = fileURLToPath(new URL('../.bench/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('figures written to .bench/results.json');
  return errors.length > 0 ? 1 : 0;
}

const cleanup = new Cleanup();
const abort = (why: string, code: number) => {
  if (cleanup.aborted !== null) return; // a second Ctrl-C (or the relayed copy) must not skip the clean-up
  cleanup.abort(why);
  console.error(`[bench] ${why}; cleaning up…`);
  void cleanup.runAll().finally(() => process.exit(code));
};
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
setTimeout(() => abort(`still running after ${WATCHDOG_MS / 60_000} minutes`, 1), WATCHDOG_MS).unref();

let exitCode = 1;
try {
  exitCode = await main(cleanup);
} catch (error) {
  if (cleanup.aborted === null) {
    console.error(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
} finally {
  await cleanup.runAll();
}
process.exit(exitCode);
