// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IScoreOracle} from "../oracle/IScoreOracle.sol";
import {IModellerRecord} from "./IModellerRecord.sol";

/// @title What both factories share: token, oracle, implementation, the model-owner check and the defaults record.
/// @notice `IAgreementFactory` and `ISeriesFactory` extend it. Both factories of a deployment write to one
///         `IModellerRecord`, so `defaultsOf` counts a modeller's defaults in agreements and series alike.
interface IBackingFactory {
    /**
     * @dev Only the modeller the oracle registered for the model may offer terms or start a series on it.
     * @param modelId The model.
     * @param caller The caller.
     * @param registeredModeller The modeller the oracle registered (address(0): the model is not registered).
     */
    error NotModelOwner(bytes32 modelId, address caller, address registeredModeller);
    /**
     * @dev The record given at construction does not name this factory as one of its writers, so this factory's
     * defaults could not be recorded.
     * @param record The record given.
     */
    error RecordNotForThisFactory(address record);

    /// @notice Called by an agreement or series of this factory when its modeller defaults: counts it in the
    ///         modeller's record.
    /// @dev Requirements: the caller is an agreement or series this factory deployed (`NotAnAgreement`,
    ///      `NotASeries`); its default is not recorded yet (the record's `DefaultAlreadyRecorded`).
    /// @param modeller The modeller who defaulted.
    function recordDefault(address modeller) external;

    /// @notice How many agreements and series of this modeller ended in default, across both factories of the
    ///         deployment (the record's count).
    /// @param modeller The modeller.
    /// @return The count.
    function defaultsOf(address modeller) external view returns (uint256);

    /// @notice The staked token (NMR).
    function token() external view returns (IERC20);

    /// @notice The score oracle every vehicle of this factory reads.
    function oracle() external view returns (IScoreOracle);

    /// @notice The record of each modeller's defaults, shared with the deployment's other factory.
    function record() external view returns (IModellerRecord);

    /// @notice The code every clone delegates to. It is never initialised itself (only this factory could).
    function implementation() external view returns (address);
}
