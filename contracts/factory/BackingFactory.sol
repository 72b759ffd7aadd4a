// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IBackingFactory} from "../interfaces/factory/IBackingFactory.sol";
import {IModellerRecord} from "../interfaces/factory/IModellerRecord.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";

/// @title BackingFactory
/// @notice What AgreementFactory and SeriesFactory share: the token and oracle their vehicles use, the check that
///         only a model's registered modeller offers on it, and the defaults record both write to.
/// @dev A vehicle (agreement or series) reports its default to its factory, which checks that it deployed the
///      caller (`_requireVehicle`) and passes the default on to the record with the caller's address, so the
///      record counts each vehicle once. The vehicles keep calling their factory, as before the shared record:
///      their code does not change.
abstract contract BackingFactory is IBackingFactory {
    /// @inheritdoc IBackingFactory
    IERC20 public immutable token;
    /// @inheritdoc IBackingFactory
    IScoreOracle public immutable oracle;
    /// @inheritdoc IBackingFactory
    IModellerRecord public immutable record;

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    /// @param record_ The deployment's record, deployed first with this factory's future address.
    constructor(IERC20 token_, IScoreOracle oracle_, IModellerRecord record_) {
        // the record's writers are fixed: checked here so that recording a default can never fail for this factory
        if (record_.agreementFactory() != address(this) && record_.seriesFactory() != address(this)) {
            revert RecordNotForThisFactory(address(record_));
        }
        token = token_;
        oracle = oracle_;
        record = record_;
    }

    /// @inheritdoc IBackingFactory
    function recordDefault(address modeller) external {
        _requireVehicle(msg.sender);
        record.recordDefault(msg.sender, modeller);
    }

    /// @inheritdoc IBackingFactory
    function defaultsOf(address modeller) external view returns (uint256) {
        return record.defaultsOf(modeller);
    }

    /// @dev Revert unless the caller may offer on `modelId`: the modeller the oracle registered for it.
    function _checkModelOwner(bytes32 modelId) internal view {
        // slither-disable-next-line unused-return -- a view returning a tuple; only the owner is needed here
        (address registered,,,) = oracle.modelInfo(modelId);
        if (registered != msg.sender) revert NotModelOwner(modelId, msg.sender, registered);
    }

    /// @dev Revert (with the factory's own error) unless `caller` is a vehicle this factory deployed.
    function _requireVehicle(address caller) internal view virtual;
}
