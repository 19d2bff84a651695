// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev Bit flags for the roles an organisation plays in the CareLedger consortium.
 *
 * An organisation's roles are a `uint32` bitmask made of these flags; {ALL_ROLES} is the mask of every flag
 * defined so far. The TypeScript mirror lives in `src/ledger/organizationRoles.ts` and must be kept in step
 * (a unit test compares the two).
 */
library OrganizationRoles {
    /// @dev Hospitals, clinics and practitioners that author clinical records.
    uint32 internal constant PROVIDER = 1 << 0;
    /// @dev Insurers and other payers that adjudicate claims.
    uint32 internal constant PAYER = 1 << 1;
    /// @dev Sponsors and sites running clinical trials.
    uint32 internal constant RESEARCHER = 1 << 2;
    /// @dev Manufacturers of medicinal products.
    uint32 internal constant MANUFACTURER = 1 << 3;
    /// @dev Wholesalers and logistics providers in the supply chain.
    uint32 internal constant DISTRIBUTOR = 1 << 4;
    /// @dev Pharmacies and other dispensers.
    uint32 internal constant DISPENSER = 1 << 5;
    /// @dev Vendors of monitoring and medical devices.
    uint32 internal constant DEVICE_VENDOR = 1 << 6;
    /// @dev Regulators and auditors.
    uint32 internal constant REGULATOR = 1 << 7;

    /// @dev Mask of every role defined above.
    uint32 internal constant ALL_ROLES = 0xFF;

    /**
     * @dev Returns `true` if `roles` is a non-empty combination of defined role flags.
     */
    function isValid(uint32 roles) internal pure returns (bool) {
        return roles != 0 && roles & ~ALL_ROLES == 0;
    }
}
