// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";
import {ISupplyChainRegistry} from "./interfaces/ISupplyChainRegistry.sol";
import {OrganizationRoles} from "./libraries/OrganizationRoles.sol";

/**
 * @dev The drug supply chain of the CareLedger consortium: manufacturers register their products (GTINs) and
 * commission lots as Merkle roots over pack ids; packs then move between active members (manufacturers,
 * distributors, dispensers) until they are dispensed, decommissioned or destroyed; any holder may quarantine a
 * suspect pack or lot, and the investigation ends it (cleared) or makes it final (illegitimate); a manufacturer
 * or regulator recalls a lot at once for all its packs. See {ISupplyChainRegistry} for the id and leaf
 * encodings.
 *
 * Storage is laid out for batch transfers. A pack the chain knows about is one storage slot (owner, state,
 * flags, time of the last transfer) keyed by its lot and pack id; a pack nobody touched yet costs nothing and is
 * proven with its lot's Merkle tree on its first write. A lot is read once per batch, not once per pack. Every
 * write requires the caller to be an active member of the {IOrganizationRegistry}: a suspended member can do
 * nothing until reinstated.
 *
 * Who held a pack is remembered so that a former holder may still quarantine it: the sender of a transfer is
 * recorded as a holder of each pack it sends (its manufacturer always counts as one, so a first transfer pays
 * nothing for this), and the recipient as a holder of the lot (once per lot and recipient).
 *
 * Per-pack proofs rather than one multiproof: a refusal names the pack that is not in the lot, proofs are only
 * sent for a pack's first move, and for packs scattered over a large tree (a tree's leaves are sorted by hash, so
 * a case of packs is scattered) a multiproof saves only part of the hashes while its flags cost calldata too.
 *
 * Events: one per pack, indexed by pack, lot and recipient, because logs are how members and regulators follow
 * custody: a pack's history is one log filter on its id, a lot's distribution (for a recall) one filter on the
 * lot. One event per batch listing the packs would save about 2k gas per pack but make both filters impossible.
 *
 * Gas (measured by the contract tests, 100 packs in one call): about 3.85M as the packs' first move out of a lot
 * of 10,000 (0.8M of it the calldata of their 13- or 14-hash proofs, 2.2M a new storage slot per pack), about
 * 3.32M for a later move (a new slot per pack recording the sender as a former holder) and about 1.0M to dispense
 * them: at most about an eighth of a 30M block gas limit.
 */
