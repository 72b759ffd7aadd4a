// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Score oracle: resolved Numerai rounds on-chain, as a cumulative performance index per model.
/// @notice Fixed point: scores, multipliers, payout factors, clips, exposures and round returns use 1e18 = 1.0.
interface IScoreOracle {
    // ---------------------------------------------------------------- errors
    error NotReporter(address caller);
    error ZeroAddress();
    error BoundOutOfRange(string bound);
    error ModelAlreadyRegistered(bytes32 modelId);
    error ModelNotRegistered(bytes32 modelId);
    error ExposureOutOfBounds(uint256 exposure, uint256 maxExposure);
    error FirstRoundZero();
    error RoundNotIncreasing(uint256 round, uint256 currentRound);
    error CloseTimeNotIncreasing(uint256 closeTime, uint256 currentCloseTime);
    error NoRoundAnnounced();
    error RoundScheduleStale(uint256 currentRound, uint256 closeTime, uint256 staleAt);
    error RoundNotNext(bytes32 modelId, uint256 round, uint256 expectedRound);
    error RoundNotAnnounced(uint256 round, uint256 currentRound);
    error NoScores();
    error TooManyScores(uint256 count, uint256 maxCount);
    error LengthMismatch();
    error EmptyScoreName(uint256 index);
    error DuplicateScoreName(bytes32 name);
    error ScoreOutOfBounds(uint256 index, int256 score);
    error MultiplierOutOfBounds(uint256 index, uint256 multiplier, uint256 maxMultiplier);
    error PayoutFactorOutOfBounds(uint256 payoutFactor);
    error ClipOutOfBounds(uint256 clip, uint256 maxClip);
    error IndexOverflow(bytes32 modelId, uint256 round);
    error RoundNotPosted(bytes32 modelId, uint256 round);

    // ---------------------------------------------------------------- events
    event ReporterSet(address indexed reporter, bool allowed);
    event ModelRegistered(bytes32 indexed modelId, address indexed modeller, uint256 exposure, uint256 firstRound);
    event RoundAnnounced(uint256 indexed round, uint256 closeTime);
    /// @dev `scoreNames`, `scores` and `multipliers` are emitted so anyone can recompute `roundReturn`.
    event RoundPosted(
        bytes32 indexed modelId,
        uint256 indexed round,
        bytes32[] scoreNames,
        int256[] scores,
        uint256[] multipliers,
        uint256 payoutFactor,
        uint256 clip,
        int256 roundReturn,
        uint256 index
    );
    event RoundMissed(bytes32 indexed modelId, uint256 indexed round, uint256 index);

    // ---------------------------------------------------------------- views
    /// @notice Model registry entry.
    /// @return modeller The address that may offer agreements on the model.
    /// @return exposure Fraction of the stake at risk per resolved round (1e18 = 1.0).
    /// @return firstRound First round the oracle reports for the model.
    /// @return lastRound Last round posted (firstRound - 1 when none yet).
    function modelInfo(bytes32 modelId)
        external
        view
        returns (address modeller, uint256 exposure, uint256 firstRound, uint256 lastRound);

    /// @notice Cumulative index after `round` (1e18 at `firstRound - 1`): I_r = I_{r-1} * (1 + exposure * return_r).
    function indexAt(bytes32 modelId, uint256 round) external view returns (uint256);

    /// @notice The round an agreement locking now would start at: the round after the latest announced one.
    /// @dev Reverts with RoundScheduleStale when the announcements are too old to guarantee that round is
    ///      still open for submissions.
    function nextStartRound() external view returns (uint256);
}
