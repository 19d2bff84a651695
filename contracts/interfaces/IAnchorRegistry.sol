// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev External interface of {AnchorRegistry}: Merkle roots of record batches, anchored by the active members
 * of an {IOrganizationRegistry}.
 *
 * Each organisation numbers its batches 1, 2, 3, ... without gaps, so a verifier can tell from the chain alone
 * whether a batch is missing. A root can be anchored only once, by anyone. Only roots and counts go on chain,
 * never protected health information.
 */
interface IAnchorRegistry {
    /**
     * @dev An anchored batch. Stored in two slots: `organization`, `sequence` and `leafCount` in the first,
     * `anchoredAt` (UNIX seconds) and `blockNumber` in the second. An all-zero value means "not anchored".
     */
    struct Anchor {
        address organization;
        uint64 sequence;
        uint32 leafCount;
        uint64 anchoredAt;
        uint64 blockNumber;
    }

    /**
     * @dev The zero address was given where a contract is required.
     */
    error AnchorRegistryZeroAddress();

    /**
     * @dev `account` is not an active organisation of the organisation registry.
     */
    error AnchorRegistryUnauthorizedOrganization(address account);

    /**
     * @dev The zero root cannot be anchored.
     */
    error AnchorRegistryZeroRoot();

    /**
     * @dev A batch must contain at least one record.
     */
    error AnchorRegistryEmptyBatch();

    /**
     * @dev `root` was already anchored by `organization` as its batch `sequence`.
     */
    error AnchorRegistryRootAlreadyAnchored(bytes32 root, address organization, uint64 sequence);

    /**
     * @dev `organization` must anchor its batch `expected` next but gave `given`.
     */
    error AnchorRegistryUnexpectedSequence(address organization, uint64 expected, uint64 given);

    /**
     * @dev Emitted when `organization` anchors `root`, the Merkle root of its batch `sequence` of `leafCount`
     * records, at block time `anchoredAt`.
     */
    event BatchAnchored(
        address indexed organization,
        uint64 indexed sequence,
        bytes32 indexed root,
        uint32 leafCount,
        uint64 anchoredAt
    );

    /**
     * @dev Anchors `root`, the Merkle root of the caller's batch `sequence` of `leafCount` records, recording
     * the current block's timestamp and number.
     *
     * Requirements:
     *
     * - the caller must be an active organisation of the organisation registry.
     * - `root` cannot be zero and cannot already be anchored.
     * - `leafCount` cannot be zero.
     * - `sequence` must equal {nextSequence} of the caller.
     *
     * Emits a {BatchAnchored} event.
     */
    function anchor(bytes32 root, uint32 leafCount, uint64 sequence) external;

    /**
     * @dev Returns the anchor of `root`, or an all-zero value if `root` was never anchored (test
     * `organization == address(0)`).
     */
    function getAnchor(bytes32 root) external view returns (Anchor memory);

    /**
     * @dev Returns `true` if `root` has been anchored.
     */
    function isAnchored(bytes32 root) external view returns (bool);

    /**
     * @dev Returns the root `organization` anchored as its batch `sequence`, or zero if there is none.
     */
    function rootAt(address organization, uint64 sequence) external view returns (bytes32);

    /**
     * @dev Returns the sequence number `organization` must give its next batch; 1 if it never anchored.
     */
    function nextSequence(address organization) external view returns (uint64);

    /**
     * @dev Returns the organisation registry whose active members may anchor.
     */
    function organizationRegistry() external view returns (address);
}