contract SupplyChainRegistry is Context, ISupplyChainRegistry {
    /// @dev Largest number of packs in one batch call.
    uint256 public constant MAX_BATCH_SIZE = 256;

    /// @dev Domain of pack ids: `packId = keccak256(abi.encode(PACK_ID_DOMAIN, gtin, serial))`.
    bytes32 public constant PACK_ID_DOMAIN = keccak256("CareLedger.SupplyChain.packId.v1");
    /// @dev Domain of lot ids: `lotId = keccak256(abi.encode(LOT_ID_DOMAIN, gtin, keccak256(bytes(lot))))`.
    bytes32 public constant LOT_ID_DOMAIN = keccak256("CareLedger.SupplyChain.lotId.v1");

    /// @dev Roles that may receive packs.
    uint32 private constant _TRADING_ROLES =
        OrganizationRoles.MANUFACTURER | OrganizationRoles.DISTRIBUTOR | OrganizationRoles.DISPENSER;

    /// @dev Bit `c` is set for each ASCII character `c` of GS1 character set 82.
    uint256 private constant _GS1_CSET82 = 0x07fffffe87fffffeffffffe600000000;

    /// @dev Longest GS1 serial or lot number (AI 21 and AI 10).
    uint256 private constant _GS1_MAX_LENGTH = 20;

    /**
     * @dev A pack the chain knows about; `owner` is never zero once recorded. Stored packed in one word (see
     * {_readPack}), read and written whole.
     */
    struct PackRecord {
        address owner;
        PackState state;
        bool suspect;
        bool illegitimate;
        uint40 lastTransferAt;
    }

    /**
     * @dev A lot, in four slots: the first three are what a batch call reads (once), the fourth the rarely read
     * quarantine and recall details.
     */
    struct LotRecord {
        address manufacturer;
        uint64 expiry;
        uint32 packCount;
        // slot 1
        bytes32 serialsRoot;
        // slot 2
        bytes14 gtin;
        uint40 commissionedAt;
        bool recalled;
        bool suspect;
        bool illegitimate;
        // slot 3
        address quarantinedBy;
        uint40 recalledAt;
    }

    /// @dev What a batch call needs to know about its lot, read once.
    struct LotContext {
        bytes32 lotId;
        address manufacturer;
        bytes32 serialsRoot;
    }

    IOrganizationRegistry private immutable _organizationRegistry;

    mapping(bytes14 gtin => Product) private _products;
    mapping(bytes32 lotId => LotRecord) private _lots;
    bytes32[] private _lotIds;
    /// @dev Packed {PackRecord}s by {_packKey}; zero for a pack the chain knows nothing about.
    mapping(bytes32 packKey => uint256) private _packs;
    mapping(bytes32 packKey => address) private _packQuarantinedBy;
    /// @dev Former holders of a pack (senders of its transfers other than its manufacturer).
    mapping(bytes32 packKey => mapping(address account => bool)) private _heldPack;
    /// @dev Members that received a pack of the lot.
    mapping(bytes32 lotId => mapping(address account => bool)) private _heldLot;

    /**
     * @dev Binds the registry to the organisation registry `registry`, whose active members take part.
     *
     * Requirements:
     *
     * - `registry` cannot be the zero address.
     */
    constructor(IOrganizationRegistry registry) {
        if (address(registry) == address(0)) {
            revert SupplyChainRegistryZeroAddress();
        }
        _organizationRegistry = registry;
    }

    /// @inheritdoc ISupplyChainRegistry
    function registerProduct(bytes14 gtin, bytes32 metadataHash) public virtual {
        address manufacturer = _msgSender();
        _checkRole(manufacturer, OrganizationRoles.MANUFACTURER);
        _checkGtin(gtin);
        _checkReference(metadataHash);
        Product storage product = _products[gtin];
        if (product.manufacturer != address(0)) {
            revert SupplyChainRegistryProductExists(gtin, product.manufacturer);
        }
        product.manufacturer = manufacturer;
        product.registeredAt = uint64(block.timestamp);
        product.metadataHash = metadataHash;
        emit ProductRegistered(gtin, manufacturer, metadataHash);
    }

    /// @inheritdoc ISupplyChainRegistry
    function commissionLot(
        bytes14 gtin,
        bytes32 lotHash,
        bytes32 serialsRoot,
        uint32 packCount,
        uint64 expiry
    ) public virtual returns (bytes32 lotId) {
        address manufacturer = _msgSender();
        _checkRole(manufacturer, OrganizationRoles.MANUFACTURER);
        Product storage product = _products[gtin];
        if (product.manufacturer == address(0)) {
            revert SupplyChainRegistryUnknownProduct(gtin);
        }
        if (product.manufacturer != manufacturer) {
            revert SupplyChainRegistryNotProductOwner(gtin, manufacturer);
        }
        if (lotHash == bytes32(0)) {
            revert SupplyChainRegistryInvalidLotHash();
        }
        if (serialsRoot == bytes32(0) || packCount == 0) {
            revert SupplyChainRegistryEmptyLot();
        }
        if (expiry <= block.timestamp) {
            revert SupplyChainRegistryInvalidExpiry(expiry);
        }
        lotId = keccak256(abi.encode(LOT_ID_DOMAIN, gtin, lotHash));
        LotRecord storage lot = _lots[lotId];
        if (lot.manufacturer != address(0)) {
            revert SupplyChainRegistryLotExists(lotId);
        }
        lot.manufacturer = manufacturer;
        lot.expiry = expiry;
        lot.packCount = packCount;
        lot.serialsRoot = serialsRoot;
        lot.gtin = gtin;
        lot.commissionedAt = uint40(block.timestamp);
        _lotIds.push(lotId);
        unchecked {
            ++product.lotCount;
        }
        emit LotCommissioned(lotId, gtin, manufacturer, serialsRoot, packCount, expiry);
    }

    /// @inheritdoc ISupplyChainRegistry
    function transferPacks(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        address to,
        bytes32 transactionRef
    ) public virtual {
        address from = _msgSender();
        _checkActive(from);
        _checkBatch(packIds, proofs);
        _checkReference(transactionRef);
        _checkRecipient(from, to);

        LotContext memory context = _checkLotInCommerce(lotId, _requireLot(lotId), to);
        for (uint256 i = 0; i < packIds.length; ) {
            bytes32 packId = packIds[i];
            bytes32 key = _packKey(lotId, packId);
            PackRecord memory pack = _loadPack(context, key, packId, proofs[i]);
            _checkTradable(packId, pack, from);
            pack.owner = to;
            pack.lastTransferAt = uint40(block.timestamp);
            _writePack(key, pack);
            if (from != context.manufacturer) {
                _heldPack[key][from] = true;
            }
            emit PackTransferred(packId, lotId, to, from, transactionRef);
            unchecked {
                ++i;
            }
        }
        if (to != context.manufacturer && !_heldLot[lotId][to]) {
            _heldLot[lotId][to] = true;
        }
    }

    /// @inheritdoc ISupplyChainRegistry
    function dispense(bytes32 lotId, bytes32[] calldata packIds, bytes32[][] calldata proofs) public virtual {
        address dispenser = _msgSender();
        _checkRole(dispenser, OrganizationRoles.DISPENSER);
        _checkBatch(packIds, proofs);

        LotRecord storage lot = _requireLot(lotId);
        LotContext memory context = _checkLotInCommerce(lotId, lot, address(0));
        for (uint256 i = 0; i < packIds.length; ) {
            bytes32 packId = packIds[i];
            bytes32 key = _packKey(lotId, packId);
            PackRecord memory pack = _loadPack(context, key, packId, proofs[i]);
            _checkTradable(packId, pack, dispenser);
            pack.state = PackState.Dispensed;
            _writePack(key, pack);
            emit PackDispensed(packId, lotId, dispenser);
            unchecked {
                ++i;
            }
        }
    }

    /// @inheritdoc ISupplyChainRegistry
    function decommission(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 reasonHash
    ) public virtual {
        _retire(lotId, packIds, proofs, reasonHash, PackState.Decommissioned);
    }

    /// @inheritdoc ISupplyChainRegistry
    function destroy(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 reportHash
    ) public virtual {
        _retire(lotId, packIds, proofs, reportHash, PackState.Destroyed);
    }

    /// @inheritdoc ISupplyChainRegistry
    function markSuspect(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 reasonHash
    ) public virtual {
        address account = _msgSender();
        _checkActive(account);
        _checkBatch(packIds, proofs);
        _checkReference(reasonHash);

        LotRecord storage lot = _requireLot(lotId);
        if (lot.illegitimate) {
            revert SupplyChainRegistryLotIllegitimate(lotId);
        }
        LotContext memory context = _lotContext(lotId, lot);
        // Manufacturers and regulators may quarantine any pack of the lot; others only what they hold or held.
        bool authority = account == context.manufacturer || _isRegulator(account);
        for (uint256 i = 0; i < packIds.length; ) {
            bytes32 packId = packIds[i];
            bytes32 key = _packKey(lotId, packId);
            PackRecord memory pack = _loadPack(context, key, packId, proofs[i]);
            if (!authority && pack.owner != account && !_heldPack[key][account]) {
                revert SupplyChainRegistryNotHolder(packId, account);
            }
            if (pack.illegitimate) {
                revert SupplyChainRegistryPackIllegitimate(packId);
            }
            if (pack.suspect) {
                revert SupplyChainRegistryPackSuspect(packId);
            }
            pack.suspect = true;
            _writePack(key, pack);
            _packQuarantinedBy[key] = account;
            emit PackMarkedSuspect(packId, lotId, account, reasonHash);
            unchecked {
                ++i;
            }
        }
    }

    /// @inheritdoc ISupplyChainRegistry
    function recordInvestigation(
        bytes32 lotId,
        bytes32[] calldata packIds,
        InvestigationOutcome outcome,
        bytes32 reportHash
    ) public virtual {
        address account = _msgSender();
        _checkActive(account);
        _checkBatchSize(packIds.length);
        _checkReference(reportHash);
        _requireLot(lotId);

        bool regulator = _isRegulator(account);
        bool illegitimate = outcome == InvestigationOutcome.Illegitimate;
        for (uint256 i = 0; i < packIds.length; ) {
            bytes32 packId = packIds[i];
            bytes32 key = _packKey(lotId, packId);
            PackRecord memory pack = _readPack(key);
            if (!pack.suspect) {
                revert SupplyChainRegistryPackNotSuspect(packId);
            }
            if (!regulator && _packQuarantinedBy[key] != account) {
                revert SupplyChainRegistryNotInvestigator(packId, account);
            }
            pack.suspect = false;
            pack.illegitimate = illegitimate;
            _writePack(key, pack);
            delete _packQuarantinedBy[key];
            emit PackInvestigated(packId, lotId, account, outcome, reportHash);
            unchecked {
                ++i;
            }
        }
    }

    /// @inheritdoc ISupplyChainRegistry
    function markLotSuspect(bytes32 lotId, bytes32 reasonHash) public virtual {
        address account = _msgSender();
        _checkActive(account);
        _checkReference(reasonHash);
        LotRecord storage lot = _requireLot(lotId);
        if (account != lot.manufacturer && !_heldLot[lotId][account] && !_isRegulator(account)) {
            revert SupplyChainRegistryNotLotHolder(lotId, account);
        }
        if (lot.illegitimate) {
            revert SupplyChainRegistryLotIllegitimate(lotId);
        }
        if (lot.suspect) {
            revert SupplyChainRegistryLotSuspect(lotId);
        }
        lot.suspect = true;
        lot.quarantinedBy = account;
        emit LotMarkedSuspect(lotId, account, reasonHash);
    }

    /// @inheritdoc ISupplyChainRegistry
    function recordLotInvestigation(
        bytes32 lotId,
        InvestigationOutcome outcome,
        bytes32 reportHash
    ) public virtual {
        address account = _msgSender();
        _checkActive(account);
        _checkReference(reportHash);
        LotRecord storage lot = _requireLot(lotId);
        if (!lot.suspect) {
            revert SupplyChainRegistryLotNotSuspect(lotId);
        }
        if (lot.quarantinedBy != account && !_isRegulator(account)) {
            revert SupplyChainRegistryNotInvestigator(lotId, account);
        }
        lot.suspect = false;
        lot.illegitimate = outcome == InvestigationOutcome.Illegitimate;
        lot.quarantinedBy = address(0);
        emit LotInvestigated(lotId, account, outcome, reportHash);
    }

    /// @inheritdoc ISupplyChainRegistry
    function recallLot(bytes32 lotId, bytes32 reasonHash) public virtual {
        address account = _msgSender();
        _checkActive(account);
        _checkReference(reasonHash);
        LotRecord storage lot = _requireLot(lotId);
        if (account != lot.manufacturer && !_isRegulator(account)) {
            revert SupplyChainRegistryNotLotAuthority(lotId, account);
        }
        if (lot.recalled) {
            revert SupplyChainRegistryLotAlreadyRecalled(lotId);
        }
        lot.recalled = true;
        lot.recalledAt = uint40(block.timestamp);
        emit LotRecalled(lotId, account, reasonHash);
    }

    /// @inheritdoc ISupplyChainRegistry
    function packStatus(bytes32 lotId, bytes32 packId) public view virtual returns (PackStatus memory status) {
        LotRecord storage lot = _requireLot(lotId);
        PackRecord memory pack = _readPack(_packKey(lotId, packId));
        status.lotRecalled = lot.recalled;
        status.lotSuspect = lot.suspect;
        status.lotIllegitimate = lot.illegitimate;
        status.lotExpiry = lot.expiry;
        if (pack.owner == address(0)) {
            status.owner = lot.manufacturer;
            return status;
        }
        status.recorded = true;
        status.owner = pack.owner;
        status.state = pack.state;
        status.suspect = pack.suspect;
        status.illegitimate = pack.illegitimate;
        status.lastTransferAt = pack.lastTransferAt;
    }

    /// @inheritdoc ISupplyChainRegistry
    function lotOf(bytes32 lotId) public view virtual returns (Lot memory) {
        LotRecord storage lot = _requireLot(lotId);
        return
            Lot({
                gtin: lot.gtin,
                manufacturer: lot.manufacturer,
                serialsRoot: lot.serialsRoot,
                packCount: lot.packCount,
                expiry: lot.expiry,
                commissionedAt: lot.commissionedAt,
                recalled: lot.recalled,
                recalledAt: lot.recalledAt,
                suspect: lot.suspect,
                illegitimate: lot.illegitimate,
                quarantinedBy: lot.quarantinedBy
            });
    }

    /// @inheritdoc ISupplyChainRegistry
    function productOf(bytes14 gtin) public view virtual returns (Product memory) {
        Product storage product = _products[gtin];
        if (product.manufacturer == address(0)) {
            revert SupplyChainRegistryUnknownProduct(gtin);
        }
        return product;
    }

    /// @inheritdoc ISupplyChainRegistry
    function isInLot(bytes32 lotId, bytes32 packId, bytes32[] calldata proof) public view virtual returns (bool) {
        return MerkleProof.verifyCalldata(proof, _requireLot(lotId).serialsRoot, _leaf(packId));
    }

    /// @inheritdoc ISupplyChainRegistry
    function lotCount() public view virtual returns (uint256) {
        return _lotIds.length;
    }

    /// @inheritdoc ISupplyChainRegistry
    function lotIdAt(uint256 index) public view virtual returns (bytes32) {
        uint256 count = _lotIds.length;
        if (index >= count) {
            revert SupplyChainRegistryIndexOutOfBounds(index, count);
        }
        return _lotIds[index];
    }

    /// @inheritdoc ISupplyChainRegistry
    function packIdOf(bytes14 gtin, string calldata serial) public pure virtual returns (bytes32) {
        _checkGtin(gtin);
        if (!_isGs1Text(serial)) {
            revert SupplyChainRegistryInvalidSerial();
        }
        return keccak256(abi.encode(PACK_ID_DOMAIN, gtin, serial));
    }

    /// @inheritdoc ISupplyChainRegistry
    function lotIdOf(bytes14 gtin, string calldata lot) public pure virtual returns (bytes32) {
        _checkGtin(gtin);
        if (!_isGs1Text(lot)) {
            revert SupplyChainRegistryInvalidLotNumber();
        }
        return keccak256(abi.encode(LOT_ID_DOMAIN, gtin, keccak256(bytes(lot))));
    }

    /// @inheritdoc ISupplyChainRegistry
    function packLeaf(bytes32 packId) public pure virtual returns (bytes32) {
        return _leaf(packId);
    }

    /// @inheritdoc ISupplyChainRegistry
    function organizationRegistry() public view virtual returns (address) {
        return address(_organizationRegistry);
    }

    /**
     * @dev Takes the caller's packs out of commerce into `state` (`Decommissioned` or `Destroyed`).
     *
     * Emits a {PackDecommissioned} or {PackDestroyed} event per pack.
     */
    function _retire(
        bytes32 lotId,
        bytes32[] calldata packIds,
        bytes32[][] calldata proofs,
        bytes32 referenceHash,
        PackState state
    ) internal virtual {
        address owner = _msgSender();
        _checkActive(owner);
        _checkBatch(packIds, proofs);
        _checkReference(referenceHash);

        LotRecord storage lot = _requireLot(lotId);
        if (lot.suspect) {
            revert SupplyChainRegistryLotSuspect(lotId);
        }
        LotContext memory context = _lotContext(lotId, lot);
        for (uint256 i = 0; i < packIds.length; ) {
            bytes32 packId = packIds[i];
            bytes32 key = _packKey(lotId, packId);
            PackRecord memory pack = _loadPack(context, key, packId, proofs[i]);
            _checkInCommerce(packId, pack);
            _checkOwner(packId, pack, owner);
            if (pack.suspect) {
                revert SupplyChainRegistryPackSuspect(packId);
            }
            pack.state = state;
            _writePack(key, pack);
            if (state == PackState.Destroyed) {
                emit PackDestroyed(packId, lotId, owner, referenceHash);
            } else {
                emit PackDecommissioned(packId, lotId, owner, referenceHash);
            }
            unchecked {
                ++i;
            }
        }
    }

    /**
     * @dev Returns the pack `packId` (storage key `key`) of the lot in `context`: its stored record or, for a pack
     * the chain knows nothing about yet, a new record owned by the lot's manufacturer once `proof` shows it is
     * in the lot.
     */
    function _loadPack(
        LotContext memory context,
        bytes32 key,
        bytes32 packId,
        bytes32[] calldata proof
    ) internal view returns (PackRecord memory pack) {
        pack = _readPack(key);
        if (pack.owner != address(0)) {
            return pack;
        }
        if (!MerkleProof.verifyCalldata(proof, context.serialsRoot, _leaf(packId))) {
            revert SupplyChainRegistryNotInLot(context.lotId, packId);
        }
        pack.owner = context.manufacturer;
    }

    /**
     * @dev The storage key of the pack `packId` of the lot `lotId`: `keccak256(abi.encode(lotId, packId))`. A
     * pack is known by both, so one lot's tree can never speak for another lot's packs.
     */
    function _packKey(bytes32 lotId, bytes32 packId) internal pure returns (bytes32) {
        return Hashes.efficientKeccak256(lotId, packId);
    }

    /**
     * @dev Returns the pack record stored under `key`, all zero if the chain knows nothing about it. The word
     * holds the owner in bits 0-159, the state in 160-167, the suspect flag in bit 168, the illegitimate flag in
     * bit 169 and the time of the last transfer in 176-215.
     */
    function _readPack(bytes32 key) internal view returns (PackRecord memory pack) {
        uint256 word = _packs[key];
        pack.owner = address(uint160(word));
        pack.state = PackState(uint8(word >> 160));
        pack.suspect = (word >> 168) & 1 == 1;
        pack.illegitimate = (word >> 169) & 1 == 1;
        pack.lastTransferAt = uint40(word >> 176);
    }

    /**
     * @dev Stores `pack` under `key`, in one word (see {_readPack}).
     */
    function _writePack(bytes32 key, PackRecord memory pack) internal {
        _packs[key] =
            uint256(uint160(pack.owner)) |
            (uint256(uint8(pack.state)) << 160) |
            (pack.suspect ? 1 << 168 : 0) |
            (pack.illegitimate ? 1 << 169 : 0) |
            (uint256(pack.lastTransferAt) << 176);
    }

    /**
     * @dev Reverts unless the lot is fit for a transfer to `to` (or, with `to` zero, for dispensing): neither
     * illegitimate nor suspect, and neither recalled nor expired unless `to` is its manufacturer (a return).
     */
    function _checkLotInCommerce(
        bytes32 lotId,
        LotRecord storage lot,
        address to
    ) internal view returns (LotContext memory context) {
        context = _lotContext(lotId, lot);
        if (lot.illegitimate) {
            revert SupplyChainRegistryLotIllegitimate(lotId);
        }
        if (lot.suspect) {
            revert SupplyChainRegistryLotSuspect(lotId);
        }
        if (to == context.manufacturer) {
            return context;
        }
        if (lot.recalled) {
            revert SupplyChainRegistryLotRecalled(lotId);
        }
        uint64 expiry = lot.expiry;
        if (block.timestamp >= expiry) {
            revert SupplyChainRegistryLotExpired(lotId, expiry);
        }
    }

    /**
     * @dev Reverts unless `pack` may be transferred or dispensed by `account`: in commerce, owned by `account`,
     * neither illegitimate nor suspect. A dispensed pack is reported as such before anything else.
     */
    function _checkTradable(bytes32 packId, PackRecord memory pack, address account) internal pure {
        _checkInCommerce(packId, pack);
        _checkOwner(packId, pack, account);
        if (pack.illegitimate) {
            revert SupplyChainRegistryPackIllegitimate(packId);
        }
        if (pack.suspect) {
            revert SupplyChainRegistryPackSuspect(packId);
        }
    }

    /**
     * @dev Reverts unless `pack` is `Active`; a dispensed pack with {SupplyChainRegistryPackAlreadyDispensed}
     * (its owner is the dispenser).
     */
    function _checkInCommerce(bytes32 packId, PackRecord memory pack) internal pure {
        PackState state = pack.state;
        if (state == PackState.Dispensed) {
            revert SupplyChainRegistryPackAlreadyDispensed(packId, pack.owner);
        }
        if (state != PackState.Active) {
            revert SupplyChainRegistryPackOutOfCommerce(packId, state);
        }
    }

    /**
     * @dev Reverts with {SupplyChainRegistryNotOwner} unless `account` owns `pack`.
     */
    function _checkOwner(bytes32 packId, PackRecord memory pack, address account) internal pure {
        if (pack.owner != account) {
            revert SupplyChainRegistryNotOwner(packId, account, pack.owner);
        }
    }

    /**
     * @dev Reverts unless `to` may receive packs from `from`: not zero, not `from`, an active member with a
     * trading role (manufacturer, distributor or dispenser).
     */
    function _checkRecipient(address from, address to) internal view {
        if (to == address(0)) {
            revert SupplyChainRegistryZeroAddress();
        }
        if (to == from) {
            revert SupplyChainRegistrySelfTransfer(to);
        }
        if (!_organizationRegistry.isActive(to)) {
            revert SupplyChainRegistryInactiveRecipient(to);
        }
        if (
            !_organizationRegistry.hasOrganizationRole(to, OrganizationRoles.DISTRIBUTOR) &&
            !_organizationRegistry.hasOrganizationRole(to, OrganizationRoles.DISPENSER) &&
            !_organizationRegistry.hasOrganizationRole(to, OrganizationRoles.MANUFACTURER)
        ) {
            revert SupplyChainRegistryMissingRole(to, _TRADING_ROLES);
        }
    }

    /**
     * @dev Returns the storage record of the lot `lotId`, reverting with {SupplyChainRegistryUnknownLot} if it
     * was never commissioned.
     */
    function _requireLot(bytes32 lotId) internal view returns (LotRecord storage lot) {
        lot = _lots[lotId];
        if (lot.manufacturer == address(0)) {
            revert SupplyChainRegistryUnknownLot(lotId);
        }
    }

    /**
     * @dev What a batch call reads of its lot, once.
     */
    function _lotContext(bytes32 lotId, LotRecord storage lot) internal view returns (LotContext memory) {
        return
            LotContext({lotId: lotId, manufacturer: lot.manufacturer, serialsRoot: lot.serialsRoot});
    }

    /**
     * @dev Reverts with {SupplyChainRegistryUnauthorizedOrganization} unless `account` is an active member.
     */
    function _checkActive(address account) internal view {
        if (!_organizationRegistry.isActive(account)) {
            revert SupplyChainRegistryUnauthorizedOrganization(account);
        }
    }

    /**
     * @dev Reverts unless `account` is an active member holding `role`: with
     * {SupplyChainRegistryUnauthorizedOrganization} if it is not active, {SupplyChainRegistryMissingRole} if it
     * lacks the role.
     */
    function _checkRole(address account, uint32 role) internal view {
        _checkActive(account);
        if (!_organizationRegistry.hasOrganizationRole(account, role)) {
            revert SupplyChainRegistryMissingRole(account, role);
        }
    }

    /**
     * @dev Returns `true` if `account` is an active regulator.
     */
    function _isRegulator(address account) internal view returns (bool) {
        return _organizationRegistry.hasOrganizationRole(account, OrganizationRoles.REGULATOR);
    }

    /**
     * @dev Reverts unless the batch has 1 to {MAX_BATCH_SIZE} packs and one proof per pack.
     */
    function _checkBatch(bytes32[] calldata packIds, bytes32[][] calldata proofs) internal pure {
        _checkBatchSize(packIds.length);
        if (proofs.length != packIds.length) {
            revert SupplyChainRegistryLengthMismatch(packIds.length, proofs.length);
        }
    }

    /**
     * @dev Reverts unless `count` is 1 to {MAX_BATCH_SIZE}.
     */
    function _checkBatchSize(uint256 count) internal pure {
        if (count == 0) {
            revert SupplyChainRegistryEmptyBatch();
        }
        if (count > MAX_BATCH_SIZE) {
            revert SupplyChainRegistryBatchTooLarge(count, MAX_BATCH_SIZE);
        }
    }

    /**
     * @dev Reverts with {SupplyChainRegistryMissingReference} if `referenceHash` is zero.
     */
    function _checkReference(bytes32 referenceHash) internal pure {
        if (referenceHash == bytes32(0)) {
            revert SupplyChainRegistryMissingReference();
        }
    }

    /**
     * @dev Reverts with {SupplyChainRegistryInvalidGtin} unless `gtin` is 14 ASCII digits whose last one is the
     * GS1 check digit of the first 13 (weights 3 and 1 alternating from the left, the first digit weighing 3).
     */
    function _checkGtin(bytes14 gtin) internal pure {
        uint256 sum = 0;
        for (uint256 i = 0; i < 14; ++i) {
            uint8 c = uint8(gtin[i]);
            if (c < 0x30 || c > 0x39) {
                revert SupplyChainRegistryInvalidGtin(gtin);
            }
            if (i < 13) {
                sum += (c - 0x30) * (i % 2 == 0 ? 3 : 1);
            } else if ((10 - (sum % 10)) % 10 != c - 0x30) {
                revert SupplyChainRegistryInvalidGtin(gtin);
            }
        }
    }

    /**
     * @dev Returns `true` if `text` is 1 to 20 characters of GS1 character set 82 (a serial or lot number).
     */
    function _isGs1Text(string calldata text) internal pure returns (bool) {
        bytes calldata raw = bytes(text);
        uint256 length = raw.length;
        if (length == 0 || length > _GS1_MAX_LENGTH) {
            return false;
        }
        for (uint256 i = 0; i < length; ++i) {
            uint8 c = uint8(raw[i]);
            if (c >= 128 || (_GS1_CSET82 >> c) & 1 == 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * @dev The Merkle leaf of `packId`: `keccak256(bytes.concat(keccak256(abi.encode(packId))))`, computed in
     * scratch space.
     */
    function _leaf(bytes32 packId) internal pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            mstore(0x00, packId)
            mstore(0x00, keccak256(0x00, 0x20))
            leaf := keccak256(0x00, 0x20)
        }
    }
}
