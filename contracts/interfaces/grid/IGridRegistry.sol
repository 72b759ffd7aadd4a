// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Grid registry: each configuration of the randomized model grid is claimed once, first come.
/// @notice A generic staker draws a LightGBM configuration from the grid of seed 004 with his address and a nonce
///         (`backing grid draw`, docs/grid.md); this registry records who claimed the hash of each configuration,
///         so no two stakers stake on the same grid model. A claim is sent by the staker or by an operator he
///         approved. The draw's nonce and attempt are recorded with the claim, so anyone can recompute that the
///         configuration was drawn from the staker's own address. There is no owner and nothing to upgrade.
interface IGridRegistry {
    /// @notice Who claimed a configuration, and the draw it came from (packed in one storage slot).
    struct Claim {
        address staker; //  the staker the configuration belongs to
        uint64 nonce; //    the draw's nonce
        uint32 attempt; //  the gate's attempt that passed (0, 1, ...)
    }

    /// @notice The configuration was claimed before, by `staker`: a duplicate is refused.
    /// @param configHash The configuration's hash.
    /// @param staker Who holds it.
    error ConfigAlreadyClaimed(bytes32 configHash, address staker);

    /// @notice `caller` is neither `staker` nor an operator `staker` approved.
    /// @param caller The sender of the claim.
    /// @param staker The staker it was for.
    error NotStakerOrOperator(address caller, address staker);

    /// @notice A zero configuration hash is no configuration (an empty field in the caller's code).
    error ZeroConfigHash();

    /// @notice The operator given is the zero address.
    error OperatorZero();

    /// @notice A configuration was claimed.
    /// @param configHash The configuration's hash (`backing.grid.draw.config_hash`).
    /// @param staker The staker it belongs to.
    /// @param claimer Who sent the claim (the staker or his operator).
    /// @param nonce The draw's nonce.
    /// @param attempt The gate's attempt that passed.
    event ConfigClaimed(
        bytes32 indexed configHash, address indexed staker, address indexed claimer, uint64 nonce, uint32 attempt
    );

    /// @notice A staker approved or revoked an operator.
    /// @param staker The staker.
    /// @param operator The operator.
    /// @param approved Whether the operator may now claim for the staker.
    event OperatorSet(address indexed staker, address indexed operator, bool approved);

    /// @notice Claim a configuration for `staker`, once: the first claim of a hash wins.
    /// @param configHash The configuration's hash.
    /// @param staker The staker it is for (the sender, or a staker who approved the sender).
    /// @param nonce The draw's nonce.
    /// @param attempt The gate's attempt that passed.
    function claim(bytes32 configHash, address staker, uint64 nonce, uint32 attempt) external;

    /// @notice Approve (or revoke) an operator who may claim configurations for the sender.
    /// @param operator The operator.
    /// @param approved True to approve, false to revoke.
    function setOperator(address operator, bool approved) external;

    /// @notice Who claimed a configuration and from which draw (all zero when unclaimed).
    /// @param configHash The configuration's hash.
    /// @return The claim.
    function claimOf(bytes32 configHash) external view returns (Claim memory);

    /// @notice Whether `operator` may claim for `staker`.
    /// @param staker The staker.
    /// @param operator The operator.
    /// @return True when approved.
    function isOperator(address staker, address operator) external view returns (bool);
}
