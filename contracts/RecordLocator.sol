// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";
import {IRecordLocator} from "./interfaces/IRecordLocator.sol";

/**
 * @dev The record locator of the CareLedger consortium: for each patient (a pseudonymous chain address), the
 * member organisations that hold records for them. An active member announces itself once per patient and
 * releases its entry when it no longer holds anything (after erasure). Only addresses are stored.
 *
 * Each patient's holders are an array plus a `(patient, organisation) -> position + 1` index, so {announce},
 * {release} and {holds} cost the same whatever the number of holders: a release moves the last holder into
 * the freed position (swap and pop) instead of shifting the rest.
 *
 * Announcing is idempotent (a repeated announcement is a silent no-op) because the same organisation may well
 * send it twice: a gateway that lost a receipt retries, and two writes for one patient may race. Releasing
 * what is not held reverts, since it means the caller's view of its own entries is wrong.
 *
 * Gas (measured by the contract tests): a patient's first announcement costs about 96k gas, a later holder's
 * about 79k and a repeated announcement (the no-op) about 30k; a release about 40k when the last holder moves
 * into the freed position and 31k otherwise (after the refund for the cleared storage).
 */
contract RecordLocator is Context, IRecordLocator {
    IOrganizationRegistry private immutable _organizationRegistry;

    mapping(address patient => address[]) private _holders;
    /// @dev 1-based position of `organization` in `_holders[patient]`; 0 means "no entry".
    mapping(address patient => mapping(address organization => uint256)) private _positions;

    /**
     * @dev Binds the locator to the organisation registry `registry`, whose active members may announce.
     *
     * Requirements:
     *
     * - `registry` cannot be the zero address.
     */
    constructor(IOrganizationRegistry registry) {
        if (address(registry) == address(0)) {
            revert RecordLocatorZeroAddress();
        }
        _organizationRegistry = registry;
    }

    /// @inheritdoc IRecordLocator
    function announce(address patient) public virtual {
        address organization = _msgSender();
        _checkPatient(patient);
        if (!_organizationRegistry.isActive(organization)) {
            revert RecordLocatorUnauthorizedOrganization(organization);
        }
        if (_positions[patient][organization] != 0) {
            return; // already announced: nothing to record, nothing to emit
        }
        address[] storage holders = _holders[patient];
        holders.push(organization);
        _positions[patient][organization] = holders.length;
        emit RecordsAnnounced(patient, organization);
    }

    /// @inheritdoc IRecordLocator
    function release(address patient) public virtual {
        address organization = _msgSender();
        _checkPatient(patient);
        uint256 position = _positions[patient][organization];
        if (position == 0) {
            revert RecordLocatorNotHeld(patient, organization);
        }
        address[] storage holders = _holders[patient];
        uint256 last = holders.length;
        if (position != last) {
            address moved = holders[last - 1];
            holders[position - 1] = moved;
            _positions[patient][moved] = position;
        }
        holders.pop();
        delete _positions[patient][organization];
        emit RecordsReleased(patient, organization);
    }

    /// @inheritdoc IRecordLocator
    function holdersOf(address patient) public view virtual returns (address[] memory) {
        return _holders[patient];
    }

    /// @inheritdoc IRecordLocator
    function holds(address patient, address organization) public view virtual returns (bool) {
        return _positions[patient][organization] != 0;
    }

    /// @inheritdoc IRecordLocator
    function holderCount(address patient) public view virtual returns (uint256) {
        return _holders[patient].length;
    }

    /// @inheritdoc IRecordLocator
    function organizationRegistry() public view virtual returns (address) {
        return address(_organizationRegistry);
    }

    /**
     * @dev Reverts with {RecordLocatorZeroAddress} for the zero patient.
     */
    function _checkPatient(address patient) internal pure {
        if (patient == address(0)) {
            revert RecordLocatorZeroAddress();
        }
    }
}
