// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";

/**
 * @dev Patients' consents, their delegates and the break-glass log of the CareLedger consortium.
 *
 * A patient is a secp256k1 account without ether. They sign EIP-712 typed data (domain name
 * "CareLedger ConsentRegistry", version "1", this chain and this contract) and an active member organisation
 * of the {IOrganizationRegistry} relays it. Every signed message carries the signer's next nonce (OpenZeppelin
 * {Nonces}, consumed in order) and a deadline, so a signature is valid once, before its deadline, on this
 * chain and for this contract only; a replayed, forged, late or foreign signature reverts. Signatures must be
 * 65-byte ECDSA signatures with a low `s` ({ECDSA-tryRecover}). A patient or delegate with ether may also call
 * the direct variants from their own account.
 *
 * A patient may appoint delegates (a guardian, a carer, a proxy for a minor) who grant and revoke on their
 * behalf until removed or until an optional expiry; only the patient appoints, and the patient or the delegate
 * removes. Active organisations record emergency (break-glass) access, which never needs consent and always
 * emits {BreakGlassAccess}.
 *
 * The EIP-712 domain is implemented here rather than inherited from OpenZeppelin's `EIP712`: from
 * OpenZeppelin 5.5 on, `EIP712` imports `Strings` and `Bytes`, whose assembly uses `mcopy`, which the
 * consortium's `paris` EVM target does not have. The behaviour is the same: the domain separator is cached
 * for the deploying chain and rebuilt if the chain id changes (a fork), and {eip712Domain} (ERC-5267)
 * describes the domain.
 *
 * Gas (measured by the contract tests): a relayed grant with three scopes and a data range costs about 299k gas
 * for a patient's first consent and 264k for later ones (each scope is one storage slot, about 22k); a relayed
 * revocation about 68k.
 */
