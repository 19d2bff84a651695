// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev External interface of {RecordLocator}: which member organisations of the CareLedger consortium hold
 * records for a patient, so that another member (with the patient's consent) knows whom to ask.
 *
 * A patient is known only by their pseudonymous chain address (the key they link at each organisation).
 * Nothing here may ever carry protected health information: only the patient's address and the holders'
 * organisation addresses. No resource types, dates or counts of records are published.
 */
interface IRecordLocator {
    /**
     * @dev The zero address was given where a patient or the organisation registry is required.
     */
    error RecordLocatorZeroAddress();

    /**
     * @dev `account` is not an active organisation of the organisation registry (never admitted, or
     * suspended), so it may not announce that it holds records.
     */
    error RecordLocatorUnauthorizedOrganization(address account);

    /**
     * @dev `organization` has no entry for `patient` (never announced, or already released), so there is
     * nothing to release.
     */
    error RecordLocatorNotHeld(address patient, address organization);

    /**
     * @dev Emitted when `organization` announces that it holds records for `patient`. Emitted once per
     * (patient, organisation) entry: announcing again while the entry exists emits nothing.
     */
    event RecordsAnnounced(address indexed patient, address indexed organization);

    /**
     * @dev Emitted when `organization` withdraws its entry for `patient` (e.g. after erasing the patient's
     * records).
     */
    event RecordsReleased(address indexed patient, address indexed organization);

    /**
     * @dev Records that the caller holds records for `patient`.
     *
     * Idempotent: if the caller already holds an entry for `patient`, this is a no-op that neither reverts nor
     * emits an event, so a transaction sent twice (a retry after a lost receipt, two gateway requests racing)
     * does no harm. The membership check still applies to the no-op.
     *
     * Requirements:
     *
     * - `patient` cannot be the zero address.
     * - the caller must be an active organisation of the organisation registry.
     *
     * Emits a {RecordsAnnounced} event when a new entry is recorded.
     */
    function announce(address patient) external;

    /**
     * @dev Withdraws the caller's entry for `patient`. The last holder of `patient` takes the released
     * entry's position in {holdersOf} (swap and pop), so the order of the remaining holders may change.
     *
     * A suspended (or since removed) organisation may still release its own entries: withdrawing a pointer
     * only ever reveals less, and an organisation that erased a patient's records must be able to say so.
     *
     * Requirements:
     *
     * - `patient` cannot be the zero address.
     * - the caller must hold an entry for `patient`.
     *
     * Emits a {RecordsReleased} event.
     */
    function release(address patient) external;

    /**
     * @dev Returns the organisations holding an entry for `patient`, in announcement order except that a
     * release moves the last holder into the released position. The list is bounded by the number of
     * consortium members, so it is returned whole. It includes entries of organisations suspended since they
     * announced: check their standing in the organisation registry before asking them for records.
     */
    function holdersOf(address patient) external view returns (address[] memory);

    /**
     * @dev Returns `true` if `organization` holds an entry for `patient`.
     */
    function holds(address patient, address organization) external view returns (bool);

    /**
     * @dev Returns the number of organisations holding an entry for `patient`.
     */
    function holderCount(address patient) external view returns (uint256);

    /**
     * @dev Returns the organisation registry whose active members may announce.
     */
    function organizationRegistry() external view returns (address);
}
