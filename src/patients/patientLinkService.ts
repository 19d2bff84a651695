import type { Address } from 'viem';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { linkStatementText, verifyLinkRequest, type LinkRequest } from './patientLink.js';
import type { PatientLink, PatientLinkStore } from './ports.js';

export interface PatientLinkServiceOptions {
  store: PatientLinkStore;
  gateway: { organization: Address; chainId: number };
  /** Throws (404/410) unless this gateway holds the Patient. */
  assertPatientHeld: (patientId: string) => void;
  /** Resolves once what was written is on stable storage. */
  whenDurable: () => Promise<void>;
  /** Told of every link made or confirmed (e.g. to announce the patient on the record locator). */
  onLinked?: (link: PatientLink) => void;
  now?: () => number;
}

/**
 * Links a patient's key to their FHIR Patient at this gateway: the consent registry knows patients only by that
 * address, so the gateway needs the link to find the consents that cover a Patient's data. A link is made once
 * (the patient proves they hold the key by signing a statement naming this gateway) and is then fixed: another
 * address for the same Patient, or the same address for another Patient, is refused.
 */
export class PatientLinkService {
  private readonly options: PatientLinkServiceOptions;
  private readonly now: () => number;

  constructor(options: PatientLinkServiceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Links (or confirms an identical existing link); `created` says which. */
  async link(patientId: string, request: LinkRequest): Promise<{ link: PatientLink; created: boolean }> {
    const { store, gateway } = this.options;
    const statement = await verifyLinkRequest(patientId, request, gateway, this.now());
    this.options.assertPatientHeld(patientId);
    const existing = store.byPatient(patientId);
    if (existing) {
      if (existing.address === statement.address) {
        this.options.onLinked?.(existing);
        return { link: existing, created: false };
      }
      throw new ConflictError(
        'PATIENT.ALREADY_LINKED',
        `Patient/${patientId} is already linked to ${existing.address}; a Patient has one key at this gateway.`,
      );
    }
    const other = store.byAddress(statement.address);
    if (other) {
      throw new ConflictError(
        'PATIENT.ADDRESS_IN_USE',
        `${statement.address} is already linked to another Patient at this gateway; each Patient needs their own key.`,
      );
    }
    const link: PatientLink = {
      patientId,
      address: statement.address,
      linkedAt: this.now(),
      statement: linkStatementText(statement),
      signature: request.signature as PatientLink['signature'],
    };
    store.insert(link);
    await this.options.whenDurable();
    this.options.onLinked?.(link);
    return { link, created: true };
  }

  get(patientId: string): PatientLink {
    const link = this.options.store.byPatient(patientId);
    if (!link) {
      throw new NotFoundError(
        'PATIENT.NOT_LINKED',
        `Patient/${patientId} has no linked key at this gateway.`,
      );
    }
    return link;
  }

  /** The chain address linked to a Patient here, if any. */
  addressOf(patientId: string): Address | undefined {
    return this.options.store.byPatient(patientId)?.address;
  }

  /** Every linked chain address. */
  addresses(): Address[] {
    return this.options.store.addresses();
  }

  /** The Patient a chain address is linked to here, if any. */
  patientOf(address: Address): string | undefined {
    return this.options.store.byAddress(address)?.patientId;
  }
}
