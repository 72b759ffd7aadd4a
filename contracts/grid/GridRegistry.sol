// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IGridRegistry} from "../interfaces/grid/IGridRegistry.sol";

/// @title Grid registry: each configuration of the grid is claimed once, and only by the staker who drew it.
/// @notice See `IGridRegistry`. The registry derives the configuration from the staker's address, nonce and
///         attempt itself (the draw of docs/grid.md), so a claim copied from a pending transaction draws the
///         copier's own configuration, not the victim's. One claim writes one fresh storage slot (the packed
///         `Claim`) and one event; a staker's list is read from the `ConfigClaimed` events (indexed by staker),
///         so a claim stays within 60,000 gas (bench/grid.md).
contract GridRegistry is IGridRegistry {
    /// @inheritdoc IGridRegistry
    uint256 public constant GRID_SIZE = 3_960_000_000_000_000_000;

    /// @dev The draw's domain string, as `backing.grid.draw.DRAW_DOMAIN`.
    string private constant DRAW_DOMAIN = "backing-grid:seed-004/v1";

    mapping(uint256 configIndex => Claim) private _claims;
    mapping(address staker => mapping(address operator => bool)) private _operators;

    /// @inheritdoc IGridRegistry
    function claim(address staker, uint64 nonce, uint32 attempt) external returns (uint256 configIndex) {
        if (msg.sender != staker && !_operators[staker][msg.sender]) revert NotStakerOrOperator(msg.sender, staker);
        configIndex = configIndexOf(staker, nonce, attempt);
        address holder = _claims[configIndex].staker;
        if (holder != address(0)) revert ConfigAlreadyClaimed(configIndex, holder);
        _claims[configIndex] = Claim(staker, nonce, attempt);
        emit ConfigClaimed(configIndex, staker, msg.sender, nonce, attempt);
    }

    /// @inheritdoc IGridRegistry
    function setOperator(address operator, bool approved) external {
        if (operator == address(0)) revert OperatorZero();
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc IGridRegistry
    function configIndexOf(address staker, uint64 nonce, uint32 attempt) public pure returns (uint256) {
        // the seed's modulo the hyperparameter grid: the first eight mixed-radix digits of the Python draw's index
        // (its target digit needs the dataset's target list, so the target stays out of the key)
        bytes32 seed = keccak256(abi.encode(DRAW_DOMAIN, staker, uint256(nonce), uint256(attempt)));
        return uint256(seed) % GRID_SIZE;
    }

    /// @inheritdoc IGridRegistry
    function claimOf(uint256 configIndex) external view returns (Claim memory) {
        return _claims[configIndex];
    }

    /// @inheritdoc IGridRegistry
    function isOperator(address staker, address operator) external view returns (bool) {
        return _operators[staker][operator];
    }
}
