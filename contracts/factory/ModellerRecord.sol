// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IModellerRecord} from "../interfaces/factory/IModellerRecord.sol";

/// @title ModellerRecord
/// @notice Counts each modeller's defaults across the agreement factory and the series factory of one deployment,
///         so both factories' `defaultsOf` (and this record's) give the same, whole count.
/// @dev The writers are fixed at construction (their addresses are predicted from the deployer's nonce, as the
///      series implementation predicts its factory's): no owner, nothing to set later. Each factory checks in
///      its constructor that this record names it, so a default can always be recorded and `declareDefault`
///      never fails on the record.
contract ModellerRecord is IModellerRecord {
    /// @inheritdoc IModellerRecord
    address public immutable agreementFactory;
    /// @inheritdoc IModellerRecord
    address public immutable seriesFactory;
    /// @inheritdoc IModellerRecord
    mapping(address => bool) public defaultRecorded;
    mapping(address => uint256) private _defaults;

    /// @param agreementFactory_ The AgreementFactory's (future) address, or address(0) for none.
    /// @param seriesFactory_ The SeriesFactory's (future) address, or address(0) for none.
    constructor(address agreementFactory_, address seriesFactory_) {
        // slither-disable-next-line missing-zero-check -- address(0) is allowed: no factory of that kind
        agreementFactory = agreementFactory_;
        // slither-disable-next-line missing-zero-check -- as above
        seriesFactory = seriesFactory_;
    }

    /// @inheritdoc IModellerRecord
    function recordDefault(address vehicle, address modeller) external {
        // address(0) never calls: a record without one of the factories refuses everyone in its place
        if (msg.sender != agreementFactory && msg.sender != seriesFactory) revert UnknownFactory(msg.sender);
        if (defaultRecorded[vehicle]) revert DefaultAlreadyRecorded(vehicle);
        defaultRecorded[vehicle] = true;
        uint256 count = ++_defaults[modeller];
        emit DefaultRecorded(modeller, vehicle, msg.sender, count);
    }

    /// @inheritdoc IModellerRecord
    function defaultsOf(address modeller) external view returns (uint256) {
        return _defaults[modeller];
    }
}
