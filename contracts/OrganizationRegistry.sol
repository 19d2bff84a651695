// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";
import {OrganizationRoles} from "./libraries/OrganizationRoles.sol";

/**
 * @dev Membership registry of the CareLedger consortium.
 *
 * Accounts holding {CONSORTIUM_ADMIN_ROLE} admit, suspend and reinstate organisations and change their roles;
 * each active organisation maintains its own gateway URL and encryption public key. Organisations are never
 * removed, only suspended, so the admission history stays enumerable through {organizationAt}.
 *
 * Role administration is OpenZeppelin {AccessControl}: `DEFAULT_ADMIN_ROLE` grants and revokes
 * {CONSORTIUM_ADMIN_ROLE}. Callers without the role get {IAccessControl-AccessControlUnauthorizedAccount}.
 */
contract OrganizationRegistry is AccessControl, IOrganizationRegistry {
    /// @dev Role allowed to admit, suspend and reinstate organisations and to change their roles.
    bytes32 public constant CONSORTIUM_ADMIN_ROLE = keccak256("CONSORTIUM_ADMIN_ROLE");

    mapping(address account => Organization) private _organizations;
    address[] private _accounts;

    /**
     * @dev Grants `DEFAULT_ADMIN_ROLE` and {CONSORTIUM_ADMIN_ROLE} to `admin`.
     *
     * Requirements:
     *
     * - `admin` cannot be the zero address.
     *
     * Emits two {IAccessControl-RoleGranted} events.
     */
    constructor(address admin) {
        if (admin == address(0)) {
            revert OrganizationRegistryZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CONSORTIUM_ADMIN_ROLE, admin);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IOrganizationRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    /**
     * @dev See {IOrganizationRegistry-admit}.
     *
     * Requirements:
     *
     * - the caller must have {CONSORTIUM_ADMIN_ROLE}.
     * - `account` cannot be the zero address and cannot already be registered.
     * - `name` cannot be empty; `roles` must be valid.
     *
     * Emits an {OrganizationAdmitted} event.
     */
    function admit(
        address account,
        string calldata name,
        uint32 roles,
        string calldata gatewayUrl,
        bytes calldata encryptionPublicKey
    ) public virtual onlyRole(CONSORTIUM_ADMIN_ROLE) {
        _admit(account, name, roles, gatewayUrl, encryptionPublicKey);
    }

    /**
     * @dev See {IOrganizationRegistry-suspend}.
     *
     * Requirements:
     *
     * - the caller must have {CONSORTIUM_ADMIN_ROLE}.
     * - `account` must be registered and active.
     *
     * Emits an {OrganizationSuspended} event.
     */
    function suspend(address account, string calldata reason) public virtual onlyRole(CONSORTIUM_ADMIN_ROLE) {
        _suspend(account, reason);
    }

    /**
     * @dev See {IOrganizationRegistry-reinstate}.
     *
     * Requirements:
     *
     * - the caller must have {CONSORTIUM_ADMIN_ROLE}.
     * - `account` must be registered and suspended.
     *
     * Emits an {OrganizationReinstated} event.
     */
    function reinstate(address account) public virtual onlyRole(CONSORTIUM_ADMIN_ROLE) {
        _reinstate(account);
    }

    /**
     * @dev See {IOrganizationRegistry-setRoles}.
     *
     * Requirements:
     *
     * - the caller must have {CONSORTIUM_ADMIN_ROLE}.
     * - `account` must be registered; `roles` must be valid.
     *
     * Emits an {OrganizationRolesChanged} event.
     */
    function setRoles(address account, uint32 roles) public virtual onlyRole(CONSORTIUM_ADMIN_ROLE) {
        _setRoles(account, roles);
    }

    /**
     * @dev See {IOrganizationRegistry-updateEndpoint}.
     *
     * Requirements:
     *
     * - the caller must be a registered, active organisation.
     *
     * Emits an {OrganizationEndpointUpdated} event.
     */
    function updateEndpoint(string calldata gatewayUrl, bytes calldata encryptionPublicKey) public virtual {
        _updateEndpoint(_msgSender(), gatewayUrl, encryptionPublicKey);
    }

    /// @inheritdoc IOrganizationRegistry
    function getOrganization(address account) public view virtual returns (Organization memory) {
        return _requireRegistered(account);
    }

    /// @inheritdoc IOrganizationRegistry
    function isActive(address account) public view virtual returns (bool) {
        return _organizations[account].status == Status.Active;
    }

    /// @inheritdoc IOrganizationRegistry
    function hasOrganizationRole(address account, uint32 role) public view virtual returns (bool) {
        Organization storage organization = _organizations[account];
        return organization.status == Status.Active && organization.roles & role == role;
    }

    /// @inheritdoc IOrganizationRegistry
    function organizationCount() public view virtual returns (uint256) {
        return _accounts.length;
    }

    /// @inheritdoc IOrganizationRegistry
    function organizationAt(uint256 index) public view virtual returns (address) {
        uint256 count = _accounts.length;
        if (index >= count) {
            revert OrganizationRegistryIndexOutOfBounds(index, count);
        }
        return _accounts[index];
    }

    /**
     * @dev Admits `account` as an active member with the given name, roles and endpoint.
     *
     * Internal function without access restriction.
     *
     * Emits an {OrganizationAdmitted} event.
     */
    function _admit(
        address account,
        string calldata name,
        uint32 roles,
        string calldata gatewayUrl,
        bytes calldata encryptionPublicKey
    ) internal virtual {
        if (account == address(0)) {
            revert OrganizationRegistryZeroAddress();
        }
        Organization storage organization = _organizations[account];
        if (organization.status != Status.None) {
            revert OrganizationRegistryAlreadyRegistered(account);
        }
        if (bytes(name).length == 0) {
            revert OrganizationRegistryEmptyName();
        }
        _checkRoles(roles);

        uint64 timestamp = uint64(block.timestamp);
        organization.name = name;
        organization.roles = roles;
        organization.status = Status.Active;
        organization.admittedAt = timestamp;
        organization.updatedAt = timestamp;
        organization.gatewayUrl = gatewayUrl;
        organization.encryptionPublicKey = encryptionPublicKey;
        _accounts.push(account);
        emit OrganizationAdmitted(account, name, roles, gatewayUrl, encryptionPublicKey);
    }

    /**
     * @dev Suspends the active member `account`.
     *
     * Internal function without access restriction.
     *
     * Emits an {OrganizationSuspended} event.
     */
    function _suspend(address account, string calldata reason) internal virtual {
        Organization storage organization = _requireRegistered(account);
        if (organization.status != Status.Active) {
            revert OrganizationRegistryNotActive(account);
        }
        organization.status = Status.Suspended;
        organization.updatedAt = uint64(block.timestamp);
        emit OrganizationSuspended(account, _msgSender(), reason);
    }

    /**
     * @dev Reinstates the suspended member `account`.
     *
     * Internal function without access restriction.
     *
     * Emits an {OrganizationReinstated} event.
     */
    function _reinstate(address account) internal virtual {
        Organization storage organization = _requireRegistered(account);
        if (organization.status != Status.Suspended) {
            revert OrganizationRegistryNotSuspended(account);
        }
        organization.status = Status.Active;
        organization.updatedAt = uint64(block.timestamp);
        emit OrganizationReinstated(account, _msgSender());
    }

    /**
     * @dev Replaces the roles of the registered `account` with `roles`.
     *
     * Internal function without access restriction.
     *
     * Emits an {OrganizationRolesChanged} event.
     */
    function _setRoles(address account, uint32 roles) internal virtual {
        Organization storage organization = _requireRegistered(account);
        _checkRoles(roles);
        uint32 previousRoles = organization.roles;
        organization.roles = roles;
        organization.updatedAt = uint64(block.timestamp);
        emit OrganizationRolesChanged(account, previousRoles, roles);
    }

    /**
     * @dev Publishes a new gateway URL and encryption public key for the active member `account`.
     *
     * Internal function without access restriction.
     *
     * Emits an {OrganizationEndpointUpdated} event.
     */
    function _updateEndpoint(
        address account,
        string calldata gatewayUrl,
        bytes calldata encryptionPublicKey
    ) internal virtual {
        Organization storage organization = _organizations[account];
        if (organization.status != Status.Active) {
            revert OrganizationRegistryNotActive(account);
        }
        organization.gatewayUrl = gatewayUrl;
        organization.encryptionPublicKey = encryptionPublicKey;
        organization.updatedAt = uint64(block.timestamp);
        emit OrganizationEndpointUpdated(account, gatewayUrl, encryptionPublicKey);
    }

    /**
     * @dev Returns the storage record of `account`, reverting with {OrganizationRegistryUnknownOrganization}
     * if it was never admitted.
     */
    function _requireRegistered(address account) internal view returns (Organization storage organization) {
        organization = _organizations[account];
        if (organization.status == Status.None) {
            revert OrganizationRegistryUnknownOrganization(account);
        }
    }

    /**
     * @dev Reverts with {OrganizationRegistryInvalidRoles} unless `roles` is a non-empty combination of
     * {OrganizationRoles} flags.
     */
    function _checkRoles(uint32 roles) internal pure {
        if (!OrganizationRoles.isValid(roles)) {
            revert OrganizationRegistryInvalidRoles(roles);
        }
    }
}
