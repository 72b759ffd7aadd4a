// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Grid registry: each configuration of the randomized model grid is claimed once, by the staker who drew it.
/// @notice A generic staker draws a LightGBM configuration from the grid of seed 004 with his address and a nonce
///         (`backing grid draw`, docs/grid.md); this registry records who claimed each configuration, so no two
///         stakers stake on the same grid model. The claim names the draw (staker, nonce, attempt), not the
///         configuration: the registry computes the configuration's index from the draw itself, so nobody can
///         claim a configuration drawn from another staker's address (a claim copied from a pending
///         transaction draws the copier's own). A claim is sent by the staker or by an operator he approved.
///         The key is the configuration's eight hyperparameters (its index in a grid of `GRID_SIZE`); the
///         target, the draw's last digit, depends on the dataset's target list and is not part of it. There is
///         no owner and nothing to upgrade.
interface IGridRegistry {
    /// @notice Who claimed a configuration, and the draw it came from (packed in one storage slot).
    struct Claim {
        address staker; //  the staker the configuration belongs to
        uint64 nonce; //    the draw's nonce
        uint32 attempt; //  the gate's attempt that passed (0, 1, ...)
    }

    /// @notice The configuration was claimed before, by `staker`: a duplicate is refused (the same draw claimed
    ///         twice, or, about once in 10^18 pairs of draws, another draw that lands on the same hyperparameters).
    /// @param configIndex The configuration's index in the hyperparameter grid.
    /// @param staker Who holds it.
    error ConfigAlreadyClaimed(uint256 configIndex, address staker);

    /// @notice `caller` is neither `staker` nor an operator `staker` approved.
    /// @param caller The sender of the claim.
    /// @param staker The staker it was for.
    error NotStakerOrOperator(address caller, address staker);

    /// @notice The operator given is the zero address.
    error OperatorZero();

    /// @notice A configuration was claimed.
    /// @param configIndex The configuration's index in the hyperparameter grid (`backing.grid.draw.config_index`).
    /// @param staker The staker it belongs to.
    /// @param claimer Who sent the claim (the staker or his operator).
    /// @param nonce The draw's nonce.
    /// @param attempt The gate's attempt that passed.
    event ConfigClaimed(
        uint256 indexed configIndex, address indexed staker, address indexed claimer, uint64 nonce, uint32 attempt
    );

    /// @notice A staker approved or revoked an operator.
    /// @param staker The staker.
    /// @param operator The operator.
    /// @param approved Whether the operator may now claim for the staker.
    event OperatorSet(address indexed staker, address indexed operator, bool approved);

    /// @notice The number of hyperparameter configurations of the grid (every axis's size multiplied; the
    ///         targets excepted): `backing.grid.space.distinct_count(1)`.
    function GRID_SIZE() external view returns (uint256);

    /// @notice Claim, once, the configuration that `staker`'s draw (`nonce`, `attempt`) picks.
    /// @dev Requirements:
    ///      - the sender is `staker` or an operator `staker` approved (`NotStakerOrOperator`);
    ///      - nobody claimed the configuration before (`ConfigAlreadyClaimed`).
    /// @param staker The staker it is for.
    /// @param nonce The draw's nonce.
    /// @param attempt The gate's attempt that passed.
    /// @return configIndex The configuration's index in the hyperparameter grid (`configIndexOf`).
    function claim(address staker, uint64 nonce, uint32 attempt) external returns (uint256 configIndex);

    /// @notice The hyperparameter configuration a draw picks: keccak256(abi.encode("backing-grid:seed-004/v1",
    ///         staker, uint256 nonce, uint256 attempt)) modulo `GRID_SIZE` (docs/grid.md, "The draw").
    /// @param staker The staker.
    /// @param nonce The draw's nonce.
    /// @param attempt The gate's attempt.
    /// @return The configuration's index in the hyperparameter grid.
    function configIndexOf(address staker, uint64 nonce, uint32 attempt) external pure returns (uint256);

    /// @notice Approve (or revoke) an operator who may claim configurations for the sender.
    /// @param operator The operator.
    /// @param approved True to approve, false to revoke.
    function setOperator(address operator, bool approved) external;

    /// @notice Who claimed a configuration and from which draw (all zero when unclaimed).
    /// @param configIndex The configuration's index in the hyperparameter grid.
    /// @return The claim.
    function claimOf(uint256 configIndex) external view returns (Claim memory);

    /// @notice Whether `operator` may claim for `staker`.
    /// @param staker The staker.
    /// @param operator The operator.
    /// @return True when approved.
    function isOperator(address staker, address operator) external view returns (bool);
}
