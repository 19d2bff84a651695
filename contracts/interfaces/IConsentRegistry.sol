// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/**
 * @dev External interface of {ConsentRegistry}: patients' consents to share their data, their delegates and
 * the break-glass log.
 *
 * Patients (and the delegates they appoint) are plain secp256k1 accounts that hold no ether: they sign
 * EIP-712 typed data and any active member organisation relays it (the `...WithSig` functions). They may also
 * call the direct variants from their own account. Nothing here may ever carry protected health information:
 * only pseudonymous addresses, keccak-256 hashes of scope strings and reasons, purpose-of-use bit flags and
 * times.
 *
 * Purposes of use are a `uint32` bitmask of the HL7 v3 ActReason codes TREAT, ETREAT, HPAYMT, HRESCH,
 * PUBHLTH, HOPERAT and PATRQT (see the `PURPOSE_*` constants of {ConsentRegistry}). Times are UNIX seconds.
 */
interface IConsentRegistry is IERC5267 {
    /**
     * @dev What a patient (or their delegate) agrees to, as signed in a `Grant` message.
     *
     * `scopes` are keccak-256 hashes of scope strings such as `type:Observation`, `category:laboratory` or
     * `resource:DocumentReference/<id>`; the consent covers data matching any of them. `purposes` is the
     * purpose-of-use mask. The consent is in force for `validFrom <= now < validUntil`. `dataFrom` and
     * `dataUntil` bound the dates of the data covered (inclusive; 0 = unbounded on that side).
     */
    struct ConsentTerms {
        address patient;
        address grantee;
        bytes32[] scopes;
        uint32 purposes;
        uint64 validFrom;
        uint64 validUntil;
        uint64 dataFrom;
        uint64 dataUntil;
    }

    /**
     * @dev A recorded consent. Laid out in six storage slots plus one per scope: (`patient`, `validFrom`,
     * `purposes`), (`grantee`, `validUntil`), (`grantedBy`, `grantedAt`), (`revokedBy`, `revokedAt`),
     * (`dataFrom`, `dataUntil`) and `scopes`. `grantedBy` is the account that signed or sent the grant (the
     * patient or a delegate); `revokedAt == 0` means "not revoked".
     */
    struct Consent {
        address patient;
        uint64 validFrom;
        uint32 purposes;
        address grantee;
        uint64 validUntil;
        address grantedBy;
        uint64 grantedAt;
        address revokedBy;
        uint64 revokedAt;
        uint64 dataFrom;
        uint64 dataUntil;
        bytes32[] scopes;
    }

    /**
     * @dev A delegation of a patient to an account. `appointed == false` means none; `until == 0` means
     * "until removed", otherwise the delegation lapses at `until`.
     */
    struct Delegation {
        bool appointed;
        uint64 until;
    }

    /**
     * @dev The zero address was given where an account or a contract is required.
     */
    error ConsentRegistryZeroAddress();

    /**
     * @dev `account` is not an active organisation of the organisation registry, so it can neither relay
     * signed messages nor record break-glass access.
     */
    error ConsentRegistryUnauthorizedOrganization(address account);

    /**
     * @dev The signed message's `deadline` has passed.
     */
    error ConsentRegistryExpiredSignature(uint256 deadline);

    /**
     * @dev The signature is malformed or does not recover to `signer` for this message, this contract, this
     * chain and `signer`'s current nonce (which also rejects a replayed signature).
     */
    error ConsentRegistryInvalidSignature(address signer);

    /**
     * @dev `account` is neither `patient` nor an active delegate of `patient`, or may not perform this
     * action for `patient`.
     */
    error ConsentRegistryUnauthorized(address account, address patient);

    /**
     * @dev No consent has the id `consentId`.
     */
    error ConsentRegistryUnknownConsent(uint256 consentId);

    /**
     * @dev The consent `consentId` was already revoked.
     */
    error ConsentRegistryAlreadyRevoked(uint256 consentId);

    /**
     * @dev The grantee is the zero address or the patient.
     */
    error ConsentRegistryInvalidGrantee(address grantee);

    /**
     * @dev A consent must name between 1 and {ConsentRegistry-MAX_SCOPES} scopes; `count` were given.
     */
    error ConsentRegistryInvalidScopeCount(uint256 count);

