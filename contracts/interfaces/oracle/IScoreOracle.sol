// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Score oracle: resolved Numerai rounds on-chain, as a cumulative performance index per model.
/// @notice Every statement that moves an agreement (a model's registration, the round schedule, a round's
///         scores) counts only when `quorum` distinct registered signers signed it as EIP-712 typed data bound
///         to this chain and this contract. Round reports become final after a challenge window, during which a
///         signer or watcher may dispute them with an NMR bond; a disputed report is replaced only by a larger
///         quorum. If a round an agreement needs is not final within `maxReportDelay` of when it was due, the
///         agreement may mature counting the missing rounds as zero return.
///         Fixed point: scores, multipliers, payout factors, clips, exposures and round returns use 1e18 = 1.0.
interface IScoreOracle {
    /// @notice One model's resolved round, as signed by the oracle's signers.
    /// @dev EIP-712 type `RoundReport(bytes32 modelId,uint256 tournament,uint256 round,bool missed,
    ///      bytes32[] scoreNames,int256[] scores,uint256[] multipliers,uint256 payoutFactor,uint256 clip)`.
    ///      A missed round (no valid submission or no stake) has no scores and counts zero.
    struct RoundReport {
        bytes32 modelId;
        uint256 tournament;
        uint256 round;
        bool missed;
        bytes32[] scoreNames;
        int256[] scores;
        uint256[] multipliers;
        uint256 payoutFactor;
        uint256 clip;
    }

    /// @notice Deployment parameters, all immutable.
    struct OracleConfig {
        address bondToken; //       NMR: the token dispute bonds are paid in
        uint256 tournament; //      Numerai tournament id (8 = Classic); every report must carry it
        uint256 maxClip; //         largest clip a report may carry (<= 1e18)
        uint256 maxMultiplier; //   largest multiplier a report may carry (<= 1000e18)
        uint256 minRoundSpacing; // shortest time between consecutive rounds' submission deadlines
        uint256 challengeWindow; // seconds a posted report waits before it can become final
        uint256 resolutionDelay; // seconds from a round's submission deadline to its resolution at Numerai
        uint256 maxReportDelay; //  seconds after resolution within which a round must be final (liveness)
        uint256 disputeBond; //     NMR a disputer locks
        uint256 disputeTimeout; //  seconds after which an unresolved dispute's bond may be taken back
        uint256 signerSetDelay; //  timelock on changes of the signer set and quorums
    }

    // ---------------------------------------------------------------- errors
    error ZeroAddress();
    error BoundOutOfRange(string bound);
    error SignerSetInvalid(uint256 signerCount, uint256 quorum, uint256 disputeQuorum);
    error SignatureExpired(uint256 deadline);
    error QuorumNotMet(uint256 signatures, uint256 required);
    error InvalidSignature(uint256 index);
    error NotSigner(uint256 index, address recovered);
    error SignersNotAscending(uint256 index);
    error NotSignerOrWatcher(address caller);
    error NoSignerSetProposed();
    error SignerSetMismatch(bytes32 proposed, bytes32 given);
    error TimelockNotOver(uint256 executableAt);
    error RenounceDisabled();
    error ModelAlreadyRegistered(bytes32 modelId);
    error ModelNotRegistered(bytes32 modelId);
    error ModellerMismatch(bytes32 modelId, address registered, address given);
    error ExposureOutOfBounds(uint256 exposure, uint256 maxExposure);
    error FirstRoundZero();
    error WrongTournament(uint256 tournament, uint256 expected);
    error NoCloseTimes();
    error RoundNotNextAnnouncement(uint256 round, uint256 expected);
    error CloseTimeTooEarly(uint256 closeTime, uint256 earliest);
    error NoRoundAnnounced();
    error RoundScheduleStale(uint256 currentRound, uint256 closeTime, uint256 staleAt);
    error RoundNotNext(bytes32 modelId, uint256 round, uint256 expectedRound);
    error RoundNotAnnounced(uint256 round, uint256 currentRound);
    error NoReports();
    error NoScores();
    error MissedRoundWithScores();
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
    error RoundNotPending(bytes32 modelId, uint256 round);
    error ChallengeWindowOver(bytes32 modelId, uint256 round, uint256 finalAt);
    error NotDisputed(bytes32 modelId, uint256 round);
    error AlreadyDisputed(bytes32 modelId, uint256 round);
    error DisputeTimeoutNotOver(uint256 expiresAt);
    /**
     * @dev A signer-set proposal was executed after its lifetime (`PROPOSAL_LIFETIME` after its timelock).
     * @param expiredAt Last timestamp at which it could have been executed; propose it again.
     */
    error SignerSetProposalExpired(uint256 expiredAt);
    /**
     * @dev A round number above `MAX_ROUND` was announced or registered.
     * @param round The round given.
     * @param maxRound The largest round accepted.
     */
    error RoundOutOfRange(uint256 round, uint256 maxRound);
    /**
     * @dev An announced submission deadline lies more than `MAX_CLOSE_HORIZON` after now (seconds expected).
     * @param closeTime The deadline given.
     * @param latest The latest deadline accepted now.
     */
    error CloseTimeTooLate(uint256 closeTime, uint256 latest);
    /**
     * @dev An agreement would start before the model's first reported round.
     * @param startRound The round the agreement would start at.
     * @param firstRound The model's first reported round.
     */
    error ModelNotStarted(uint256 startRound, uint256 firstRound);
    /**
     * @dev The model's latest final index is below `MIN_START_INDEX`: the model lost nearly all of its value and
     * an agreement starting now could not be valued precisely.
     * @param modelId The model.
     * @param round Its last final round.
     * @param index The index after that round.
     * @param minimum The smallest index an agreement may start from.
     */
    error IndexTooLow(bytes32 modelId, uint256 round, uint256 index, uint256 minimum);

