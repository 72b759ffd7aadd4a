// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";

/// @title RoundReports
/// @notice What a round report says, checked and hashed: its EIP-712 struct hash and the round return it implies
///         under Numerai's payout rule, or the first limit it breaks. Pure functions of the report and the oracle's
///         immutable bounds.
/// @dev An external library (linked, called by DELEGATECALL) so that ScoreOracle keeps room below the code-size
///      limit; a call costs a few thousand gas (the library's cold address, copying the report). Anyone may call
///      `check` or `hash` directly to test a report before its signers sign it.
library RoundReports {
    uint256 internal constant ONE = 1e18;
    /// @dev Scores are correlations: |score| <= 1.
    int256 internal constant MAX_ABS_SCORE = 1e18;
    /// @dev At most this many named scores per round (Numerai pays on two today).
    uint256 internal constant MAX_SCORES = 8;

    bytes32 internal constant ROUND_REPORT_TYPEHASH = keccak256(
        "RoundReport(bytes32 modelId,uint256 tournament,uint256 round,bool missed,bytes32[] scoreNames,"
        "int256[] scores,uint256[] multipliers,uint256 payoutFactor,uint256 clip)"
    );

    /// @notice The report's round return: payoutFactor x sum(multiplier x score), clipped to +/- clip; zero for a
    ///         missed round.
    /// @dev Requirements: the oracle's tournament; as many names and multipliers as scores; a missed round has no
    ///      scores, any other round 1 to MAX_SCORES distinct non-empty names; |score| <= 1, multiplier <=
    ///      `maxMultiplier`, payoutFactor <= 1, 0 < clip <= `maxClip`. The first broken limit reverts with the
    ///      IScoreOracle error that names it.
    /// @param tournament The oracle's tournament id.
    /// @param maxClip The oracle's largest clip.
    /// @param maxMultiplier The oracle's largest multiplier.
    /// @return roundReturn The round return, 1e18 = +100%.
    function checkedReturn(
        IScoreOracle.RoundReport calldata report,
        uint256 tournament,
        uint256 maxClip,
        uint256 maxMultiplier
    ) public pure returns (int256 roundReturn) {
        if (report.tournament != tournament) revert IScoreOracle.WrongTournament(report.tournament, tournament);
        uint256 count = report.scores.length;
        if (report.scoreNames.length != count || report.multipliers.length != count) {
            revert IScoreOracle.LengthMismatch();
        }
        if (report.missed) {
            if (count != 0) revert IScoreOracle.MissedRoundWithScores();
            return 0;
        }
        if (count == 0) revert IScoreOracle.NoScores();
        if (count > MAX_SCORES) revert IScoreOracle.TooManyScores(count, MAX_SCORES);
        if (report.payoutFactor > ONE) revert IScoreOracle.PayoutFactorOutOfBounds(report.payoutFactor);
        if (report.clip == 0 || report.clip > maxClip) revert IScoreOracle.ClipOutOfBounds(report.clip, maxClip);
        // slither-disable-next-line uninitialized-local -- a sum, meant to start at the default zero
        int256 weighted; // 1e36 scale
        for (uint256 i = 0; i < count; ++i) {
            bytes32 name = report.scoreNames[i];
            if (name == bytes32(0)) revert IScoreOracle.EmptyScoreName(i);
            for (uint256 j = 0; j < i; ++j) {
                if (report.scoreNames[j] == name) revert IScoreOracle.DuplicateScoreName(name);
            }
            int256 score = report.scores[i];
            if (score > MAX_ABS_SCORE || score < -MAX_ABS_SCORE) revert IScoreOracle.ScoreOutOfBounds(i, score);
            uint256 multiplier = report.multipliers[i];
            if (multiplier > maxMultiplier) {
                revert IScoreOracle.MultiplierOutOfBounds(i, multiplier, maxMultiplier);
            }
            // bounded: |score| <= 1e18, multiplier <= 1e21, at most 8 terms
            weighted += int256(multiplier) * score;
        }
        // bounded: payoutFactor <= 1e18, |weighted| <= 8e39
        int256 raw = (int256(report.payoutFactor) * weighted) / 1e36;
        int256 bound = int256(report.clip);
        roundReturn = raw > bound ? bound : (raw < -bound ? -bound : raw);
    }

    /// @notice The report's EIP-712 struct hash (what signers sign, inside a batch or a dispute resolution).
    function hash(IScoreOracle.RoundReport calldata report) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ROUND_REPORT_TYPEHASH,
                report.modelId,
                report.tournament,
                report.round,
                report.missed,
                keccak256(abi.encodePacked(report.scoreNames)),
                keccak256(abi.encodePacked(report.scores)),
                keccak256(abi.encodePacked(report.multipliers)),
                report.payoutFactor,
                report.clip
            )
        );
    }
}