    /**
     * @dev The scope at `index` is zero.
     */
    error ConsentRegistryZeroScope(uint256 index);

    /**
     * @dev `purposes` is zero or has bits that are not defined purposes of use.
     */
    error ConsentRegistryInvalidPurposes(uint32 purposes);

    /**
     * @dev The validity period is empty (`validUntil <= validFrom`) or already over (`validUntil <= now`).
     */
    error ConsentRegistryInvalidValidity(uint64 validFrom, uint64 validUntil);

    /**
     * @dev The data date range is inverted (`dataFrom > dataUntil`, both non-zero).
     */
    error ConsentRegistryInvalidDataRange(uint64 dataFrom, uint64 dataUntil);

    /**
     * @dev The delegate is the zero address or the patient itself.
     */
    error ConsentRegistryInvalidDelegate(address delegate);

    /**
     * @dev A delegation's expiry must be 0 (until removed) or in the future.
     */
    error ConsentRegistryInvalidExpiry(uint64 until);

    /**
     * @dev `delegate` is already an active delegate of `patient`.
     */
    error ConsentRegistryDelegateExists(address patient, address delegate);

    /**
     * @dev `delegate` is not (or no longer) appointed by `patient`.
     */
    error ConsentRegistryNotDelegate(address patient, address delegate);

    /**
     * @dev Break-glass access must give the hash of its (off-chain) justification.
     */
    error ConsentRegistryMissingReason();

    /**
     * @dev Emitted when consent `consentId` is granted by `grantedBy` (the patient or a delegate) on behalf of
     * `patient` to `grantee`, for the purposes `purposes`, until `validUntil`. The full terms are returned by
     * {getConsent}.
     */
    event ConsentGranted(
        uint256 indexed consentId,
        address indexed patient,
        address indexed grantee,
        uint32 purposes,
        uint64 validUntil,
        address grantedBy
    );

    /**
     * @dev Emitted when consent `consentId`, given by `patient` to `grantee`, is revoked by `revokedBy` (the
     * patient or a delegate).
     */
    event ConsentRevoked(
        uint256 indexed consentId,
        address indexed patient,
        address indexed grantee,
        address revokedBy
    );

    /**
     * @dev Emitted when `patient` appoints `delegate`, until `until` (0 = until removed).
     */
    event DelegateAppointed(address indexed patient, address indexed delegate, uint64 until);

    /**
     * @dev Emitted when the delegation of `patient` to `delegate` is removed by `removedBy` (the patient or the
     * delegate itself).
     */
    event DelegateRemoved(address indexed patient, address indexed delegate, address removedBy);

    /**
     * @dev Emitted when the member `organization` records emergency access by `accessor` (e.g. a practitioner)
     * to the data of `patient` for `purpose`, with or without consent, at `accessedAt`. `reasonHash` is the
     * hash of the justification kept off chain.
     */
    event BreakGlassAccess(
        address indexed patient,
        address indexed organization,
        address indexed accessor,
        uint32 purpose,
        bytes32 reasonHash,
        uint64 accessedAt
    );

    /**
     * @dev Records the consent `terms`, sent by the patient or an active delegate of the patient, and returns
     * its id.
     *
     * Requirements:
     *
     * - the caller must be `terms.patient` or an active delegate of it.
     * - `terms` must be valid (see {ConsentTerms}).
     *
     * Emits a {ConsentGranted} event.
     */
    function grant(ConsentTerms calldata terms) external returns (uint256 consentId);

    /**
     * @dev Same as {grant}, for `terms` signed by `signer` as an EIP-712 `Grant` message and relayed by an
     * active member organisation.
     *
     * Requirements:
     *
     * - the caller must be an active organisation.
     * - `deadline` must not have passed.
     * - `signature` must be `signer`'s signature of the `Grant` message with `signer`'s current nonce.
     * - `signer` must be `terms.patient` or an active delegate of it; `terms` must be valid.
     *
     * Emits a {ConsentGranted} event.
     */
    function grantWithSig(
        ConsentTerms calldata terms,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 consentId);

