// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingAgreement} from "../interfaces/IBackingAgreement.sol";
import {IBackingSeries} from "../interfaces/IBackingSeries.sol";

/// @title SeriesTerms
/// @notice Checks and stores the terms of one agreement of a BackingSeries. An external library (linked, called
///         by DELEGATECALL on the series' own storage) so the series stays under the 24 KiB code-size limit; it
///         runs once per agreement, so the extra call costs nothing that matters.
/// @dev The checks are BackingAgreement's (same errors, same order), then the series' own: clawback and
///      commitment options (docs/series.md).
library SeriesTerms {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_CLAWBACK_AGREEMENTS = 4;
    uint256 internal constant MAX_COMMITMENT_AGREEMENTS = 8;
    uint256 internal constant MAX_COMMITMENT_OPTIONS = 4;
    uint256 internal constant MAX_FEE_TIERS = 8;
    uint256 internal constant MAX_UNITS = type(uint24).max;
    uint256 internal constant MAX_UNIT_SIZE = type(uint80).max;
    uint256 internal constant MAX_RESERVE_RATIO_BPS = 100_000;
    uint256 internal constant MAX_UPFRONT_FEE_BPS = 5_000;
    uint256 internal constant MAX_LOCKUP_ROUNDS = 5_200;
    uint256 internal constant MAX_OPEN_PERIOD = 365 days;
    uint256 internal constant MIN_WIND_DOWN = 1 hours;
    uint256 internal constant MAX_WIND_DOWN = 365 days;

    /// @dev The terms of one agreement, as stored (the calldata Terms checked and narrowed).
    struct Config {
        uint80 unitSize;
        uint24 minUnits;
        uint24 maxUnits;
        uint16 profitShareBps;
        uint16 burnShareBps;
        uint16 upfrontFeeBps;
        uint32 reserveRatioBps;
        uint32 lockupRounds;
        uint40 openUntil;
        uint40 windDown;
        address stakingAddress;
        uint16 clawbackBps;
        uint8 clawbackAgreements;
        uint8 ladderLength;
        uint8 commitmentCount;
        uint256 ladder; //      tiers: (uint24 minUnits | uint16 bps << 24) << 40 * i (six per word, two words)
        uint256 ladderHigh;
        uint256 commitments; // (uint8 agreements | uint16 bps << 8) << 24 * i
        bytes32 economics;
        bytes32 termsHash;
    }

    /// @notice Check `terms` and the series options and store them in `config`.
    /// @param config The agreement's (empty) configuration in the series' storage.
    /// @param terms The single-agreement terms.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits.
    /// @param clawbackBps Part of each fee held in escrow.
    /// @param clawbackAgreements Agreements the held part stays for.
    /// @param commitments Up to 4 options, ascending in 2..8 agreements.
    /// @return economics Hash of every term but openUntil and windDown (what a commitment binds to).
    /// @return termsHash Hash of all the terms (what a rolling backer consents to).
    function store(
        Config storage config,
        IBackingAgreement.Terms calldata terms,
        IBackingAgreement.FeeTier[] calldata feeLadder,
        uint256 clawbackBps,
        uint256 clawbackAgreements,
        IBackingSeries.Commitment[] calldata commitments
    ) external returns (bytes32 economics, bytes32 termsHash) {
        _validate(terms);
        _storeLadder(config, feeLadder, terms.maxUnits);
        if (clawbackBps > BPS) revert IBackingSeries.ClawbackTooHigh(clawbackBps);
        if (clawbackAgreements > MAX_CLAWBACK_AGREEMENTS) {
            revert IBackingSeries.ClawbackWindowTooLong(clawbackAgreements, MAX_CLAWBACK_AGREEMENTS);
        }
        if ((clawbackBps == 0) != (clawbackAgreements == 0)) {
            revert IBackingSeries.ClawbackHalfSet(clawbackBps, clawbackAgreements);
        }
        _storeCommitments(config, commitments);

        config.unitSize = uint80(terms.unitSize);
        config.minUnits = uint24(terms.minUnits);
        config.maxUnits = uint24(terms.maxUnits);
        config.profitShareBps = uint16(terms.profitShareBps);
        config.burnShareBps = uint16(terms.burnShareBps);
        config.upfrontFeeBps = uint16(terms.upfrontFeeBps);
        config.reserveRatioBps = uint32(terms.reserveRatioBps);
        config.lockupRounds = uint32(terms.lockupRounds);
        config.openUntil = uint40(terms.openUntil);
        config.windDown = uint40(terms.windDown);
        config.stakingAddress = terms.stakingAddress;
        config.clawbackBps = uint16(clawbackBps);
        config.clawbackAgreements = uint8(clawbackAgreements);
        IBackingAgreement.Terms memory economic = terms;
        economic.openUntil = 0;
        economic.windDown = 0;
        economics = keccak256(abi.encode(economic, feeLadder, clawbackBps, clawbackAgreements, commitments));
        termsHash = keccak256(abi.encode(terms, feeLadder, clawbackBps, clawbackAgreements, commitments));
        config.economics = economics;
        config.termsHash = termsHash;
    }

    function _storeLadder(Config storage config, IBackingAgreement.FeeTier[] calldata feeLadder, uint256 maxUnits)
        private
    {
        uint256 length = feeLadder.length;
        if (length > MAX_FEE_TIERS) revert IBackingAgreement.FeeLadderTooLong(length, MAX_FEE_TIERS);
        uint256 low = 0;
        uint256 high = 0;
        uint256 previous = 0;
        for (uint256 i = 0; i < length; ++i) {
            uint256 minUnits = feeLadder[i].minUnits;
            uint256 bps = feeLadder[i].profitShareBps;
            if (minUnits <= previous || minUnits > maxUnits) revert IBackingAgreement.FeeTierMinUnitsNotAscending(i);
            if (bps > BPS) revert IBackingAgreement.FeeTierShareTooHigh(i, bps);
            uint256 packed = (minUnits | (bps << 24)) << ((i % 6) * 40);
            if (i < 6) low |= packed;
            else high |= packed;
            previous = minUnits;
        }
        config.ladder = low;
        config.ladderHigh = high;
        config.ladderLength = uint8(length);
    }

    function _storeCommitments(Config storage config, IBackingSeries.Commitment[] calldata commitments) private {
        uint256 count = commitments.length;
        if (count > MAX_COMMITMENT_OPTIONS) revert IBackingSeries.TooManyCommitments(count, MAX_COMMITMENT_OPTIONS);
        uint256 packed = 0;
        uint256 previous = 1;
        for (uint256 i = 0; i < count; ++i) {
            uint256 n = commitments[i].agreements;
            uint256 bps = commitments[i].profitShareBps;
            if (n <= previous || n > MAX_COMMITMENT_AGREEMENTS) revert IBackingSeries.CommitmentNotAscending(i);
            if (bps > BPS) revert IBackingSeries.CommitmentShareTooHigh(i, bps);
            packed |= (n | (bps << 8)) << (24 * i);
            previous = n;
        }
        config.commitments = packed;
        config.commitmentCount = uint8(count);
    }

    function _validate(IBackingAgreement.Terms calldata t) private view {
        if (t.unitSize == 0 || t.unitSize > MAX_UNIT_SIZE) revert IBackingAgreement.UnitSizeOutOfRange(t.unitSize);
        if (t.minUnits == 0) revert IBackingAgreement.MinUnitsZero();
        if (t.maxUnits < t.minUnits) revert IBackingAgreement.MaxUnitsBelowMinUnits(t.minUnits, t.maxUnits);
        if (t.maxUnits > MAX_UNITS) revert IBackingAgreement.MaxUnitsTooLarge(t.maxUnits, MAX_UNITS);
        if (t.profitShareBps > BPS) revert IBackingAgreement.ProfitShareTooHigh(t.profitShareBps);
        if (t.burnShareBps > BPS) revert IBackingAgreement.BurnShareTooHigh(t.burnShareBps);
        if (t.reserveRatioBps > MAX_RESERVE_RATIO_BPS) {
            revert IBackingAgreement.ReserveRatioTooHigh(t.reserveRatioBps, MAX_RESERVE_RATIO_BPS);
        }
        if (t.upfrontFeeBps > MAX_UPFRONT_FEE_BPS) {
            revert IBackingAgreement.UpfrontFeeTooHigh(t.upfrontFeeBps, MAX_UPFRONT_FEE_BPS);
        }
        if (t.lockupRounds == 0 || t.lockupRounds > MAX_LOCKUP_ROUNDS) {
            revert IBackingAgreement.LockupRoundsOutOfRange(t.lockupRounds, MAX_LOCKUP_ROUNDS);
        }
        if (t.openUntil <= block.timestamp) revert IBackingAgreement.OpenUntilNotInFuture(t.openUntil);
        if (t.openUntil > block.timestamp + MAX_OPEN_PERIOD) {
            revert IBackingAgreement.OpenUntilTooFar(t.openUntil, block.timestamp + MAX_OPEN_PERIOD);
        }
        if (t.windDown < MIN_WIND_DOWN || t.windDown > MAX_WIND_DOWN) {
            revert IBackingAgreement.WindDownOutOfRange(t.windDown, MIN_WIND_DOWN, MAX_WIND_DOWN);
        }
        // address(this) is the series (the library runs by DELEGATECALL)
        if (t.stakingAddress == address(0) || t.stakingAddress == address(this)) {
            revert IBackingAgreement.StakingAddressZero();
        }
    }
}
