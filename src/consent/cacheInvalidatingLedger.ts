import type { Hex } from '../core/hex.js';
import type { ConsentCache } from './consentCache.js';
import type { ConsentLedger } from './ports.js';

/**
 * A ConsentLedger whose relays empty the consent cache for the patient concerned as soon as they are mined, so a
 * revocation relayed by this gateway takes effect here at once; the event watcher does the same for everything
 * relayed elsewhere (and again for these, harmlessly).
 */
export function cacheInvalidatingLedger(ledger: ConsentLedger, cache: ConsentCache): ConsentLedger {
  const invalidate = (patient: Hex, blockNumber?: bigint | number) => cache.invalidate(patient, blockNumber);
  return {
    contractAddress: () => ledger.contractAddress(),
    domain: () => ledger.domain(),
    nonceOf: (account) => ledger.nonceOf(account),
    relayGrant: async (terms, signer, deadline, signature) => {
      const receipt = await ledger.relayGrant(terms, signer, deadline, signature);
      invalidate(terms.patient, receipt.blockNumber);
      return receipt;
    },
    relayRevoke: async (consentId, signer, deadline, signature) => {
      const receipt = await ledger.relayRevoke(consentId, signer, deadline, signature);
      const consent = await ledger.getConsent(consentId).catch(() => null);
      if (consent) invalidate(consent.patient, receipt.blockNumber);
      return receipt;
    },
    relayAppointDelegate: async (appointment, deadline, signature) => {
      const receipt = await ledger.relayAppointDelegate(appointment, deadline, signature);
      invalidate(appointment.patient, receipt.blockNumber);
      return receipt;
    },
    relayRemoveDelegate: async (removal, signer, deadline, signature) => {
      const receipt = await ledger.relayRemoveDelegate(removal, signer, deadline, signature);
      invalidate(removal.patient, receipt.blockNumber);
      return receipt;
    },
    recordBreakGlass: (patient, accessor, purpose, reasonHash) =>
      ledger.recordBreakGlass(patient, accessor, purpose, reasonHash),
    getConsent: (id) => ledger.getConsent(id),
    consentsOf: (patient) => ledger.consentsOf(patient),
    isDelegate: (patient, account) => ledger.isDelegate(patient, account),
    watchConsentEvents: (onEvent, options) => ledger.watchConsentEvents(onEvent, options),
  };
}
