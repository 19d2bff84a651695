// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev External interface of {SupplyChainRegistry}: product registration, lot commissioning and the custody of
 * serialised drug packs (DSCSA-style unit-level traceability) among the members of the CareLedger consortium.
 *
 * Nothing commercial or identifying is kept in clear. Products are known by their GTIN (public: it is printed on
 * every pack) and the hash of their master data; a lot and a pack are known only by hashes:
 *
 * - `lotId  = keccak256(abi.encode(LOT_ID_DOMAIN, gtin, keccak256(bytes(lot))))`, computed by the contract when the
 *   lot is commissioned from the GTIN and `lotHash = keccak256(bytes(lot))`, so a lot id always belongs to the GTIN
 *   it was computed from (no manufacturer can take a lot id of another's product);
 * - `packId = keccak256(abi.encode(PACK_ID_DOMAIN, gtin, serial))`, computed off chain;
 *
 * where `gtin` is a `bytes14` holding the 14 ASCII digits of the GTIN-14 as printed after GS1 AI (01) (a GTIN-8,
 * -12 or -13 is left-padded with `0` digits to 14), `lot` and `serial` are `string`s with the exact characters
 * of GS1 AI (10) and AI (21) (1 to 20 characters of GS1 character set 82, case-sensitive, no padding), and the
 * domains are `keccak256("CareLedger.SupplyChain.lotId.v1")` and `keccak256("CareLedger.SupplyChain.packId.v1")`,
 * so that a lot id can never equal a pack id. {lotIdOf} and {packIdOf} compute them (and check the inputs), so
 * every member derives the same ids from a scanned pack. The hashes hide serials and lot numbers only as well as
 * those are unpredictable: sequential serials can be found by trying them (GS1 recommends randomised serials).
 *
 * A lot commits to its packs with a Merkle root over the pack ids, in the layout of OpenZeppelin's
 * `StandardMerkleTree` with leaf encoding `["bytes32"]`:
 * `leaf = keccak256(bytes.concat(keccak256(abi.encode(packId))))` ({packLeaf}), inner nodes the keccak256 of the
 * sorted pair of children (OpenZeppelin {MerkleProof}).
 *
 * A pack is known by its lot and pack id together: what one lot's tree says about a pack id never affects
 * another lot, so no manufacturer can touch the packs of another's lots by putting their ids in its own trees.
 * A pack is owned by its lot's manufacturer until it is first transferred. Until a pack is first written to
 * (transferred, dispensed, decommissioned, destroyed or marked suspect) the chain holds nothing about it, and a
 * write must prove it is in its lot with a Merkle proof; from then on its stored record suffices and the proof
 * may be empty.
 *
 * What is visible on chain, by design: which member holds which pack id and when it moved (custody), the
 * declared pack count and expiry of each lot, and hashes of the off-chain documents (transaction information,
 * reasons, investigation reports).
 */
interface ISupplyChainRegistry {
    /**
     * @dev Life-cycle state of a pack. `Active` packs are in commerce (owned, transferable if nothing else
     * forbids it); the other three are final.
     */
    enum PackState {
        Active,
        Dispensed,
        Decommissioned,
        Destroyed
    }

    /**
     * @dev Outcome of the investigation of a suspect (quarantined) pack or lot. `Cleared` returns it to
     * commerce; `Illegitimate` is final: it is never transferable or dispensable again (only destroyable).
     */
    enum InvestigationOutcome {
        Cleared,
        Illegitimate
    }

    /**
     * @dev A registered product: its manufacturer (the only one who may commission lots of it), the hash of its
     * master data kept off chain (name, strength, dosage form, national codes), when it was registered (UNIX
     * seconds) and how many lots were commissioned so far.
     */
    struct Product {
        address manufacturer;
        uint64 registeredAt;
        uint32 lotCount;
        bytes32 metadataHash;
    }

    /**
     * @dev A commissioned lot. `expiry` is the first second (UNIX time) at which the lot is expired;
     * `packCount` is the number of packs the manufacturer declared (it is not checked against the tree).
     * `suspect` and `quarantinedBy` describe a pending lot-level investigation; `illegitimate` its final
     * outcome.
     */
    struct Lot {
        bytes14 gtin;
        address manufacturer;
        bytes32 serialsRoot;
        uint32 packCount;
        uint64 expiry;
        uint64 commissionedAt;
        bool recalled;
        uint64 recalledAt;
        bool suspect;
        bool illegitimate;
        address quarantinedBy;
    }

    /**
     * @dev Everything a verifier needs about a pack, in one call ({packStatus}).
     *
     * `recorded` is false while the chain holds nothing about the pack: it is then owned by the lot's
     * manufacturer if it is in the lot at all, which only a Merkle proof shows ({isInLot}). `suspect` and
     * `illegitimate` are the pack's own flags, `lotSuspect`, `lotIllegitimate` and `lotRecalled` its lot's; a
     * pack is fit for commerce only if all five are false, its state is `Active` and `lotExpiry` is in the
     * future. `lastTransferAt` is 0 until the first transfer.
     */
    struct PackStatus {
        bool recorded;
        address owner;
        PackState state;
        bool suspect;
        bool illegitimate;
        bool lotRecalled;
        bool lotSuspect;
        bool lotIllegitimate;
        uint64 lotExpiry;
        uint64 lastTransferAt;
    }

    /**
     * @dev The zero address was given where an organisation or the organisation registry is required.
     */
    error SupplyChainRegistryZeroAddress();

    /**
     * @dev `account` is not an active member of the organisation registry (never admitted, or suspended).
     */
    error SupplyChainRegistryUnauthorizedOrganization(address account);

    /**
     * @dev `account` is active but holds none of the organisation roles in `roles` (a bitmask of
     * {OrganizationRoles} flags) that the action requires.
     */
    error SupplyChainRegistryMissingRole(address account, uint32 roles);

    /**
     * @dev `to` may not receive packs: it is not an active member of the organisation registry.
     */
    error SupplyChainRegistryInactiveRecipient(address to);

    /**
     * @dev A transfer's recipient is its sender.
     */
    error SupplyChainRegistrySelfTransfer(address account);

    /**
     * @dev `gtin` is not 14 ASCII digits ending with a valid GS1 check digit.
     */
    error SupplyChainRegistryInvalidGtin(bytes14 gtin);

    /**
     * @dev A serial number is not 1 to 20 characters of GS1 character set 82.
     */
    error SupplyChainRegistryInvalidSerial();

    /**
     * @dev A lot number is not 1 to 20 characters of GS1 character set 82.
     */
    error SupplyChainRegistryInvalidLotNumber();

    /**
     * @dev `gtin` is already registered, to `manufacturer`: a GTIN has exactly one owner.
     */
    error SupplyChainRegistryProductExists(bytes14 gtin, address manufacturer);

    /**
     * @dev `gtin` was never registered.
     */
    error SupplyChainRegistryUnknownProduct(bytes14 gtin);

    /**
     * @dev `account` is not the manufacturer that registered `gtin`, so it may not commission lots of it.
     */
    error SupplyChainRegistryNotProductOwner(bytes14 gtin, address account);

    /**
     * @dev The zero lot hash was given (it is `keccak256(bytes(lot))`).
     */
    error SupplyChainRegistryInvalidLotHash();

    /**
     * @dev A lot needs a nonzero serials root and at least one pack.
     */
    error SupplyChainRegistryEmptyLot();

    /**
     * @dev `expiry` is not in the future.
     */
    error SupplyChainRegistryInvalidExpiry(uint64 expiry);

    /**
     * @dev `lotId` is already commissioned.
     */
    error SupplyChainRegistryLotExists(bytes32 lotId);

    /**
     * @dev `lotId` was never commissioned.
     */
    error SupplyChainRegistryUnknownLot(bytes32 lotId);

    /**
     * @dev `packId` is not in the lot `lotId`: its Merkle proof does not lead to the lot's serials root.
     */
    error SupplyChainRegistryNotInLot(bytes32 lotId, bytes32 packId);

    /**
     * @dev `account` does not own `packId`; `owner` does.
     */
    error SupplyChainRegistryNotOwner(bytes32 packId, address account, address owner);

    /**
     * @dev `packId` was already dispensed by `dispenser`: a pack seen again after dispensing is a clone (or
     * diverted).
     */
    error SupplyChainRegistryPackAlreadyDispensed(bytes32 packId, address dispenser);

    /**
     * @dev `packId` was taken out of commerce for good (`state` is `Decommissioned` or `Destroyed`).
     */
    error SupplyChainRegistryPackOutOfCommerce(bytes32 packId, PackState state);

    /**
     * @dev `packId` is suspect (quarantined) pending investigation.
     */
    error SupplyChainRegistryPackSuspect(bytes32 packId);

    /**
     * @dev `packId` was found illegitimate.
     */
    error SupplyChainRegistryPackIllegitimate(bytes32 packId);

    /**
     * @dev The lot `lotId` is suspect (quarantined) pending investigation.
     */
    error SupplyChainRegistryLotSuspect(bytes32 lotId);

    /**
     * @dev The lot `lotId` was found illegitimate.
     */
    error SupplyChainRegistryLotIllegitimate(bytes32 lotId);

    /**
     * @dev The lot `lotId` is recalled: its packs may only go back to its manufacturer, or out of commerce.
     */
    error SupplyChainRegistryLotRecalled(bytes32 lotId);

    /**
     * @dev The lot `lotId` is already recalled.
     */
    error SupplyChainRegistryLotAlreadyRecalled(bytes32 lotId);

    /**
     * @dev The lot `lotId` expired at `expiry`: its packs may only go back to its manufacturer, or out of
     * commerce.
     */
    error SupplyChainRegistryLotExpired(bytes32 lotId, uint64 expiry);

    /**
     * @dev `account` is neither the manufacturer of the lot `lotId` nor a regulator, so it may not recall it.
     */
    error SupplyChainRegistryNotLotAuthority(bytes32 lotId, address account);

    /**
     * @dev `account` neither holds nor held `packId` (and is not its manufacturer or a regulator), so it may
     * not mark it suspect.
     */
    error SupplyChainRegistryNotHolder(bytes32 packId, address account);

    /**
     * @dev `account` never held a pack of the lot `lotId` (and is not its manufacturer or a regulator), so it
     * may not mark the lot suspect.
     */
    error SupplyChainRegistryNotLotHolder(bytes32 lotId, address account);

    /**
     * @dev `account` neither quarantined the pack or lot `id` nor is a regulator, so it may not record the
     * outcome of its investigation.
     */
    error SupplyChainRegistryNotInvestigator(bytes32 id, address account);

    /**
     * @dev `packId` is not suspect: there is no investigation to conclude.
     */
    error SupplyChainRegistryPackNotSuspect(bytes32 packId);

    /**
     * @dev The lot `lotId` is not suspect: there is no investigation to conclude.
     */
    error SupplyChainRegistryLotNotSuspect(bytes32 lotId);

    /**
     * @dev A hash of an off-chain document (product master data, transaction information, reason or report)
     * is required but zero was given.
     */
    error SupplyChainRegistryMissingReference();

    /**
     * @dev A batch call was given no packs.
     */
    error SupplyChainRegistryEmptyBatch();

    /**
     * @dev A batch call was given `count` packs, more than `max`.
     */
    error SupplyChainRegistryBatchTooLarge(uint256 count, uint256 max);

    /**
     * @dev A batch call was given `packs` pack ids but `proofs` proofs.
     */
    error SupplyChainRegistryLengthMismatch(uint256 packs, uint256 proofs);

    /**
     * @dev `index` is not below the number of lots, `count`.
     */
    error SupplyChainRegistryIndexOutOfBounds(uint256 index, uint256 count);

    /**
     * @dev Emitted when `manufacturer` registers the product `gtin` with master data hashing to `metadataHash`.
     */
    event ProductRegistered(bytes14 indexed gtin, address indexed manufacturer, bytes32 metadataHash);

    /**
     * @dev Emitted when `manufacturer` commissions the lot `lotId` of `gtin`: `packCount` packs whose ids are
     * the leaves of the Merkle tree with root `serialsRoot`, expiring at `expiry`.
     */
    event LotCommissioned(
        bytes32 indexed lotId,
        bytes14 indexed gtin,
        address indexed manufacturer,
        bytes32 serialsRoot,
        uint32 packCount,
        uint64 expiry
    );

    /**
     * @dev Emitted once per pack when `from` transfers `packId` of `lotId` to `to`. `transactionRef` is the
     * hash of the transaction information kept off chain (the DSCSA T3 documents). One event per pack, indexed
     * by pack, lot and recipient: a pack's full chain of custody is one log filter on its id, a lot's
     * distribution (for a recall) one filter on the lot, a member's receipts one filter on its address.
     */
    event PackTransferred(
        bytes32 indexed packId,
        bytes32 indexed lotId,
        address indexed to,
        address from,
        bytes32 transactionRef
    );

    /**
     * @dev Emitted when `dispenser` dispenses `packId` of `lotId` to a patient.
     */
    event PackDispensed(bytes32 indexed packId, bytes32 indexed lotId, address indexed dispenser);

    /**
     * @dev Emitted when the owner `by` takes `packId` of `lotId` out of commerce (`reasonHash`: the reason
     * code or document kept off chain).
     */
    event PackDecommissioned(bytes32 indexed packId, bytes32 indexed lotId, address indexed by, bytes32 reasonHash);

    /**
     * @dev Emitted when the owner `by` records the destruction of `packId` of `lotId` (`reportHash`: the
     * destruction record kept off chain).
     */
    event PackDestroyed(bytes32 indexed packId, bytes32 indexed lotId, address indexed by, bytes32 reportHash);

    /**
     * @dev Emitted when `by` marks `packId` of `lotId` suspect (quarantine) for the reason hashing to
     * `reasonHash`.
     */
    event PackMarkedSuspect(bytes32 indexed packId, bytes32 indexed lotId, address indexed by, bytes32 reasonHash);

    /**
     * @dev Emitted when `by` concludes the investigation of `packId` of `lotId` with `outcome`, documented by
     * the report hashing to `reportHash`.
     */
    event PackInvestigated(
        bytes32 indexed packId,
        bytes32 indexed lotId,
        address indexed by,
        InvestigationOutcome outcome,
        bytes32 reportHash
    );

    /**
     * @dev Emitted when `by` marks the whole lot `lotId` suspect for the reason hashing to `reasonHash`.
     */
    event LotMarkedSuspect(bytes32 indexed lotId, address indexed by, bytes32 reasonHash);

    /**
     * @dev Emitted when `by` concludes the investigation of the lot `lotId` with `outcome`.
     */
    event LotInvestigated(
        bytes32 indexed lotId,
        address indexed by,
        InvestigationOutcome outcome,
        bytes32 reportHash
    );

    /**
     * @dev Emitted when `by` (the manufacturer or a regulator) recalls the lot `lotId`.
     */
    event LotRecalled(bytes32 indexed lotId, address indexed by, bytes32 reasonHash);

    /**
     * @dev Registers the product `gtin` as the caller's, with its master data hash `metadataHash`.
     *
     * Requirements:
     *
     * - the caller must be an active member with the MANUFACTURER role.
     * - `gtin` must be 14 ASCII digits with a valid check digit and not registered yet.
     * - `metadataHash` cannot be zero.
     *
     * Emits a {ProductRegistered} event.
     */
    function registerProduct(bytes14 gtin, bytes32 metadataHash) external;

    /**
     * @dev Commissions the lot of the caller's product `gtin` whose lot number hashes to `lotHash`
     * (`keccak256(bytes(lot))`): `packCount` packs whose pack ids are the leaves of the tree with root
     * `serialsRoot`, expiring at `expiry`. Every pack of the lot is then owned by the caller. Returns the lot id,
     * `keccak256(abi.encode(LOT_ID_DOMAIN, gtin, lotHash))` (the same as {lotIdOf}).
     *
     * Requirements:
     *
     * - the caller must be an active member with the MANUFACTURER role, and the owner of `gtin`.
     * - `lotHash` cannot be zero; the lot cannot be commissioned already.
     * - `serialsRoot` cannot be zero and `packCount` cannot be zero.
     * - `expiry` must be in the future.
     *
     * Emits a {LotCommissioned} event.
     */
    function commissionLot(
        bytes14 gtin,
        bytes32 lotHash,
        bytes32 serialsRoot,
        uint32 packCount,
        uint64 expiry
    ) external returns (bytes32 lotId);

    /**
     * @dev Transfers the packs `packIds` of the lot `lotId` from the caller to `to`, for the transaction whose
     * documents hash to `transactionRef`. `proofs[i]` is the Merkle proof of `packIds[i]` in the lot; it is
     * only checked for a pack the chain holds nothing about yet and may be empty otherwise. All or nothing.
     *
     * A pack of a recalled or expired lot may still be returned to the lot's manufacturer.
     *
     * Requirements:
     *
     * - the caller must be an active member; `to` an active member with the DISTRIBUTOR, DISPENSER or
     *   MANUFACTURER role, other than the caller.
     * - 1 to {MAX_BATCH_SIZE} packs, as many proofs as packs; `transactionRef` cannot be zero.
     * - the lot must be known, neither suspect nor illegitimate, and (unless `to` is its manufacturer) neither
     *   recalled nor expired.
     * - each pack must be in the lot, owned by the caller, `Active`, neither suspect nor illegitimate.
     *
     * Emits a {PackTransferred} event per pack.
     */
    function transferPacks(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        address to,
        bytes32 transactionRef
    ) external;

    /**
     * @dev Records that the caller dispensed the packs `packIds` of the lot `lotId` to patients. A pack is
     * dispensed once: dispensing it again reverts with {SupplyChainRegistryPackAlreadyDispensed} whoever asks,
     * which is how a cloned pack is detected.
     *
     * Requirements:
     *
     * - the caller must be an active member with the DISPENSER role.
     * - 1 to {MAX_BATCH_SIZE} packs, as many proofs as packs.
     * - the lot must be known, neither suspect, illegitimate, recalled nor expired.
     * - each pack must be in the lot, not dispensed yet, `Active`, owned by the caller, neither suspect nor
     *   illegitimate.
     *
     * Emits a {PackDispensed} event per pack.
     */
    function dispense(bytes32 lotId, bytes32[] calldata packIds, bytes32[][] calldata proofs) external;

    /**
     * @dev Takes the caller's packs `packIds` of the lot `lotId` out of commerce for the reason hashing to
     * `reasonHash` (damaged, sample, export...). Allowed for recalled, expired and illegitimate packs, not for
     * suspect ones (the investigation needs them).
     *
     * Requirements:
     *
     * - the caller must be an active member; `reasonHash` cannot be zero.
     * - 1 to {MAX_BATCH_SIZE} packs, as many proofs as packs.
     * - the lot must be known and not suspect.
     * - each pack must be in the lot, `Active`, owned by the caller and not suspect.
     *
     * Emits a {PackDecommissioned} event per pack.
     */
    function decommission(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 reasonHash
    ) external;

    /**
     * @dev Records the destruction of the caller's packs `packIds` of the lot `lotId`, documented by the
     * report hashing to `reportHash`. Same rules as {decommission}.
     *
     * Emits a {PackDestroyed} event per pack.
     */
    function destroy(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 reportHash
    ) external;

    /**
     * @dev Marks the packs `packIds` of the lot `lotId` suspect (quarantine) for the reason hashing to
     * `reasonHash`: they can be neither transferred, dispensed, decommissioned nor destroyed until the
     * investigation is concluded ({recordInvestigation}).
     *
     * Requirements:
     *
     * - the caller must be an active member that holds or held each pack, its manufacturer or a regulator.
     * - `reasonHash` cannot be zero; 1 to {MAX_BATCH_SIZE} packs, as many proofs as packs.
     * - the lot must be known and not illegitimate.
     * - each pack must be in the lot, neither suspect nor illegitimate already.
     *
     * Emits a {PackMarkedSuspect} event per pack.
     */
    function markSuspect(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 reasonHash
    ) external;

    /**
     * @dev Concludes the investigation of the suspect packs `packIds` of the lot `lotId` with `outcome`,
     * documented by the report hashing to `reportHash`. `Cleared` lifts the quarantine; `Illegitimate` is final.
     *
     * Requirements:
     *
     * - the caller must be an active member, and for each pack the member that marked it suspect or a
     *   regulator.
     * - `reportHash` cannot be zero; the lot must be known; 1 to {MAX_BATCH_SIZE} packs, each of them suspect.
     *
     * Emits a {PackInvestigated} event per pack.
     */
    function recordInvestigation(
        bytes32 lotId,
        bytes32[] calldata packIds,
        InvestigationOutcome outcome,
        bytes32 reportHash
    ) external;

    /**
     * @dev Marks the whole lot `lotId` suspect for the reason hashing to `reasonHash`: none of its packs can be
     * transferred, dispensed, decommissioned or destroyed until {recordLotInvestigation}.
     *
     * Requirements:
     *
     * - the caller must be an active member that holds or held a pack of the lot, its manufacturer or a
     *   regulator.
     * - `reasonHash` cannot be zero; the lot must be known, neither suspect nor illegitimate already.
     *
     * Emits a {LotMarkedSuspect} event.
     */
    function markLotSuspect(bytes32 lotId, bytes32 reasonHash) external;

    /**
     * @dev Concludes the investigation of the suspect lot `lotId` with `outcome`.
     *
     * Requirements:
     *
     * - the caller must be an active member: the one that marked the lot suspect, or a regulator.
     * - `reportHash` cannot be zero; the lot must be suspect.
     *
     * Emits a {LotInvestigated} event.
     */
    function recordLotInvestigation(bytes32 lotId, InvestigationOutcome outcome, bytes32 reportHash) external;

    /**
     * @dev Recalls the lot `lotId` for the reason hashing to `reasonHash`, at once for every one of its packs:
     * they can no longer be dispensed nor transferred except back to the manufacturer. A recall is final.
     *
     * Requirements:
     *
     * - the caller must be an active member: the lot's manufacturer or a regulator.
     * - `reasonHash` cannot be zero; the lot must be known and not recalled yet.
     *
     * Emits a {LotRecalled} event.
     */
    function recallLot(bytes32 lotId, bytes32 reasonHash) external;

    /**
     * @dev Returns the status of the pack `packId` of the lot `lotId` (see {PackStatus}). Requirements: the lot
     * must be known.
     */
    function packStatus(bytes32 lotId, bytes32 packId) external view returns (PackStatus memory);

    /**
     * @dev Returns the lot `lotId`. Requirements: the lot must be known.
     */
    function lotOf(bytes32 lotId) external view returns (Lot memory);

    /**
     * @dev Returns the product `gtin`. Requirements: the product must be registered.
     */
    function productOf(bytes14 gtin) external view returns (Product memory);

    /**
     * @dev Returns `true` if `proof` proves that `packId` is a leaf of the lot `lotId`'s tree. Requirements: the
     * lot must be known.
     */
    function isInLot(bytes32 lotId, bytes32 packId, bytes32[] calldata proof) external view returns (bool);

    /**
     * @dev Returns the number of lots ever commissioned.
     */
    function lotCount() external view returns (uint256);

    /**
     * @dev Returns the id of the lot commissioned at position `index`, in commissioning order.
     */
    function lotIdAt(uint256 index) external view returns (bytes32);

    /**
     * @dev Returns the pack id of the pack with serial number `serial` of the product `gtin`:
     * `keccak256(abi.encode(PACK_ID_DOMAIN, gtin, serial))`. Reverts if `gtin` or `serial` is malformed.
     */
    function packIdOf(bytes14 gtin, string calldata serial) external pure returns (bytes32);

    /**
     * @dev Returns the lot id of the lot with lot number `lot` of the product `gtin`:
     * `keccak256(abi.encode(LOT_ID_DOMAIN, gtin, keccak256(bytes(lot))))`. Reverts if `gtin` or `lot` is malformed.
     */
    function lotIdOf(bytes14 gtin, string calldata lot) external pure returns (bytes32);

    /**
     * @dev Returns the Merkle leaf of `packId`: `keccak256(bytes.concat(keccak256(abi.encode(packId))))`.
     */
    function packLeaf(bytes32 packId) external pure returns (bytes32);

    /**
     * @dev Returns the organisation registry whose active members take part.
     */
    function organizationRegistry() external view returns (address);
}
