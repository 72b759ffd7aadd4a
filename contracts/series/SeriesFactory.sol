// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IModellerRecord} from "../interfaces/factory/IModellerRecord.sol";
import {ISeriesFactory} from "../interfaces/series/ISeriesFactory.sol";
import {IBackingFactory} from "../interfaces/factory/IBackingFactory.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {BackingFactory} from "../factory/BackingFactory.sol";
import {BackingSeries} from "./BackingSeries.sol";

/// @title SeriesFactory
/// @notice Deploys backing series (a modeller's successive agreements for one model) and keeps a registry per
///         model; each modeller's defaults go to the deployment's ModellerRecord (BackingFactory), so future
///         backers see them with his single agreements'.
/// @dev Unlike AgreementFactory, the implementation is deployed before this factory (the series is too large for
///      this factory to embed its creation code) with this factory's predicted address; only the modeller the
///      oracle registered for a model may start a series on it.
contract SeriesFactory is ISeriesFactory, BackingFactory {
    /// @inheritdoc IBackingFactory
    address public immutable implementation;

    /// @inheritdoc ISeriesFactory
    mapping(address => bool) public isSeries;
    mapping(bytes32 => address[]) private _byModel;

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    /// @param record_ The deployment's ModellerRecord, deployed first with this factory's future address.
    /// @param implementation_ A BackingSeries deployed with (token_, oracle_, this factory's address): the series
    ///        is too large for this factory to create it itself (code-size limit).
    constructor(IERC20 token_, IScoreOracle oracle_, IModellerRecord record_, address implementation_)
        BackingFactory(token_, oracle_, record_)
    {
        if (BackingSeries(implementation_).factory() != address(this)) revert NotASeries(implementation_);
        implementation = implementation_;
    }

    /// @inheritdoc ISeriesFactory
    function createSeries(bytes32 modelId) external returns (address series) {
        _checkModelOwner(modelId);
        series = Clones.clone(implementation);
        _register(series, modelId, true);
    }

    /// @inheritdoc ISeriesFactory
    function adoptSeries(address series, bytes32 modelId) external {
        _checkModelOwner(modelId);
        if (series == implementation || series.codehash != implementation.codehash) revert NotASeries(series);
        _register(series, modelId, false);
    }

    /// @inheritdoc ISeriesFactory
    function seriesForModel(bytes32 modelId) external view returns (address[] memory) {
        return _byModel[modelId];
    }

    function _requireVehicle(address caller) internal view override {
        if (!isSeries[caller]) revert NotASeries(caller);
    }

    function _register(address series, bytes32 modelId, bool clone) private {
        isSeries[series] = true;
        _byModel[modelId].push(series);
        emit SeriesCreated(series, msg.sender, modelId, clone);
        BackingSeries(series).initialize(msg.sender, modelId);
    }
}
