// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev External interface of {OrganizationRegistry}: the membership list of the CareLedger consortium.
 *
 * Every organisation is identified by the account it signs transactions with. Roles are a `uint32` bitmask
 * of the flags in {OrganizationRoles}. Nothing here may ever carry protected health information: only
 * addresses, organisation names, roles, gateway URLs and public encryption keys.
 */
interface IOrganizationRegistry {
    /**
     * @dev Membership status of an organisation. `None` means the account was never admitted.
     */
    enum Status {
        None,
        Active,
        Suspended
    }

    /**
     * @dev What the consortium knows about a member organisation.
     *
     * `roles`, `status`, `admittedAt` and `updatedAt` share one storage slot. Timestamps are UNIX seconds.
     * `gatewayUrl` is where the organisation's CareLedger gateway answers; `encryptionPublicKey` is the key
     * other members encrypt record keys to.
     */
    struct Organization {
        string name;
        uint32 roles;
        Status status;
        uint64 admittedAt;
        uint64 updatedAt;
        string gatewayUrl;
        bytes encryptionPublicKey;
    }

    /**
     * @dev The zero address was given where an account is required.
     */
    error OrganizationRegistryZeroAddress();

    /**
     * @dev `account` is already a member (active or suspended) and cannot be admitted again.
     */
    error OrganizationRegistryAlreadyRegistered(address account);

    /**
     * @dev An organisation must have a non-empty name.
     */
    error OrganizationRegistryEmptyName();

    /**
     * @dev `roles` is zero or has bits outside {OrganizationRoles-ALL_ROLES}.
     */
    error OrganizationRegistryInvalidRoles(uint32 roles);

    /**
     * @dev `account` was never admitted.
     */
    error OrganizationRegistryUnknownOrganization(address account);

    /**
     * @dev `account` is not an active member (it is unknown or suspended).
     */
    error OrganizationRegistryNotActive(address account);

    /**
     * @dev `account` is not suspended, so it cannot be reinstated.
     */
    error OrganizationRegistryNotSuspended(address account);

    /**
     * @dev `index` is not below the number of organisations, `count`.
     */
    error OrganizationRegistryIndexOutOfBounds(uint256 index, uint256 count);

    /**
     * @dev Emitted when `account` is admitted to the consortium as an active member.
     */
    event OrganizationAdmitted(
        address indexed account,
        string name,
        uint32 roles,
        string gatewayUrl,
        bytes encryptionPublicKey
    );

    /**
     * @dev Emitted when `account` is suspended by the consortium admin `by`. `reason` is free text for
     * auditors and must not contain protected health information.
     */
    event OrganizationSuspended(address indexed account, address indexed by, string reason);

    /**
     * @dev Emitted when the suspended `account` is reinstated by the consortium admin `by`.
     */
    event OrganizationReinstated(address indexed account, address indexed by);

    /**
     * @dev Emitted when the roles of `account` change from `previousRoles` to `roles`.
     */
    event OrganizationRolesChanged(address indexed account, uint32 previousRoles, uint32 roles);

    /**
     * @dev Emitted when `account` publishes a new gateway URL and encryption public key.
     */
    event OrganizationEndpointUpdated(address indexed account, string gatewayUrl, bytes encryptionPublicKey);

    /**
     * @dev Admits `account` to the consortium as an active member.
     *
     * Requirements:
     *
     * - the caller must have the consortium admin role.
     * - `account` cannot be the zero address.
     * - `account` cannot already be registered.
     * - `name` cannot be empty.
     * - `roles` must be a non-empty combination of {OrganizationRoles} flags.
     *
     * Emits an {OrganizationAdmitted} event.
     */
    function admit(
        address account,
        string calldata name,
        uint32 roles,
        string calldata gatewayUrl,
        bytes calldata encryptionPublicKey
    ) external;

    /**
     * @dev Suspends the active member `account`. A suspended member keeps its record but fails every
     * {isActive} and {hasOrganizationRole} check until reinstated.
     *
     * Requirements:
     *
     * - the caller must have the consortium admin role.
     * - `account` must be registered and active.
     *
     * Emits an {OrganizationSuspended} event.
     */
    function suspend(address account, string calldata reason) external;

    /**
     * @dev Reinstates the suspended member `account`.
     *
     * Requirements:
     *
     * - the caller must have the consortium admin role.
     * - `account` must be registered and suspended.
     *
     * Emits an {OrganizationReinstated} event.
     */
    function reinstate(address account) external;

    /**
     * @dev Replaces the roles of `account` (active or suspended) with `roles`.
     *
     * Requirements:
     *
     * - the caller must have the consortium admin role.
     * - `account` must be registered.
     * - `roles` must be a non-empty combination of {OrganizationRoles} flags.
     *
     * Emits an {OrganizationRolesChanged} event.
     */
    function setRoles(address account, uint32 roles) external;

    /**
     * @dev Publishes the caller's own gateway URL and encryption public key.
     *
     * Requirements:
     *
     * - the caller must be a registered, active organisation.
     *
     * Emits an {OrganizationEndpointUpdated} event.
     */
    function updateEndpoint(string calldata gatewayUrl, bytes calldata encryptionPublicKey) external;

    /**
     * @dev Returns the record of `account`.
     *
     * Requirements:
     *
     * - `account` must be registered.
     */
    function getOrganization(address account) external view returns (Organization memory);

    /**
     * @dev Returns `true` if `account` is a registered, active organisation.
     */
    function isActive(address account) external view returns (bool);

    /**
     * @dev Returns `true` if `account` is active and holds every role flag set in `role`. A zero `role`
     * only asks whether `account` is active.
     */
    function hasOrganizationRole(address account, uint32 role) external view returns (bool);

    /**
     * @dev Returns the number of organisations ever admitted (active or suspended).
     */
    function organizationCount() external view returns (uint256);

    /**
     * @dev Returns the organisation admitted at position `index`, in admission order.
     *
     * Requirements:
     *
     * - `index` must be strictly less than {organizationCount}.
     */
    function organizationAt(uint256 index) external view returns (address);
}