contract ConsentRegistry is Context, Nonces, IConsentRegistry {
    /// @dev Purpose of use TREAT: treatment.
    uint32 public constant PURPOSE_TREAT = 1 << 0;
    /// @dev Purpose of use ETREAT: emergency treatment.
    uint32 public constant PURPOSE_ETREAT = 1 << 1;
    /// @dev Purpose of use HPAYMT: healthcare payment.
    uint32 public constant PURPOSE_HPAYMT = 1 << 2;
    /// @dev Purpose of use HRESCH: healthcare research.
    uint32 public constant PURPOSE_HRESCH = 1 << 3;
    /// @dev Purpose of use PUBHLTH: public health.
    uint32 public constant PURPOSE_PUBHLTH = 1 << 4;
    /// @dev Purpose of use HOPERAT: healthcare operations.
    uint32 public constant PURPOSE_HOPERAT = 1 << 5;
    /// @dev Purpose of use PATRQT: patient requested.
    uint32 public constant PURPOSE_PATRQT = 1 << 6;
    /// @dev Mask of every purpose of use defined above.
    uint32 public constant ALL_PURPOSES = 0x7F;

    /// @dev Maximum number of scopes in one consent.
    uint256 public constant MAX_SCOPES = 32;

    /// @dev EIP-712 type hash of the `Grant` message.
    bytes32 public constant GRANT_TYPEHASH =
        keccak256(
            "Grant(address patient,address grantee,bytes32[] scopes,uint32 purposes,uint64 validFrom,"
            "uint64 validUntil,uint64 dataFrom,uint64 dataUntil,uint256 nonce,uint256 deadline)"
        );
    /// @dev EIP-712 type hash of the `Revoke` message.
    bytes32 public constant REVOKE_TYPEHASH = keccak256("Revoke(uint256 consentId,uint256 nonce,uint256 deadline)");
    /// @dev EIP-712 type hash of the `AppointDelegate` message.
    bytes32 public constant APPOINT_DELEGATE_TYPEHASH =
        keccak256("AppointDelegate(address patient,address delegate,uint64 until,uint256 nonce,uint256 deadline)");
    /// @dev EIP-712 type hash of the `RemoveDelegate` message.
    bytes32 public constant REMOVE_DELEGATE_TYPEHASH =
        keccak256("RemoveDelegate(address patient,address delegate,uint256 nonce,uint256 deadline)");

    /// @dev EIP-712 domain name.
    string private constant _EIP712_NAME = "CareLedger ConsentRegistry";
    /// @dev EIP-712 domain version.
    string private constant _EIP712_VERSION = "1";
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _HASHED_NAME = keccak256(bytes(_EIP712_NAME));
    bytes32 private constant _HASHED_VERSION = keccak256(bytes(_EIP712_VERSION));

    IOrganizationRegistry private immutable _organizationRegistry;
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;

    uint256 private _consentCount;
    mapping(uint256 consentId => Consent) private _consents;
    mapping(address patient => uint256[]) private _consentIds;
    mapping(address patient => mapping(address delegate => Delegation)) private _delegations;
    mapping(address patient => uint256) private _breakGlassCounts;

    /**
     * @dev Reverts with {ConsentRegistryUnauthorizedOrganization} unless the caller is an active organisation.
     */
    modifier onlyActiveOrganization() {
        _checkActiveOrganization(_msgSender());
        _;
    }

    /**
     * @dev Binds the registry to the organisation registry `registry`, whose active members may relay signed
     * messages and record break-glass access.
     *
     * Requirements:
     *
     * - `registry` cannot be the zero address.
     */
    constructor(IOrganizationRegistry registry) {
        if (address(registry) == address(0)) {
            revert ConsentRegistryZeroAddress();
        }
        _organizationRegistry = registry;
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @inheritdoc IConsentRegistry
    function grant(ConsentTerms calldata terms) public virtual returns (uint256) {
        address sender = _msgSender();
        _checkAuthorized(sender, terms.patient);
        return _grant(terms, sender);
    }

    /// @inheritdoc IConsentRegistry
    function grantWithSig(
        ConsentTerms calldata terms,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) public virtual onlyActiveOrganization returns (uint256) {
        _checkDeadline(deadline);
        _checkSignature(signer, _hashGrant(terms, _useNonce(signer), deadline), signature);
        _checkAuthorized(signer, terms.patient);
        return _grant(terms, signer);
    }

    /// @inheritdoc IConsentRegistry
    function revoke(uint256 consentId) public virtual {
        _revoke(consentId, _msgSender());
    }

    /// @inheritdoc IConsentRegistry
    function revokeWithSig(
        uint256 consentId,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) public virtual onlyActiveOrganization {
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, consentId, _useNonce(signer), deadline));
        _checkSignature(signer, structHash, signature);
        _revoke(consentId, signer);
    }

    /// @inheritdoc IConsentRegistry
    function appointDelegate(address delegate, uint64 until) public virtual {
        _appointDelegate(_msgSender(), delegate, until);
    }

    /// @inheritdoc IConsentRegistry
    function appointDelegateWithSig(
        address patient,
        address delegate,
        uint64 until,
        uint256 deadline,
        bytes calldata signature
    ) public virtual onlyActiveOrganization {
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(
            abi.encode(APPOINT_DELEGATE_TYPEHASH, patient, delegate, until, _useNonce(patient), deadline)
        );
        _checkSignature(patient, structHash, signature);
        _appointDelegate(patient, delegate, until);
    }

    /// @inheritdoc IConsentRegistry
    function removeDelegate(address patient, address delegate) public virtual {
        _removeDelegate(patient, delegate, _msgSender());
    }

    /// @inheritdoc IConsentRegistry
    function removeDelegateWithSig(
        address patient,
        address delegate,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) public virtual onlyActiveOrganization {
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(
            abi.encode(REMOVE_DELEGATE_TYPEHASH, patient, delegate, _useNonce(signer), deadline)
        );
        _checkSignature(signer, structHash, signature);
        _removeDelegate(patient, delegate, signer);
    }

    /// @inheritdoc IConsentRegistry
    function recordBreakGlass(
        address patient,
        address accessor,
        uint32 purpose,
        bytes32 reasonHash
    ) public virtual onlyActiveOrganization {
        if (patient == address(0)) {
            revert ConsentRegistryZeroAddress();
        }
        _checkPurposes(purpose);
        if (reasonHash == bytes32(0)) {
            revert ConsentRegistryMissingReason();
        }
        unchecked {
            ++_breakGlassCounts[patient];
        }
        emit BreakGlassAccess(patient, _msgSender(), accessor, purpose, reasonHash, uint64(block.timestamp));
    }

    /// @inheritdoc IConsentRegistry
    function getConsent(uint256 consentId) public view virtual returns (Consent memory) {
        return _requireConsent(consentId);
    }

    /// @inheritdoc IConsentRegistry
    function consentCount() public view virtual returns (uint256) {
        return _consentCount;
    }

    /// @inheritdoc IConsentRegistry
    function consentCountOf(address patient) public view virtual returns (uint256) {
        return _consentIds[patient].length;
    }

    /// @inheritdoc IConsentRegistry
    function consentIdsOf(
        address patient,
        uint256 offset,
        uint256 limit
    ) public view virtual returns (uint256[] memory ids) {
        uint256[] storage all = _consentIds[patient];
        uint256 length = all.length;
        if (offset >= length) {
            return new uint256[](0);
        }
        uint256 count = length - offset < limit ? length - offset : limit;
        ids = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            ids[i] = all[offset + i];
        }
    }

    /// @inheritdoc IConsentRegistry
    function isConsentActive(uint256 consentId) public view virtual returns (bool) {
        Consent storage consent = _consents[consentId];
        return
            consent.patient != address(0) &&
            consent.revokedAt == 0 &&
            consent.validFrom <= block.timestamp &&
            block.timestamp < consent.validUntil;
    }

    /// @inheritdoc IConsentRegistry
    function isDelegate(address patient, address account) public view virtual returns (bool) {
        Delegation storage delegation = _delegations[patient][account];
        return delegation.appointed && (delegation.until == 0 || block.timestamp < delegation.until);
    }

    /// @inheritdoc IConsentRegistry
    function getDelegation(address patient, address delegate) public view virtual returns (Delegation memory) {
        return _delegations[patient][delegate];
    }

    /// @inheritdoc IConsentRegistry
    function breakGlassCount(address patient) public view virtual returns (uint256) {
        return _breakGlassCounts[patient];
    }

    /// @inheritdoc IConsentRegistry
    function nonces(address account) public view virtual override(IConsentRegistry, Nonces) returns (uint256) {
        return super.nonces(account);
    }

    /// @inheritdoc IConsentRegistry
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() public view virtual returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        public
        view
        virtual
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        // 0x0f: name, version, chainId and verifyingContract are set; no salt, no extensions.
        return (hex"0f", _EIP712_NAME, _EIP712_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IConsentRegistry
    function organizationRegistry() public view virtual returns (address) {
        return address(_organizationRegistry);
    }

    /**
     * @dev Validates `terms` and records them as a new consent granted by `grantedBy`, returning its id.
     *
     * Internal function without access restriction: the caller must have checked that `grantedBy` may grant
     * for `terms.patient`.
     *
     * Emits a {ConsentGranted} event.
     */
    function _grant(ConsentTerms calldata terms, address grantedBy) internal virtual returns (uint256 consentId) {
        address patient = terms.patient;
        address grantee = terms.grantee;
        if (grantee == address(0) || grantee == patient) {
            revert ConsentRegistryInvalidGrantee(grantee);
        }
        _checkScopes(terms.scopes);
        _checkPurposes(terms.purposes);
        if (terms.validUntil <= terms.validFrom || terms.validUntil <= block.timestamp) {
            revert ConsentRegistryInvalidValidity(terms.validFrom, terms.validUntil);
        }
        if (terms.dataFrom != 0 && terms.dataUntil != 0 && terms.dataFrom > terms.dataUntil) {
            revert ConsentRegistryInvalidDataRange(terms.dataFrom, terms.dataUntil);
        }

        consentId = ++_consentCount;
        Consent storage consent = _consents[consentId];
        consent.patient = patient;
        consent.validFrom = terms.validFrom;
        consent.purposes = terms.purposes;
        consent.grantee = grantee;
        consent.validUntil = terms.validUntil;
        consent.grantedBy = grantedBy;
        consent.grantedAt = uint64(block.timestamp);
        if (terms.dataFrom != 0 || terms.dataUntil != 0) {
            consent.dataFrom = terms.dataFrom;
            consent.dataUntil = terms.dataUntil;
        }
        consent.scopes = terms.scopes;
        _consentIds[patient].push(consentId);
        emit ConsentGranted(consentId, patient, grantee, terms.purposes, terms.validUntil, grantedBy);
    }

    /**
     * @dev Revokes the consent `consentId` on behalf of `account`, which must be its patient or an active
     * delegate of the patient.
     *
     * Emits a {ConsentRevoked} event.
     */
    function _revoke(uint256 consentId, address account) internal virtual {
        Consent storage consent = _requireConsent(consentId);
        address patient = consent.patient;
        _checkAuthorized(account, patient);
        if (consent.revokedAt != 0) {
            revert ConsentRegistryAlreadyRevoked(consentId);
        }
        consent.revokedBy = account;
        consent.revokedAt = uint64(block.timestamp);
        emit ConsentRevoked(consentId, patient, consent.grantee, account);
    }

    /**
     * @dev Appoints `delegate` for `patient` until `until` (0 = until removed). Overwrites a lapsed delegation.
     *
     * Internal function without access restriction: the caller must have established that `patient` asked.
     *
     * Emits a {DelegateAppointed} event.
     */
    function _appointDelegate(address patient, address delegate, uint64 until) internal virtual {
        if (delegate == address(0) || delegate == patient) {
            revert ConsentRegistryInvalidDelegate(delegate);
        }
        if (until != 0 && until <= block.timestamp) {
            revert ConsentRegistryInvalidExpiry(until);
        }
        if (isDelegate(patient, delegate)) {
            revert ConsentRegistryDelegateExists(patient, delegate);
        }
        _delegations[patient][delegate] = Delegation({appointed: true, until: until});
        emit DelegateAppointed(patient, delegate, until);
    }

    /**
     * @dev Removes the delegation of `patient` to `delegate` (active or lapsed) on behalf of `account`, which
     * must be `patient` or `delegate`.
     *
     * Emits a {DelegateRemoved} event.
     */
    function _removeDelegate(address patient, address delegate, address account) internal virtual {
        if (account != patient && account != delegate) {
            revert ConsentRegistryUnauthorized(account, patient);
        }
        if (!_delegations[patient][delegate].appointed) {
            revert ConsentRegistryNotDelegate(patient, delegate);
        }
        delete _delegations[patient][delegate];
        emit DelegateRemoved(patient, delegate, account);
    }

    /**
     * @dev Returns the EIP-712 struct hash of a `Grant` message for `terms` with `nonce` and `deadline`.
     */
    function _hashGrant(
        ConsentTerms calldata terms,
        uint256 nonce,
        uint256 deadline
    ) internal pure virtual returns (bytes32) {
        return
            keccak256(
                bytes.concat(
                    abi.encode(
                        GRANT_TYPEHASH,
                        terms.patient,
                        terms.grantee,
                        keccak256(abi.encodePacked(terms.scopes)),
                        terms.purposes,
                        terms.validFrom
                    ),
                    abi.encode(terms.validUntil, terms.dataFrom, terms.dataUntil, nonce, deadline)
                )
            );
    }

    /**
     * @dev Returns the EIP-712 domain separator for the current chain and this contract.
     */
    function _domainSeparatorV4() internal view returns (bytes32) {
        if (address(this) == _cachedThis && block.chainid == _cachedChainId) {
            return _cachedDomainSeparator;
        }
        return _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _HASHED_NAME, _HASHED_VERSION, block.chainid, address(this)));
    }

    /**
     * @dev Returns the EIP-712 digest of the message with struct hash `structHash` in this contract's domain:
     * `keccak256("\x19\x01" || domainSeparator || structHash)`.
     */
    function _hashTypedDataV4(bytes32 structHash) internal view virtual returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", _domainSeparatorV4(), structHash));
    }

    /**
     * @dev Reverts with {ConsentRegistryInvalidSignature} unless `signature` is a valid (65-byte, low-`s`)
     * signature by `signer` of the EIP-712 message with struct hash `structHash` in this contract's domain.
     */
    function _checkSignature(address signer, bytes32 structHash, bytes calldata signature) internal view virtual {
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecoverCalldata(
            _hashTypedDataV4(structHash),
            signature
        );
        if (error != ECDSA.RecoverError.NoError || recovered != signer) {
            revert ConsentRegistryInvalidSignature(signer);
        }
    }

    /**
     * @dev Reverts with {ConsentRegistryExpiredSignature} if `deadline` has passed.
     */
    function _checkDeadline(uint256 deadline) internal view virtual {
        if (block.timestamp > deadline) {
            revert ConsentRegistryExpiredSignature(deadline);
        }
    }

    /**
     * @dev Reverts with {ConsentRegistryUnauthorized} unless `account` is `patient` or an active delegate of it.
     * Also reverts with {ConsentRegistryZeroAddress} for the zero patient.
     */
    function _checkAuthorized(address account, address patient) internal view virtual {
        if (patient == address(0)) {
            revert ConsentRegistryZeroAddress();
        }
        if (account != patient && !isDelegate(patient, account)) {
            revert ConsentRegistryUnauthorized(account, patient);
        }
    }

    /**
     * @dev Reverts with {ConsentRegistryUnauthorizedOrganization} unless `account` is an active organisation.
     */
    function _checkActiveOrganization(address account) internal view virtual {
        if (!_organizationRegistry.isActive(account)) {
            revert ConsentRegistryUnauthorizedOrganization(account);
        }
    }

    /**
     * @dev Returns the storage record of the consent `consentId`, reverting with
     * {ConsentRegistryUnknownConsent} if there is none.
     */
    function _requireConsent(uint256 consentId) internal view returns (Consent storage consent) {
        consent = _consents[consentId];
        if (consent.patient == address(0)) {
            revert ConsentRegistryUnknownConsent(consentId);
        }
    }

    /**
     * @dev Reverts unless `scopes` has 1 to {MAX_SCOPES} entries, none of them zero.
     */
    function _checkScopes(bytes32[] calldata scopes) internal pure {
        uint256 count = scopes.length;
        if (count == 0 || count > MAX_SCOPES) {
            revert ConsentRegistryInvalidScopeCount(count);
        }
        for (uint256 i = 0; i < count; ++i) {
            if (scopes[i] == bytes32(0)) {
                revert ConsentRegistryZeroScope(i);
            }
        }
    }

    /**
     * @dev Reverts with {ConsentRegistryInvalidPurposes} unless `purposes` is a non-empty combination of the
     * `PURPOSE_*` flags.
     */
    function _checkPurposes(uint32 purposes) internal pure {
        if (purposes == 0 || purposes & ~ALL_PURPOSES != 0) {
            revert ConsentRegistryInvalidPurposes(purposes);
        }
    }
}
