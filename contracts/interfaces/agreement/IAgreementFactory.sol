// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingAgreement} from "./IBackingAgreement.sol";

/// @title Agreement factory: deploys backing agreements and keeps the registry backers consult.
interface IAgreementFactory {
    error NotModelOwner(bytes32 modelId, address caller, address registeredModeller);
    error NotAnAgreement(address caller);
    error DefaultAlreadyRecorded(address agreement);

    event AgreementCreated(
        address indexed agreement, address indexed modeller, bytes32 indexed modelId, bool clone
    );
    event DefaultRecorded(address indexed agreement, address indexed modeller, uint256 defaults);

    /// @notice Deploy an agreement as an EIP-1167 clone of the shared implementation.
    /// @param terms The terms offered; the caller becomes the modeller and must own `terms.modelId`.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits.
    /// @return agreement The new agreement.
    function createAgreement(IBackingAgreement.Terms calldata terms, IBackingAgreement.FeeTier[] calldata feeLadder)
        external
        returns (address agreement);

    /// @notice Called by an agreement of this factory when its modeller defaults.
    function recordDefault(address modeller) external;

    /// @notice How many agreements of this modeller ended in default.
    function defaultsOf(address modeller) external view returns (uint256);
}
