// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IGridRegistry} from "../interfaces/grid/IGridRegistry.sol";

/// @title Grid registry: the hash of each grid configuration is claimed once, by its staker or his operator.
/// @notice See `IGridRegistry`. One claim writes one fresh storage slot (the packed `Claim`) and one event; the
///         list of a staker's configurations is read from the `ConfigClaimed` events (indexed by staker), so a
///         claim stays within 60,000 gas (bench/grid.md).
contract GridRegistry is IGridRegistry {
    mapping(bytes32 configHash => Claim) private _claims;
    mapping(address staker => mapping(address operator => bool)) private _operators;

    /// @inheritdoc IGridRegistry
    function claim(bytes32 configHash, address staker, uint64 nonce, uint32 attempt) external {
        if (configHash == bytes32(0)) revert ZeroConfigHash();
        if (msg.sender != staker && !_operators[staker][msg.sender]) revert NotStakerOrOperator(msg.sender, staker);
        address holder = _claims[configHash].staker;
        if (holder != address(0)) revert ConfigAlreadyClaimed(configHash, holder);
        _claims[configHash] = Claim(staker, nonce, attempt);
        emit ConfigClaimed(configHash, staker, msg.sender, nonce, attempt);
    }

    /// @inheritdoc IGridRegistry
    function setOperator(address operator, bool approved) external {
        if (operator == address(0)) revert OperatorZero();
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc IGridRegistry
    function claimOf(bytes32 configHash) external view returns (Claim memory) {
        return _claims[configHash];
    }

    /// @inheritdoc IGridRegistry
    function isOperator(address staker, address operator) external view returns (bool) {
        return _operators[staker][operator];
    }
}