    /**
     * @dev Revokes the consent `consentId`.
     *
     * Requirements:
     *
     * - the consent must exist and not be revoked.
     * - the caller must be its patient or an active delegate of the patient.
     *
     * Emits a {ConsentRevoked} event.
     */
    function revoke(uint256 consentId) external;

    /**
     * @dev Same as {revoke}, signed by `signer` as an EIP-712 `Revoke` message and relayed by an active member
     * organisation.
     *
     * Emits a {ConsentRevoked} event.
     */
    function revokeWithSig(uint256 consentId, address signer, uint256 deadline, bytes calldata signature) external;

    /**
     * @dev Appoints `delegate` to grant and revoke consents on behalf of the caller, until `until` (0 = until
     * removed).
     *
     * Requirements:
     *
     * - `delegate` cannot be zero or the caller, and cannot already be an active delegate of the caller.
     * - `until` must be 0 or in the future.
     *
     * Emits a {DelegateAppointed} event.
     */
    function appointDelegate(address delegate, uint64 until) external;

    /**
     * @dev Same as {appointDelegate}, signed by `patient` as an EIP-712 `AppointDelegate` message and relayed
     * by an active member organisation.
     *
     * Emits a {DelegateAppointed} event.
     */
    function appointDelegateWithSig(
        address patient,
        address delegate,
        uint64 until,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @dev Removes the delegation of `patient` to `delegate` (including a lapsed one).
     *
     * Requirements:
     *
     * - the caller must be `patient` or `delegate`.
     * - `delegate` must be appointed by `patient`.
     *
     * Emits a {DelegateRemoved} event.
     */
    function removeDelegate(address patient, address delegate) external;

    /**
     * @dev Same as {removeDelegate}, signed by `signer` (the patient or the delegate) as an EIP-712
     * `RemoveDelegate` message and relayed by an active member organisation.
     *
     * Emits a {DelegateRemoved} event.
     */
    function removeDelegateWithSig(
        address patient,
        address delegate,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @dev Records that `accessor`, working for the calling organisation, accessed the data of `patient` in an
     * emergency for `purpose`, justified by the off-chain reason hashed as `reasonHash`. Never requires
     * consent: break-glass access is always allowed and always reported.
     *
     * Requirements:
     *
     * - the caller must be an active organisation.
     * - `patient` cannot be zero; `purpose` must be a valid purpose mask; `reasonHash` cannot be zero.
     *
     * Emits a {BreakGlassAccess} event.
     */
    function recordBreakGlass(address patient, address accessor, uint32 purpose, bytes32 reasonHash) external;

    /**
     * @dev Returns the consent `consentId`.
     *
     * Requirements:
     *
     * - the consent must exist.
     */
    function getConsent(uint256 consentId) external view returns (Consent memory);

    /**
     * @dev Returns the number of consents ever granted; ids run from 1 to this number.
     */
    function consentCount() external view returns (uint256);

    /**
     * @dev Returns the number of consents ever granted on behalf of `patient`.
     */
    function consentCountOf(address patient) external view returns (uint256);

    /**
     * @dev Returns up to `limit` ids of the consents of `patient`, in grant order, starting at position
     * `offset`; an empty array past the end.
     */
    function consentIdsOf(address patient, uint256 offset, uint256 limit) external view returns (uint256[] memory);

    /**
     * @dev Returns `true` if the consent `consentId` exists, is not revoked and `validFrom <= now < validUntil`.
     */
    function isConsentActive(uint256 consentId) external view returns (bool);

    /**
     * @dev Returns `true` if `account` is a delegate of `patient` whose delegation has not lapsed.
     */
    function isDelegate(address patient, address account) external view returns (bool);

    /**
     * @dev Returns the delegation of `patient` to `delegate` (all zero if none).
     */
    function getDelegation(address patient, address delegate) external view returns (Delegation memory);

    /**
     * @dev Returns the number of break-glass accesses recorded for `patient`.
     */
    function breakGlassCount(address patient) external view returns (uint256);

    /**
     * @dev Returns the next nonce `account` must sign with.
     */
    function nonces(address account) external view returns (uint256);

    /**
     * @dev Returns the EIP-712 domain separator of this contract on this chain.
     */
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /**
     * @dev Returns the organisation registry whose active members may relay and record break-glass access.
     */
    function organizationRegistry() external view returns (address);
}
