// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingFactory} from "../factory/IBackingFactory.sol";
import {IBackingAgreement} from "./IBackingAgreement.sol";

/// @title Agreement factory: deploys backing agreements and keeps the registry backers consult.
/// @notice Registries per modeller, per model and overall (pages, oldest first); each modeller's defaults are
///         counted in the deployment's `IModellerRecord`, together with his series' (`defaultsOf`).
interface IAgreementFactory is IBackingFactory {
    /**
     * @dev Only an agreement this factory deployed may record a default here.
     * @param caller The caller.
     */
    error NotAnAgreement(address caller);

    /**
     * @dev An agreement was deployed and initialised.
     * @param agreement The agreement.
     * @param modeller Its modeller (the caller).
     * @param modelId The model it backs.
     * @param clone True for an EIP-1167 clone, false for a full deployment (`createAgreementDirect`).
     */
    event AgreementCreated(address indexed agreement, address indexed modeller, bytes32 indexed modelId, bool clone);

    /// @notice Deploy an agreement as an EIP-1167 clone of the shared implementation.
    /// @dev Requirements: the caller is the modeller the oracle registered for `terms.modelId` (`NotModelOwner`);
    ///      the terms and ladder pass `IBackingAgreement.initialize`'s checks.
    /// @param terms The terms offered; the caller becomes the modeller.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits.
    /// @return agreement The new agreement.
    function createAgreement(IBackingAgreement.Terms calldata terms, IBackingAgreement.FeeTier[] calldata feeLadder)
        external
        returns (address agreement);

    /// @notice Deploy an agreement as a full contract instead of a clone (same code, same rules; costs more gas).
    ///         It exists so tests can run every scenario against both deployments.
    /// @dev Requirements: as `createAgreement`.
    /// @param terms The terms offered; the caller becomes the modeller.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits.
    /// @return agreement The new agreement.
    function createAgreementDirect(
        IBackingAgreement.Terms calldata terms,
        IBackingAgreement.FeeTier[] calldata feeLadder
    ) external returns (address agreement);

    /// @notice True for every agreement this factory deployed.
    /// @param agreement The address to check.
    /// @return Whether this factory deployed it.
    function isAgreement(address agreement) external view returns (bool);

    /// @notice Number of agreements a modeller has created.
    /// @param modeller The modeller.
    /// @return The count.
    function agreementCountOf(address modeller) external view returns (uint256);

    /// @notice Number of agreements offered on a model.
    /// @param modelId The model.
    /// @return The count.
    function agreementCountForModel(bytes32 modelId) external view returns (uint256);

    /// @notice Number of agreements this factory created.
    function agreementCount() external view returns (uint256);

    /// @notice A page of a modeller's agreements, oldest first.
    /// @param modeller The modeller.
    /// @param start Index of the first entry.
    /// @param count Maximum number of entries returned.
    /// @return The agreements (empty when `start` is past the end).
    function agreementsOf(address modeller, uint256 start, uint256 count) external view returns (address[] memory);

    /// @notice A page of the agreements offered on a model, oldest first.
    /// @param modelId The model.
    /// @param start Index of the first entry.
    /// @param count Maximum number of entries returned.
    /// @return The agreements (empty when `start` is past the end).
    function agreementsForModel(bytes32 modelId, uint256 start, uint256 count)
        external
        view
        returns (address[] memory);

    /// @notice A page of all agreements, oldest first.
    /// @param start Index of the first entry.
    /// @param count Maximum number of entries returned.
    /// @return The agreements (empty when `start` is past the end).
    function agreements(uint256 start, uint256 count) external view returns (address[] memory);
}
