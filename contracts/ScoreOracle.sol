// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IScoreOracle} from "../interfaces/IScoreOracle.sol";

/// @title ScoreOracle
/// @notice Authorised reporters post Numerai round results per model; the contract turns each into a round
///         return and folds it into a cumulative index, so an agreement reads its whole lockup in O(1).
/// @dev Core version: reporters are single keys chosen by the owner. Protocol bounds (maximum clip, maximum
///      multiplier) are immutable: a compromised reporter can still post wrong scores, but never a return
///      outside what Numerai's payout rules allow.
contract ScoreOracle is IScoreOracle, Ownable2Step {
    /// @notice 1.0 in the contract's fixed point.
    uint256 public constant ONE = 1e18;
    /// @notice Scores are correlations: |score| <= 1.
    int256 public constant MAX_ABS_SCORE = 1e18;
    /// @notice At most this many named scores per round (Numerai pays on two today).
    uint256 public constant MAX_SCORES = 8;
    /// @notice Exposure is a fraction of the stake: at most 1.0, so one round never loses more than the stake.
    uint256 public constant MAX_EXPOSURE = 1e18;

    /// @notice Largest clip a report may carry (1e18 = 100% of the stake at risk).
    uint256 public immutable maxClip;
    /// @notice Largest multiplier a report may carry for any score.
    uint256 public immutable maxMultiplier;
    /// @notice Shortest time between the submission deadlines of two consecutive rounds. Lets an agreement
    ///         prove the round after the latest announced one has not closed yet (see `nextStartRound`).
    uint256 public immutable minRoundSpacing;

    struct Model {
        address modeller;
        uint64 exposure;
    }

    struct Progress {
        uint64 firstRound;
        uint64 lastRound;
    }

    /// @dev One slot per posted round. The index is capped at uint184 (about 2.4e37 times the start value:
    ///      decades of daily rounds); a round that would exceed it reverts with IndexOverflow.
    struct RoundRecord {
        uint184 index;
        int64 roundReturn;
        bool missed;
    }

    mapping(address => bool) public isReporter;
    mapping(bytes32 => Model) private _models;
    mapping(bytes32 => Progress) private _progress;
    mapping(bytes32 => mapping(uint256 => RoundRecord)) private _rounds;

    /// @notice Latest round whose opening a reporter announced, and its submission deadline.
    uint64 public currentRound;
    uint64 public currentRoundCloseTime;

    modifier onlyReporter() {
        if (!isReporter[msg.sender]) revert NotReporter(msg.sender);
        _;
    }

    /// @param owner_ Administers the reporter set.
    /// @param maxClip_ Upper bound for any report's clip (<= 1e18).
    /// @param maxMultiplier_ Upper bound for any score multiplier (<= 1000e18).
    /// @param minRoundSpacing_ Minimum seconds between consecutive rounds' submission deadlines (> 0).
    constructor(address owner_, uint256 maxClip_, uint256 maxMultiplier_, uint256 minRoundSpacing_) Ownable(owner_) {
        if (maxClip_ == 0 || maxClip_ > ONE) revert BoundOutOfRange("maxClip");
        if (maxMultiplier_ == 0 || maxMultiplier_ > 1000 * ONE) revert BoundOutOfRange("maxMultiplier");
        if (minRoundSpacing_ == 0) revert BoundOutOfRange("minRoundSpacing");
        maxClip = maxClip_;
        maxMultiplier = maxMultiplier_;
        minRoundSpacing = minRoundSpacing_;
    }

    // ------------------------------------------------------------------------------------ admin

    /// @notice Allow or revoke a reporter.
    /// @param reporter The key that may announce rounds, register models and post results.
    /// @param allowed True to allow, false to revoke.
    function setReporter(address reporter, bool allowed) external onlyOwner {
        if (reporter == address(0)) revert ZeroAddress();
        isReporter[reporter] = allowed;
        emit ReporterSet(reporter, allowed);
    }

    // ------------------------------------------------------------------------------------ reporting

    /// @notice Register a Numerai model: who may offer agreements on it and how much of its stake each
    ///         resolved round puts at risk.
    /// @param modelId Numerai model id (the UUID's 16 bytes, left-aligned, or any 32-byte id).
    /// @param modeller The model owner's address.
    /// @param exposure Fraction of the stake at risk per resolved round, 1e18 = 1.0 (at most 1.0).
    /// @param firstRound First round the oracle will post for this model (rounds are then strictly sequential).
    function registerModel(bytes32 modelId, address modeller, uint256 exposure, uint256 firstRound)
        external
        onlyReporter
    {
        if (modeller == address(0)) revert ZeroAddress();
        if (_models[modelId].modeller != address(0)) revert ModelAlreadyRegistered(modelId);
        if (exposure == 0 || exposure > MAX_EXPOSURE) revert ExposureOutOfBounds(exposure, MAX_EXPOSURE);
        if (firstRound == 0 || firstRound > type(uint64).max) revert FirstRoundZero();
        _models[modelId] = Model(modeller, uint64(exposure));
        _progress[modelId] = Progress(uint64(firstRound), uint64(firstRound - 1));
        _rounds[modelId][firstRound - 1] = RoundRecord(uint184(ONE), 0, false);
        emit ModelRegistered(modelId, modeller, exposure, firstRound);
    }

    /// @notice Announce that a round has opened, with its submission deadline (Numerai's closeStakingTime).
    /// @param round The round number; greater than every round announced before.
    /// @param closeTime Unix time at which the round stops taking submissions; later than the previous one.
    function announceRound(uint256 round, uint256 closeTime) external onlyReporter {
        if (round <= currentRound || round > type(uint64).max) revert RoundNotIncreasing(round, currentRound);
        if (closeTime <= currentRoundCloseTime || closeTime > type(uint64).max) {
            revert CloseTimeNotIncreasing(closeTime, currentRoundCloseTime);
        }
        currentRound = uint64(round);
        currentRoundCloseTime = uint64(closeTime);
        emit RoundAnnounced(round, closeTime);
    }

    /// @notice Post a resolved round for a model.
    /// @dev roundReturn = clamp(payoutFactor * sum(multiplier_i * score_i), -clip, +clip), all 1e18 fixed
    ///      point, one truncating division (toward zero) at the end.
    /// @param modelId The model.
    /// @param round Must be the model's next round and already announced.
    /// @param scoreNames Score names (e.g. "CORR20", "MMC"), distinct and non-empty.
    /// @param scores Resolved scores, |score| <= 1e18.
    /// @param multipliers Payout multipliers, each <= maxMultiplier.
    /// @param payoutFactor The round's payout factor, <= 1e18.
    /// @param clip The round's clip, 0 < clip <= maxClip.
    function postRound(
        bytes32 modelId,
        uint256 round,
        bytes32[] calldata scoreNames,
        int256[] calldata scores,
        uint256[] calldata multipliers,
        uint256 payoutFactor,
        uint256 clip
    ) external onlyReporter {
        int256 roundReturn = computeRoundReturn(scoreNames, scores, multipliers, payoutFactor, clip);
        uint256 index = _advance(modelId, round, roundReturn, false);
        emit RoundPosted(modelId, round, scoreNames, scores, multipliers, payoutFactor, clip, roundReturn, index);
    }

    /// @notice Post a round the model did not take part in (no valid submission or no stake): zero return,
    ///         flagged missed, so gaps in a track record stay visible on-chain.
    /// @param modelId The model.
    /// @param round Must be the model's next round and already announced.
    function postMissedRound(bytes32 modelId, uint256 round) external onlyReporter {
        uint256 index = _advance(modelId, round, 0, true);
        emit RoundMissed(modelId, round, index);
    }

    // ------------------------------------------------------------------------------------ views

    /// @notice Compute a round return from a report's fields, enforcing every protocol bound.
    /// @return roundReturn The clamped return, 1e18 = +100%.
    function computeRoundReturn(
        bytes32[] calldata scoreNames,
        int256[] calldata scores,
        uint256[] calldata multipliers,
        uint256 payoutFactor,
        uint256 clip
    ) public view returns (int256 roundReturn) {
        uint256 count = scores.length;
        if (count == 0) revert NoScores();
        if (count > MAX_SCORES) revert TooManyScores(count, MAX_SCORES);
        if (scoreNames.length != count || multipliers.length != count) revert LengthMismatch();
        if (payoutFactor > ONE) revert PayoutFactorOutOfBounds(payoutFactor);
        if (clip == 0 || clip > maxClip) revert ClipOutOfBounds(clip, maxClip);
        // slither-disable-next-line uninitialized-local -- a sum, meant to start at the default zero
        int256 weighted; // 1e36 scale
        for (uint256 i = 0; i < count; ++i) {
            if (scoreNames[i] == bytes32(0)) revert EmptyScoreName(i);
            for (uint256 j = 0; j < i; ++j) {
                if (scoreNames[j] == scoreNames[i]) revert DuplicateScoreName(scoreNames[i]);
            }
            int256 score = scores[i];
            if (score > MAX_ABS_SCORE || score < -MAX_ABS_SCORE) revert ScoreOutOfBounds(i, score);
            if (multipliers[i] > maxMultiplier) revert MultiplierOutOfBounds(i, multipliers[i], maxMultiplier);
            // bounded: |score| <= 1e18, multiplier <= 1e21, at most 8 terms
            weighted += int256(multipliers[i]) * score;
        }
        // bounded: payoutFactor <= 1e18, |weighted| <= 8e39
        int256 raw = (int256(payoutFactor) * weighted) / 1e36;
        int256 bound = int256(clip);
        roundReturn = raw > bound ? bound : (raw < -bound ? -bound : raw);
    }

    /// @inheritdoc IScoreOracle
    function modelInfo(bytes32 modelId)
        external
        view
        returns (address modeller, uint256 exposure, uint256 firstRound, uint256 lastRound)
    {
        Model memory m = _models[modelId];
        Progress memory p = _progress[modelId];
        return (m.modeller, m.exposure, p.firstRound, p.lastRound);
    }

    /// @inheritdoc IScoreOracle
    function indexAt(bytes32 modelId, uint256 round) external view returns (uint256) {
        _requirePosted(modelId, round);
        return _rounds[modelId][round].index;
    }

    /// @notice Everything stored for one posted round.
    /// @return index The cumulative index after the round.
    /// @return roundReturn The round's return (0 when missed).
    /// @return missed True when the model did not take part in the round.
    function roundRecord(bytes32 modelId, uint256 round)
        external
        view
        returns (uint256 index, int256 roundReturn, bool missed)
    {
        _requirePosted(modelId, round);
        RoundRecord memory r = _rounds[modelId][round];
        return (r.index, r.roundReturn, r.missed);
    }

    /// @inheritdoc IScoreOracle
    function nextStartRound() external view returns (uint256) {
        uint256 round = currentRound;
        if (round == 0) revert NoRoundAnnounced();
        // Round `round + 1` closes at least minRoundSpacing after round `round` does. Before that moment it
        // cannot have closed, whether or not a reporter has announced it yet; after it, it might have.
        uint256 staleAt = uint256(currentRoundCloseTime) + minRoundSpacing;
        if (block.timestamp >= staleAt) revert RoundScheduleStale(round, currentRoundCloseTime, staleAt);
        return round + 1;
    }

    // ------------------------------------------------------------------------------------ internals

    function _advance(bytes32 modelId, uint256 round, int256 roundReturn, bool missed)
        private
        returns (uint256 index)
    {
        Model memory m = _models[modelId];
        if (m.modeller == address(0)) revert ModelNotRegistered(modelId);
        Progress storage p = _progress[modelId];
        uint256 expected = uint256(p.lastRound) + 1;
        if (round != expected) revert RoundNotNext(modelId, round, expected);
        if (round > currentRound) revert RoundNotAnnounced(round, currentRound);

        uint256 previous = _rounds[modelId][round - 1].index;
        // growth = 1 + exposure * roundReturn >= 0, because exposure <= 1 and |roundReturn| <= clip <= 1.
        int256 growth = int256(ONE) + (int256(uint256(m.exposure)) * roundReturn) / int256(ONE);
        index = (previous * uint256(growth)) / ONE;
        if (index > type(uint184).max) revert IndexOverflow(modelId, round);

        p.lastRound = uint64(round);
        // roundReturn fits int64: |roundReturn| <= maxClip <= 1e18 < 2^63
        _rounds[modelId][round] = RoundRecord(uint184(index), int64(roundReturn), missed);
    }

    function _requirePosted(bytes32 modelId, uint256 round) private view {
        if (_models[modelId].modeller == address(0)) revert ModelNotRegistered(modelId);
        Progress memory p = _progress[modelId];
        // firstRound >= 1 for a registered model; written so that no round number can overflow
        if (round < p.firstRound - 1 || round > p.lastRound) revert RoundNotPosted(modelId, round);
    }
}