    // ---------------------------------------------------------------- events
    event SignerSetProposed(bytes32 indexed setHash, address[] signers, uint256 quorum, uint256 disputeQuorum,
        uint256 executableAt);
    event SignerSetCancelled(bytes32 indexed setHash);
    event SignerSetChanged(address[] signers, uint256 quorum, uint256 disputeQuorum);
    event WatcherSet(address indexed watcher, bool allowed);
    event ModelRegistered(bytes32 indexed modelId, address indexed modeller, uint256 exposure, uint256 firstRound);
    /// @dev `evidence` is the hash of what the attesting service found in the owner's public Numerai profile.
    event ModelAttested(bytes32 indexed modelId, address indexed modeller, bool attested, bytes32 evidence);
    event RoundAnnounced(uint256 indexed round, uint256 closeTime);
    /// @dev The whole report is emitted so anyone can recompute `roundReturn` and `reportHash` off-chain.
    event RoundPosted(
        bytes32 indexed modelId,
        uint256 indexed round,
        RoundReport report,
        bytes32 reportHash,
        int256 roundReturn,
        uint256 finalAt
    );
    event ReportDisputed(bytes32 indexed modelId, uint256 indexed round, address indexed disputer,
        bytes32 reportHash, uint256 bond);
    event DisputeResolved(bytes32 indexed modelId, uint256 indexed round, bytes32 disputedHash,
        bytes32 replacementHash, int256 roundReturn, bool bondReturned);
    /// @dev A dispute nobody resolved within `disputeTimeout` ended: `reportHash` stands, the bond was forfeited.
    event DisputeExpired(bytes32 indexed modelId, uint256 indexed round, address indexed disputer,
        bytes32 reportHash, uint256 bond);
    event RoundFinalized(bytes32 indexed modelId, uint256 indexed round, int256 roundReturn, bool missed,
        uint256 index);

    // ---------------------------------------------------------------- views used by agreements
    /// @notice Model registry entry.
    /// @return modeller The address that may offer agreements on the model.
    /// @return exposure Fraction of the stake at risk per resolved round (1e18 = 1.0).
    /// @return firstRound First round the oracle reports for the model.
    /// @return lastRound Last final round (firstRound - 1 when none yet).
    function modelInfo(bytes32 modelId)
        external
        view
        returns (address modeller, uint256 exposure, uint256 firstRound, uint256 lastRound);

    /// @notice True when the oracle's signers found the registered modeller's address in the model owner's
    ///         public Numerai profile. Agreements on unattested models may exist; tools show the flag.
    function isAttested(bytes32 modelId) external view returns (bool);

    /// @notice Cumulative index after a final `round` (1e18 at `firstRound - 1`):
    ///         I_r = I_{r-1} * (1 + exposure * return_r).
    function indexAt(bytes32 modelId, uint256 round) external view returns (uint256);

    /// @notice The round an agreement locking now would start at: the round after the latest announced one.
    /// @dev Reverts with RoundScheduleStale when the announcements are too old to guarantee that round is
    ///      still open for submissions.
    function nextStartRound() external view returns (uint256);

    /// @notice The round an agreement on `modelId` locking now would start at (`nextStartRound`), checked for
    ///         that model.
    /// @dev Requirements: the round schedule is fresh (`RoundScheduleStale`); the model is registered
    ///      (`ModelNotRegistered`) and started (`ModelNotStarted`); its latest final index is at least
    ///      `MIN_START_INDEX` (`IndexTooLow`).
    function startRoundFor(bytes32 modelId) external view returns (uint256 start);

    /// @notice Make final the model's pending rounds whose challenge window is over, in order, stopping at the
    ///         first still disputable or disputed. Anyone may call.
    /// @dev Requirements: the model is registered (`ModelNotRegistered`).
    /// @param maxRounds At most this many rounds (bounds the gas).
    /// @return lastFinal The model's last final round afterwards.
    function finalize(bytes32 modelId, uint256 maxRounds) external returns (uint256 lastFinal);

    /// @notice The indices an agreement over rounds `startRound..endRound` settles on.
    /// @return startIndex Index before `startRound`.
    /// @return endIndex Index after the last round counted: `endRound`, or the last final round when the
    ///         liveness fallback applies (later rounds count as zero return).
    /// @return lastFinal The model's last final round.
    /// @return complete True when every round is final, or (the neutral fallback) when the lockup's last round
    ///         is overdue (`maxReportDelay` after its resolution was due) and no report of the model is pending.
    function settlementIndices(bytes32 modelId, uint256 startRound, uint256 endRound)
        external
        view
        returns (uint256 startIndex, uint256 endIndex, uint256 lastFinal, bool complete);
}
