// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingCommon} from "../interfaces/agreement/IBackingCommon.sol";

/// @title TermsRules
/// @notice The checks every agreement's terms pass, shared by BackingAgreement and the series (SeriesTerms):
///         the same limits, the same errors, in the same order. Internal functions, compiled into each user.
library TermsRules {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_FEE_TIERS = 8;
    uint256 internal constant MAX_UNITS = type(uint24).max;
    uint256 internal constant MAX_UNIT_SIZE = type(uint80).max;
    uint256 internal constant MAX_RESERVE_RATIO_BPS = 100_000;
    uint256 internal constant MAX_UPFRONT_FEE_BPS = 5_000;
    uint256 internal constant MAX_LOCKUP_ROUNDS = 5_200;
    uint256 internal constant MAX_OPEN_PERIOD = 365 days;
    uint256 internal constant MIN_WIND_DOWN = 1 hours;
    uint256 internal constant MAX_WIND_DOWN = 365 days;

    /// @notice Revert with the first violated limit of `t`.
    function validate(IBackingCommon.Terms calldata t) internal view {
        if (t.unitSize == 0 || t.unitSize > MAX_UNIT_SIZE) revert IBackingCommon.UnitSizeOutOfRange(t.unitSize);
        if (t.minUnits == 0) revert IBackingCommon.MinUnitsZero();
        if (t.maxUnits < t.minUnits) revert IBackingCommon.MaxUnitsBelowMinUnits(t.minUnits, t.maxUnits);
        if (t.maxUnits > MAX_UNITS) revert IBackingCommon.MaxUnitsTooLarge(t.maxUnits, MAX_UNITS);
        if (t.profitShareBps > BPS) revert IBackingCommon.ProfitShareTooHigh(t.profitShareBps);
        if (t.burnShareBps > BPS) revert IBackingCommon.BurnShareTooHigh(t.burnShareBps);
        if (t.reserveRatioBps > MAX_RESERVE_RATIO_BPS) {
            revert IBackingCommon.ReserveRatioTooHigh(t.reserveRatioBps, MAX_RESERVE_RATIO_BPS);
        }
        if (t.upfrontFeeBps > MAX_UPFRONT_FEE_BPS) {
            revert IBackingCommon.UpfrontFeeTooHigh(t.upfrontFeeBps, MAX_UPFRONT_FEE_BPS);
        }
        if (t.lockupRounds == 0 || t.lockupRounds > MAX_LOCKUP_ROUNDS) {
            revert IBackingCommon.LockupRoundsOutOfRange(t.lockupRounds, MAX_LOCKUP_ROUNDS);
        }
        if (t.openUntil <= block.timestamp) revert IBackingCommon.OpenUntilNotInFuture(t.openUntil);
        if (t.openUntil > block.timestamp + MAX_OPEN_PERIOD) {
            revert IBackingCommon.OpenUntilTooFar(t.openUntil, block.timestamp + MAX_OPEN_PERIOD);
        }
        if (t.windDown < MIN_WIND_DOWN || t.windDown > MAX_WIND_DOWN) {
            revert IBackingCommon.WindDownOutOfRange(t.windDown, MIN_WIND_DOWN, MAX_WIND_DOWN);
        }
        // address(this): the agreement, or the series when SeriesTerms runs this by DELEGATECALL
        if (t.stakingAddress == address(0) || t.stakingAddress == address(this)) {
            revert IBackingCommon.StakingAddressZero();
        }
    }

    /// @notice Check a fee ladder (at most 8 tiers, minUnits strictly ascending and within capacity, shares at most
    ///         100%) and pack it: tier i is (uint24 minUnits | uint16 bps << 24) << 40 * (i % 6) in word i / 6.
    function packLadder(IBackingCommon.FeeTier[] calldata feeLadder, uint256 maxUnits)
        internal
        pure
        returns (uint256[2] memory words)
    {
        uint256 length = feeLadder.length;
        if (length > MAX_FEE_TIERS) revert IBackingCommon.FeeLadderTooLong(length, MAX_FEE_TIERS);
        uint256 previous = 0;
        for (uint256 i = 0; i < length; ++i) {
            uint256 minUnits = feeLadder[i].minUnits;
            uint256 bps = feeLadder[i].profitShareBps;
            if (minUnits <= previous || minUnits > maxUnits) revert IBackingCommon.FeeTierMinUnitsNotAscending(i);
            if (bps > BPS) revert IBackingCommon.FeeTierShareTooHigh(i, bps);
            words[i / 6] |= (minUnits | (bps << 24)) << ((i % 6) * 40);
            previous = minUnits;
        }
    }
}
