import { keccak256, toBytes, type Address } from 'viem';
import type { Logger } from '../core/logger.js';
import { cacheInvalidatingLedger } from '../consent/cacheInvalidatingLedger.js';
import { ConsentCache } from '../consent/consentCache.js';
import { ConsentGuard } from '../consent/consentGuard.js';
import { PURPOSES_OF_USE } from '../consent/consentTypedData.js';
import { ConsentReadAccess } from '../consent/fhirReadAccess.js';
import type { ConsentEventSubscription, ConsentLedger, ConsentRecord } from '../consent/ports.js';
import type { ChainClients } from '../ledger/chainClients.js';
import { OrganizationStandingReader } from '../ledger/organizationStanding.js';

export interface ConsentEnforcementParameters {
  clients: ChainClients;
  /** The node's one ConsentRegistry adapter (one sender, one nonce sequence). */
  ledger: ConsentLedger;
  organization: Address;
  organizationRegistry: Address;
  addressOfPatient: (patientId: string) => Address | undefined;
  logger: Logger;
  /** How often the event watcher asks for new blocks; a revocation is enforced within about this long. */
  pollingIntervalMs: number;
}

export interface ConsentEnforcement {
  /** The ledger to relay through: relays empty the cache for their patient at once. */
  ledger: ConsentLedger;
  /** The FHIR router's consent check. */
  access: ConsentReadAccess;
  /** The decisions themselves (cross-gateway exchange asks them for other organisations). */
  guard: ConsentGuard;
  /** Any member's standing from the OrganizationRegistry (cached briefly: a suspension is seen within ~1 s). */
  standingOf(organization: Address): Promise<{ active: boolean; roles: number }>;
  /** The last block whose consent events the cache has applied. */
  lastProcessedBlock(): number;
  /** Points the organisation reader at a redeployed registry. */
  useOrganizationRegistry(address: Address): void;
  stop(): Promise<void>;
}

/**
 * Composes consent enforcement: a per-patient consent cache emptied by the ConsentRegistry's events (watched from
 * the current block), the organisation's standing from the OrganizationRegistry, the guard that decides each read,
 * and the recording of every break-glass read on chain for the patient to see.
 */
export async function startConsentEnforcement(p: ConsentEnforcementParameters): Promise<ConsentEnforcement> {
  const cache = new ConsentCache<ConsentRecord>();
  const head = await p.clients.publicClient.getBlockNumber({ cacheTime: 0 });
  const watcher: ConsentEventSubscription = p.ledger.watchConsentEvents((event) => void cache.apply(event), {
    fromBlock: head + 1n,
    pollingIntervalMs: p.pollingIntervalMs,
    onError: (error) =>
      p.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'consent event watcher: retrying',
      ),
  });
  const standing = new OrganizationStandingReader(p.clients, p.organizationRegistry);
  const ledger = cacheInvalidatingLedger(p.ledger, cache);
  const guard = new ConsentGuard({
    organization: p.organization,
    standing: () => standing.standing(p.organization),
    consents: ledger,
    patientAddress: p.addressOfPatient,
    cache,
    lastProcessedBlock: () => watcher.lastProcessedBlock,
    onBreakGlass: (patient, patientId, intent) => {
      p.logger.warn({ patientId, purpose: intent.purpose }, 'break-glass read of a patient without consent');
      if (/^0x0{40}$/.test(patient)) return; // no linked key: nothing to record against on chain
      const accessor = (intent.practitioner ?? p.organization) as Address;
      const reasonHash = keccak256(toBytes(intent.breakGlass?.reason ?? ''));
      p.ledger
        .recordBreakGlass(patient, accessor, PURPOSES_OF_USE.ETREAT, reasonHash)
        .catch((error: unknown) =>
          p.logger.error(
            { patientId, err: error instanceof Error ? error.message : String(error) },
            'could not record a break-glass read on chain',
          ),
        );
    },
  });
  return {
    ledger,
    access: new ConsentReadAccess(guard),
    guard,
    standingOf: (organization) => standing.standing(organization),
    lastProcessedBlock: () => watcher.lastProcessedBlock,
    useOrganizationRegistry: (address) => standing.useRegistry(address),
    stop: () => watcher.stop(),
  };
}
