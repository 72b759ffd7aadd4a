// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ISeriesFactory} from "../interfaces/series/ISeriesFactory.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {BackingSeries} from "./BackingSeries.sol";

/// @title SeriesFactory
/// @notice Deploys backing series (a modeller's successive agreements for one model), keeps a registry per model
///         and counts each modeller's defaults.
/// @dev As AgreementFactory: the implementation is created here so its immutables are shared by every clone;
///      only the modeller the oracle registered for a model may start a series on it.
contract SeriesFactory is ISeriesFactory {
    /// @notice The staked token (NMR) and the score oracle every series of this factory uses.
    IERC20 public immutable token;
    IScoreOracle public immutable oracle;
    /// @notice The code every clone delegates to (never initialised itself).
    address public immutable implementation;

    /// @notice True for every series this factory deployed.
    mapping(address => bool) public isSeries;
    mapping(address => uint256) private _defaults;
    mapping(address => bool) private _defaultRecorded;
    mapping(bytes32 => address[]) private _byModel;

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    /// @param implementation_ A BackingSeries deployed with (token_, oracle_, this factory's address): the series
    ///        is too large for this factory to create it itself (code-size limit).
    constructor(IERC20 token_, IScoreOracle oracle_, address implementation_) {
        token = token_;
        oracle = oracle_;
        if (BackingSeries(implementation_).factory() != address(this)) revert NotASeries(implementation_);
        implementation = implementation_;
    }

    /// @inheritdoc ISeriesFactory
    function createSeries(bytes32 modelId) external returns (address series) {
        _checkModelOwner(modelId);
        series = Clones.clone(implementation);
        _register(series, modelId, true);
    }

    /// @notice Register a series deployed as a full contract instead of a clone (same code and rules, more
    ///         gas), so tests run every scenario against both deployments. Its code must be the implementation's
    ///         (so its token, oracle and factory are this factory's), it must not be initialised yet, and it must
    ///         not be the implementation itself (every clone runs its code: it must never hold a series' state).
    /// @param series A BackingSeries deployed with this factory's token, oracle and address.
    /// @param modelId The model; the caller must own it at the oracle.
    function adoptSeries(address series, bytes32 modelId) external {
        _checkModelOwner(modelId);
        if (series == implementation || series.codehash != implementation.codehash) revert NotASeries(series);
        _register(series, modelId, false);
    }

    /// @inheritdoc ISeriesFactory
    function recordDefault(address modeller) external {
        if (!isSeries[msg.sender]) revert NotASeries(msg.sender);
        if (_defaultRecorded[msg.sender]) revert DefaultAlreadyRecorded(msg.sender);
        _defaultRecorded[msg.sender] = true;
        uint256 count = ++_defaults[modeller];
        emit DefaultRecorded(msg.sender, modeller, count);
    }

    /// @inheritdoc ISeriesFactory
    function defaultsOf(address modeller) external view returns (uint256) {
        return _defaults[modeller];
    }

    /// @notice The series started on a model, oldest first.
    function seriesForModel(bytes32 modelId) external view returns (address[] memory) {
        return _byModel[modelId];
    }

    function _checkModelOwner(bytes32 modelId) private view {
        // slither-disable-next-line unused-return -- a view returning a tuple; only the owner is needed here
        (address registered,,,) = oracle.modelInfo(modelId);
        if (registered != msg.sender) revert NotModelOwner(modelId, msg.sender, registered);
    }

    function _register(address series, bytes32 modelId, bool clone) private {
        isSeries[series] = true;
        _byModel[modelId].push(series);
        emit SeriesCreated(series, msg.sender, modelId, clone);
        BackingSeries(series).initialize(msg.sender, modelId);
    }
}
