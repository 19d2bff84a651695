import type { Address, Hex } from 'viem';

/** A patient's key linked to their FHIR Patient at this gateway, with the signed statement as evidence. */
export interface PatientLink {
  patientId: string;
  address: Address;
  linkedAt: number;
  statement: string;
  signature: Hex;
}

/** Storage of patient links: one address per Patient and one Patient per address, at this gateway. */
export interface PatientLinkStore {
  byPatient(patientId: string): PatientLink | undefined;
  byAddress(address: Address): PatientLink | undefined;
  insert(link: PatientLink): void;
  /** Every linked chain address, in link order (for re-announcing them on the record locator). */
  addresses(): Address[];
}
