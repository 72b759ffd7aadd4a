// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingCommon} from "../interfaces/agreement/IBackingCommon.sol";
import {IBackingSeries} from "../interfaces/series/IBackingSeries.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {TermsRules} from "../libraries/TermsRules.sol";

/// @title SeriesTerms
/// @notice Checks and stores the terms of one agreement of a BackingSeries. An external library (linked, called
///         by DELEGATECALL on the series' own storage) so the series stays under the 24 KiB code-size limit; it
///         runs once per agreement, so the extra call costs nothing that matters.
/// @dev The checks are BackingAgreement's (TermsRules: same errors, same order), then the series' own: clawback
///      and commitment options (docs/series.md).
library SeriesTerms {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_CLAWBACK_AGREEMENTS = 4;
    uint256 internal constant MAX_COMMITMENT_AGREEMENTS = 8;
    uint256 internal constant MAX_COMMITMENT_OPTIONS = 4;
    /// @dev A series agreement takes deposits for at most this long after it opens: capital rolled in (which is not
    ///      withdrawn before the lock) waits at most this long, whatever the modeller sets (issue 12 M-3).
    uint256 internal constant MAX_OPEN_PERIOD = 30 days;

    /// @dev The terms of one agreement, as stored (the calldata Terms checked and narrowed).
    struct Config {
        uint80 unitSize;
        uint24 minUnits;
        uint24 maxUnits;
        uint16 profitShareBps;
        uint16 burnShareBps;
        uint16 upfrontFeeBps;
        uint32 reserveRatioBps;
        // in the first slot with the unit size and shares, which every deposit, roll and claim reads anyway
        uint8 ladderLength;
        uint8 commitmentCount;
        uint8 clawbackAgreements;
        bool requireAttestedModel; // issue 12 L-5: read by lock, with the rest of this slot
        uint40 openUntil;
        uint40 windDown;
        address stakingAddress;
        uint16 clawbackBps;
        uint256 ladder; //      tiers: (uint24 minUnits | uint16 bps << 24) << 40 * i (six per word, two words)
        uint256 ladderHigh;
        uint256 commitments; // (uint8 agreements | uint16 bps << 8) << 24 * i
        bytes32 economics;
        bytes32 termsHash;
    }

    /// @notice Check who may open an agreement of the series on these terms: the terms are for the series' model
    ///         (`ModelMismatch`), the oracle still names the series' modeller for it (`ModellerReplaced`: a model
    ///         whose modeller the oracle changed, a squatter or a lost key, gets no new agreement from the old one)
    ///         and, when the terms require it, attests the model (`ModelNotAttested`).
    /// @param oracle The series' score oracle.
    /// @param modelId The series' model.
    /// @param modeller The series' modeller.
    /// @param termsModelId The model the terms name.
    /// @param requireAttestedModel The terms' requirement.
    function checkOwner(
        IScoreOracle oracle,
        bytes32 modelId,
        address modeller,
        bytes32 termsModelId,
        bool requireAttestedModel
    ) external view {
        if (termsModelId != modelId) revert IBackingSeries.ModelMismatch(termsModelId, modelId);
        // slither-disable-next-line unused-return -- only the modeller is needed
        (address registered,,,) = oracle.modelInfo(modelId);
        if (registered != modeller) revert IBackingSeries.ModellerReplaced(modelId, registered);
        if (requireAttestedModel && !oracle.isAttested(modelId)) revert IBackingCommon.ModelNotAttested(modelId);
    }

    /// @notice Check `terms` and the series options, store them in `config` and emit the series' AgreementOpened.
    /// @param config The agreement's (empty) configuration in the series' storage.
    /// @param index The agreement's index in the series.
    /// @param terms The single-agreement terms.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits.
    /// @param clawbackBps Part of each fee held in escrow.
    /// @param clawbackAgreements Agreements the held part stays for.
    /// @param commitments Up to 4 options, ascending in 2..8 agreements.
    ///      The event carries `economics` (the hash of every term but openUntil and windDown, what a commitment
    ///      binds to) and `termsHash` (the hash of all the terms, what a rolling backer consents to).
    function store(
        Config storage config,
        uint256 index,
        IBackingCommon.Terms calldata terms,
        IBackingCommon.FeeTier[] calldata feeLadder,
        uint256 clawbackBps,
        uint256 clawbackAgreements,
        IBackingSeries.Commitment[] calldata commitments
    ) external {
        TermsRules.validate(terms);
        uint256 openLimit = block.timestamp + MAX_OPEN_PERIOD;
        if (terms.openUntil > openLimit) revert IBackingSeries.OpenTooLong(terms.openUntil, openLimit);
        uint256[2] memory ladder = TermsRules.packLadder(feeLadder, terms.maxUnits);
        config.ladder = ladder[0];
        config.ladderHigh = ladder[1];
        config.ladderLength = uint8(feeLadder.length);
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
        config.openUntil = uint40(terms.openUntil);
        config.windDown = uint40(terms.windDown);
        config.stakingAddress = terms.stakingAddress;
        config.requireAttestedModel = terms.requireAttestedModel;
        config.clawbackBps = uint16(clawbackBps);
        config.clawbackAgreements = uint8(clawbackAgreements);
        // a commitment binds to every term but the deposit window's end (the wind-down included: a longer one
        // delays the backers' payout, so it frees them, issue 12 M-3)
        IBackingCommon.Terms memory economic = terms;
        economic.openUntil = 0;
        bytes32 economics = keccak256(abi.encode(economic, feeLadder, clawbackBps, clawbackAgreements, commitments));
        bytes32 termsHash = keccak256(abi.encode(terms, feeLadder, clawbackBps, clawbackAgreements, commitments));
        config.economics = economics;
        config.termsHash = termsHash;
        emit IBackingSeries.AgreementOpened(
            index, terms, feeLadder, clawbackBps, clawbackAgreements, commitments, economics, termsHash
        );
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
}
