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
    /**
     * @dev An address that must be set is zero (bond token, modeller, watcher, new modeller).
     */
    error ZeroAddress();
    /**
     * @dev A deployment parameter is outside its allowed range.
     * @param bound Name of the parameter (e.g. "maxClip").
     */
    error BoundOutOfRange(string bound);
    /**
     * @dev A signer set breaks `1 <= quorum < disputeQuorum <= signerCount <= MAX_SIGNERS`.
     * @param signerCount Signers given.
     * @param quorum Quorum given.
     * @param disputeQuorum Dispute quorum given.
     */
    error SignerSetInvalid(uint256 signerCount, uint256 quorum, uint256 disputeQuorum);
    /**
     * @dev A signed statement arrived after its deadline; sign it again.
     * @param deadline The deadline the signers set.
     */
    error SignatureExpired(uint256 deadline);
    /**
     * @dev Too few signatures.
     * @param signatures Signatures given.
     * @param required Signatures needed (`quorum` or `disputeQuorum`).
     */
    error QuorumNotMet(uint256 signatures, uint256 required);
    /**
     * @dev A signature is malformed (not 65 bytes, or high s).
     * @param index Its position in the list.
     */
    error InvalidSignature(uint256 index);
    /**
     * @dev A signature recovers to an address that is not a current signer.
     * @param index Its position in the list.
     * @param recovered The address it recovers to.
     */
    error NotSigner(uint256 index, address recovered);
    /**
     * @dev Signatures (or signer addresses) are not in strictly ascending signer order.
     * @param index First position out of order.
     */
    error SignersNotAscending(uint256 index);
    /**
     * @dev Only a signer or a watcher may dispute.
     * @param caller The caller.
     */
    error NotSignerOrWatcher(address caller);
    /**
     * @dev No signer-set proposal is pending.
     */
    error NoSignerSetProposed();
    /**
     * @dev The set given to `executeSignerSet` is not the proposed one.
     * @param proposed Hash of the proposal.
     * @param given Hash of the set given.
     */
    error SignerSetMismatch(bytes32 proposed, bytes32 given);
    /**
     * @dev A timelocked change (signer set, re-registration) is executed too early.
     * @param executableAt When it becomes executable.
     */
    error TimelockNotOver(uint256 executableAt);
    /**
     * @dev Ownership cannot be renounced (transfer it instead).
     */
    error RenounceDisabled();
    /**
     * @dev The model is registered already (change its modeller with a re-registration).
     * @param modelId The model.
     */
    error ModelAlreadyRegistered(bytes32 modelId);
    /**
     * @dev The model is not registered.
     * @param modelId The model.
     */
    error ModelNotRegistered(bytes32 modelId);
    /**
     * @dev An attestation names another address than the registered modeller.
     * @param modelId The model.
     * @param registered Its registered modeller.
     * @param given The address attested.
     */
    error ModellerMismatch(bytes32 modelId, address registered, address given);
    /**
     * @dev A registration's exposure is zero or above `MAX_EXPOSURE`.
     * @param exposure The exposure given.
     * @param maxExposure The largest allowed.
     */
    error ExposureOutOfBounds(uint256 exposure, uint256 maxExposure);
    /**
     * @dev A model's first round must be at least 1.
     */
    error FirstRoundZero();
    /**
     * @dev A report or announcement for another tournament.
     * @param tournament The tournament given.
     * @param expected This oracle's tournament.
     */
    error WrongTournament(uint256 tournament, uint256 expected);
    /**
     * @dev An announcement with no rounds.
     */
    error NoCloseTimes();
    /**
     * @dev An announcement does not continue the schedule.
     * @param round Its first round.
     * @param expected The round it must start at.
     */
    error RoundNotNextAnnouncement(uint256 round, uint256 expected);
    /**
     * @dev A deadline closer than `minRoundSpacing` to the previous round's (or zero).
     * @param closeTime The deadline given.
     * @param earliest The earliest allowed.
     */
    error CloseTimeTooEarly(uint256 closeTime, uint256 earliest);
    /**
     * @dev No round has been announced yet.
     */
    error NoRoundAnnounced();
    /**
     * @dev The latest announcement is too old to prove the next round is still open; wait for the next announcement.
     * @param currentRound Latest announced round.
     * @param closeTime Its deadline.
     * @param staleAt When the schedule went stale.
     */
    error RoundScheduleStale(uint256 currentRound, uint256 closeTime, uint256 staleAt);
    /**
     * @dev A report skips or repeats a round (rounds are posted in order).
     * @param modelId The model.
     * @param round The round reported.
     * @param expectedRound The next round to post.
     */
    error RoundNotNext(bytes32 modelId, uint256 round, uint256 expectedRound);
    /**
     * @dev A report for a round not announced yet.
     * @param round The round.
     * @param currentRound Latest announced round.
     */
    error RoundNotAnnounced(uint256 round, uint256 currentRound);
    /**
     * @dev An empty batch.
     */
    error NoReports();
    /**
     * @dev A report that is not missed carries no score.
     */
    error NoScores();
    /**
     * @dev A missed round carries scores.
     */
    error MissedRoundWithScores();
    /**
     * @dev More scores than `MAX_SCORES`.
     * @param count Scores given.
     * @param maxCount The most allowed.
     */
    error TooManyScores(uint256 count, uint256 maxCount);
    /**
     * @dev Score names, scores and multipliers differ in length.
     */
    error LengthMismatch();
    /**
     * @dev A score name is empty.
     * @param index Its position.
     */
    error EmptyScoreName(uint256 index);
    /**
     * @dev A score name appears twice.
     * @param name The name.
     */
    error DuplicateScoreName(bytes32 name);
    /**
     * @dev A score above `MAX_ABS_SCORE` in absolute value.
     * @param index Its position.
     * @param score The score.
     */
    error ScoreOutOfBounds(uint256 index, int256 score);
    /**
     * @dev A multiplier above `maxMultiplier`.
     * @param index Its position.
     * @param multiplier The multiplier.
     * @param maxMultiplier The largest allowed.
     */
    error MultiplierOutOfBounds(uint256 index, uint256 multiplier, uint256 maxMultiplier);
    /**
     * @dev A payout factor above 1.0.
     * @param payoutFactor The factor given.
     */
    error PayoutFactorOutOfBounds(uint256 payoutFactor);
    /**
     * @dev A clip of zero or above `maxClip`.
     * @param clip The clip given.
     * @param maxClip The largest allowed.
     */
    error ClipOutOfBounds(uint256 clip, uint256 maxClip);
    /**
     * @dev The index would exceed 2^184 - 1.
     * @param modelId The model.
     * @param round The round that would overflow it.
     */
    error IndexOverflow(bytes32 modelId, uint256 round);
    /**
     * @dev The round is not posted (or not final, or outside the model's rounds).
     * @param modelId The model.
     * @param round The round.
     */
    error RoundNotPosted(bytes32 modelId, uint256 round);
    /**
     * @dev Only a posted round that is not final may be disputed.
     * @param modelId The model.
     * @param round The round.
     */
    error RoundNotPending(bytes32 modelId, uint256 round);
    /**
     * @dev The report's challenge window is over (or its dispute expired).
     * @param modelId The model.
     * @param round The round.
     * @param finalAt When it became final-able.
     */
    error ChallengeWindowOver(bytes32 modelId, uint256 round, uint256 finalAt);
    /**
     * @dev The round is not disputed.
     * @param modelId The model.
     * @param round The round.
     */
    error NotDisputed(bytes32 modelId, uint256 round);
    /**
     * @dev The round is disputed already.
     * @param modelId The model.
     * @param round The round.
     */
    error AlreadyDisputed(bytes32 modelId, uint256 round);
    /**
     * @dev A dispute may be expired only `disputeTimeout` after it was raised.
     * @param expiresAt When it may be expired.
     */
    error DisputeTimeoutNotOver(uint256 expiresAt);
    /**
     * @dev A signer-set proposal was executed after its lifetime (`PROPOSAL_LIFETIME` after its timelock).
     * @param expiredAt Last timestamp at which it could have been executed; propose it again.
     */
    error SignerSetProposalExpired(uint256 expiredAt);
    /**
     * @dev No change of this model's modeller is pending.
     * @param modelId The model.
     */
    error NoModellerChangeProposed(bytes32 modelId);
    /**
     * @dev A proposed change would give the model the modeller it has already.
     * @param modelId The model.
     * @param modeller Its registered modeller.
     */
    error ModellerUnchanged(bytes32 modelId, address modeller);
    /**
     * @dev A change of modeller was executed after its lifetime (`PROPOSAL_LIFETIME` after its timelock).
     * @param modelId The model.
     * @param expiredAt Last timestamp at which it could have been executed; the signers propose it again.
     */
    error ModellerChangeExpired(bytes32 modelId, uint256 expiredAt);
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
    /// @dev The owner proposed a signer set (`setHash` = keccak256(abi.encode(signers, quorum, disputeQuorum))).
    event SignerSetProposed(bytes32 indexed setHash, address[] signers, uint256 quorum, uint256 disputeQuorum,
        uint256 executableAt);
    /// @dev The owner withdrew the pending proposal.
    event SignerSetCancelled(bytes32 indexed setHash);
    /// @dev A signer set took effect (at deployment or through `executeSignerSet`).
    event SignerSetChanged(address[] signers, uint256 quorum, uint256 disputeQuorum);
    /// @dev The owner allowed or revoked a watcher (disputes only, with a bond).
    event WatcherSet(address indexed watcher, bool allowed);
    /// @dev A model was registered by a quorum of signers.
    event ModelRegistered(bytes32 indexed modelId, address indexed modeller, uint256 exposure, uint256 firstRound);
    /// @dev `evidence` is the hash of what the attesting service found in the owner's public Numerai profile.
    event ModelAttested(bytes32 indexed modelId, address indexed modeller, bool attested, bytes32 evidence);
    /// @dev A quorum of signers proposed that `to` replace `from` as the model's modeller, from `executableAt`.
    event ModellerChangeProposed(bytes32 indexed modelId, address indexed from, address indexed to,
        uint256 nonce, uint256 executableAt);
    /// @dev The owner withdrew the pending change of the model's modeller.
    event ModellerChangeCancelled(bytes32 indexed modelId, address indexed to);
    /// @dev The model's modeller changed (the attestation is cleared; agreements made before keep their modeller).
    event ModellerChanged(bytes32 indexed modelId, address indexed from, address indexed to);
    /// @dev A round's submission deadline was announced.
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
    /// @dev A signer or watcher disputed a pending report, locking `bond`.
    event ReportDisputed(bytes32 indexed modelId, uint256 indexed round, address indexed disputer,
        bytes32 reportHash, uint256 bond);
    /// @dev A dispute was resolved by `disputeQuorum` signers; the bond went back (`bondReturned`) or to BOND_SINK.
    event DisputeResolved(bytes32 indexed modelId, uint256 indexed round, bytes32 disputedHash,
        bytes32 replacementHash, int256 roundReturn, bool bondReturned);
    /// @dev A dispute nobody resolved within `disputeTimeout` ended: `reportHash` stands, the bond was forfeited.
    event DisputeExpired(bytes32 indexed modelId, uint256 indexed round, address indexed disputer,
        bytes32 reportHash, uint256 bond);
    /// @dev A round became final: `index` is the model's cumulative index after it.
    event RoundFinalized(bytes32 indexed modelId, uint256 indexed round, int256 roundReturn, bool missed,
        uint256 index);

    // ---------------------------------------------------------------- governance (owner)
    /// @notice Propose a new signer set and quorums, executable through `executeSignerSet` from
    ///         `signerSetDelay` after now until `PROPOSAL_LIFETIME` later. Replaces any earlier proposal.
    /// @dev Requirements: the caller is the owner; the set is valid (`SignerSetInvalid`, `SignersNotAscending`).
    /// @param signers_ New signers, strictly ascending addresses.
    /// @param quorum_ New quorum.
    /// @param disputeQuorum_ New dispute quorum.
    function proposeSignerSet(address[] calldata signers_, uint256 quorum_, uint256 disputeQuorum_) external;

    /// @notice Withdraw the pending signer-set proposal.
    /// @dev Requirements: the caller is the owner; a proposal is pending (`NoSignerSetProposed`).
    function cancelSignerSet() external;

    /// @notice Put the proposed signer set in force. Anyone may call.
    /// @dev Requirements: a proposal is pending (`NoSignerSetProposed`) and matches the arguments
    ///      (`SignerSetMismatch`); its timelock is over (`TimelockNotOver`) and it has not expired
    ///      (`SignerSetProposalExpired`).
    function executeSignerSet(address[] calldata signers_, uint256 quorum_, uint256 disputeQuorum_) external;

    /// @notice Allow or revoke a watcher: an address that may dispute reports (with a bond) but sign nothing.
    /// @dev Requirements: the caller is the owner; `watcher` is not zero (`ZeroAddress`). Not timelocked: a
    ///      watcher can only delay a round (at most `disputeTimeout`, then the report stands) at the cost of
    ///      its bond, which goes to `BOND_SINK` unless the dispute changed the report.
    function setWatcher(address watcher, bool allowed) external;

    // ---------------------------------------------------------------- signed statements (relayed by anyone)
    /// @notice Register a Numerai model: who may offer agreements on it and how much of its stake each round
    ///         puts at risk. Needs `quorum` signatures of `ModelRegistration`.
    /// @dev Requirements: valid signatures before `deadline` (`SignatureExpired`, `QuorumNotMet`,
    ///      `InvalidSignature`, `NotSigner`, `SignersNotAscending`); `modeller` not zero; the model not
    ///      registered (`ModelAlreadyRegistered`); 0 < exposure <= `MAX_EXPOSURE` (`ExposureOutOfBounds`);
    ///      1 <= firstRound <= `MAX_ROUND` (`FirstRoundZero`, `RoundOutOfRange`).
    /// @param modelId Numerai model id (the UUID's 16 bytes, left-aligned, or any 32-byte id).
    /// @param modeller The address that may offer agreements on the model.
    /// @param exposure Fraction of the stake at risk per resolved round, 1e18 = 1.0.
    /// @param firstRound First round reported for this model (rounds are then strictly sequential).
    /// @param deadline Last timestamp at which the signatures are accepted.
    /// @param signatures 65-byte signatures by distinct signers, in ascending signer order.
    function registerModel(
        bytes32 modelId,
        address modeller,
        uint256 exposure,
        uint256 firstRound,
        uint256 deadline,
        bytes[] calldata signatures
    ) external;

    /// @notice Record that the registered modeller's address was (or no longer is) found in the model owner's
    ///         public Numerai profile. Needs `quorum` signatures and the model's current attestation nonce.
    /// @dev Requirements: valid signatures before `deadline`; the model registered (`ModelNotRegistered`) to
    ///      `modeller` (`ModellerMismatch`).
    /// @param evidence Hash of the profile text the service found the address in.
    function attestModel(
        bytes32 modelId,
        address modeller,
        bool attested,
        bytes32 evidence,
        uint256 deadline,
        bytes[] calldata signatures
    ) external;

    /// @notice Propose that `to` replace the model's registered modeller (a wrong or squatting registration, a lost
    ///         or compromised key). Needs `quorum` signatures of `ModellerChange` naming the current modeller and
    ///         the model's change nonce; executable through `executeModellerChange` from `signerSetDelay` after now
    ///         until `PROPOSAL_LIFETIME` later, so the modeller, watchers and the owner (who may cancel it) can see
    ///         it coming. Replaces any pending change of the model.
    /// @dev Requirements: valid signatures before `deadline`; the model registered (`ModelNotRegistered`); `to`
    ///      not zero (`ZeroAddress`) and not the current modeller (`ModellerUnchanged`). The current modeller
    ///      cannot cancel it: the change exists for the case where his key is the problem.
    /// @param modelId The model.
    /// @param to The new modeller.
    /// @param deadline Last timestamp at which the signatures are accepted.
    /// @param signatures 65-byte signatures by distinct signers, in ascending signer order.
    function proposeModellerChange(bytes32 modelId, address to, uint256 deadline, bytes[] calldata signatures)
        external;

    /// @notice Withdraw the pending change of the model's modeller (the owner's check on a quorum of signers).
    /// @dev Requirements: the caller is the owner; a change is pending (`NoModellerChangeProposed`).
    function cancelModellerChange(bytes32 modelId) external;

    /// @notice Put the pending change of the model's modeller in force. Anyone may call. The attestation is
    ///         cleared (the new modeller is attested afresh); agreements and series made before keep the modeller
    ///         they were made by, and a series whose modeller is no longer the model's opens no new agreement.
    /// @dev Requirements: a change is pending (`NoModellerChangeProposed`); its timelock is over
    ///      (`TimelockNotOver`) and it has not expired (`ModellerChangeExpired`).
    function executeModellerChange(bytes32 modelId) external;

    /// @notice Announce consecutive rounds with their submission deadlines. Needs `quorum` signatures.
    /// @dev Requirements: valid signatures before `deadline`; at least one round (`NoCloseTimes`); the first
    ///      announced round is any round >= 1 the first time, then `currentRound + 1` (`RoundNotNextAnnouncement`);
    ///      every deadline at least `minRoundSpacing` after the previous one (`CloseTimeTooEarly`) and at most
    ///      `MAX_CLOSE_HORIZON` after now (`CloseTimeTooLate`); no round above `MAX_ROUND` (`RoundOutOfRange`).
    /// @param firstRound The first round announced.
    /// @param closeTimes One deadline (seconds) per round.
    function announceRounds(uint256 firstRound, uint256[] calldata closeTimes, uint256 deadline,
        bytes[] calldata signatures) external;

    /// @notice Post resolved rounds of any models under one set of `quorum` signatures over the batch. Each
    ///         report becomes final `challengeWindow` after posting unless disputed.
    /// @dev Requirements: at least one report (`NoReports`); valid signatures before `deadline`; each report for
    ///      a registered model (`ModelNotRegistered`), its next round (`RoundNotNext`), announced
    ///      (`RoundNotAnnounced`), within every protocol bound (see `computeRoundReturn`).
    function postReports(RoundReport[] calldata reports, uint256 deadline, bytes[] calldata signatures) external;

    // ---------------------------------------------------------------- disputes
    /// @notice Dispute a pending report during its challenge window, locking `disputeBond` NMR (approve first).
    ///         The round and the model's later rounds wait until the dispute is resolved or expires.
    /// @dev Requirements: the caller is a signer or watcher (`NotSignerOrWatcher`); the round is pending
    ///      (`RoundNotPending`), not disputed (`AlreadyDisputed`), within its window (`ChallengeWindowOver`).
    function dispute(bytes32 modelId, uint256 round) external;

    /// @notice Resolve a dispute with a replacement report signed by `disputeQuorum` signers together with the
    ///         hash of the disputed report. The replacement is final at once; the bond goes back to the disputer
    ///         when the replacement differs, and to `BOND_SINK` otherwise.
    /// @dev Requirements: the round is disputed (`NotDisputed`); valid signatures before `deadline`; the
    ///      replacement within every protocol bound.
    function resolveDispute(RoundReport calldata replacement, uint256 deadline, bytes[] calldata signatures)
        external;

    /// @notice End a dispute nobody resolved within `disputeTimeout`: the disputed report stands and may be
    ///         finalized at once; the bond goes to `BOND_SINK`. Anyone may call.
    /// @dev Requirements: the round is disputed (`NotDisputed`) for at least `disputeTimeout`
    ///      (`DisputeTimeoutNotOver`).
    function expireDispute(bytes32 modelId, uint256 round) external;

    /// @notice `finalize` for several models in one transaction.
    function finalizeMany(bytes32[] calldata modelIds, uint256 maxRoundsEach) external;

    // ---------------------------------------------------------------- views
    /// @notice The current signers, ascending.
    function signers() external view returns (address[] memory);

    /// @notice EIP-712 struct hash of a report (what batches and disputes sign).
    function hashReport(RoundReport calldata report) external pure returns (bytes32);

    /// @notice The EIP-712 domain separator (bound to this chain and this contract).
    function domainSeparator() external view returns (bytes32);

    /// @notice A report's round return: clamp(payoutFactor * sum(multiplier_i * score_i), -clip, +clip), one
    ///         truncation toward zero; zero for a missed round.
    /// @dev Requirements: the oracle's tournament (`WrongTournament`); matching lengths (`LengthMismatch`); a
    ///      missed round without scores (`MissedRoundWithScores`), otherwise 1..`MAX_SCORES` scores (`NoScores`,
    ///      `TooManyScores`) with distinct non-empty names (`EmptyScoreName`, `DuplicateScoreName`),
    ///      |score| <= 1 (`ScoreOutOfBounds`), multiplier <= `maxMultiplier` (`MultiplierOutOfBounds`),
    ///      payoutFactor <= 1 (`PayoutFactorOutOfBounds`), 0 < clip <= `maxClip` (`ClipOutOfBounds`).
    function computeRoundReturn(RoundReport calldata report) external view returns (int256 roundReturn);

    /// @notice The model's last posted round (final or pending).
    function lastPostedRound(bytes32 modelId) external view returns (uint256);

    /// @notice Everything stored for one final round.
    /// @dev Requirements: the model registered and the round final (`RoundNotPosted`).
    function roundRecord(bytes32 modelId, uint256 round)
        external
        view
        returns (uint256 index, int256 roundReturn, bool missed);

    /// @notice A posted round's report, final or pending (`finalAt` is type(uint64).max while disputed).
    /// @dev Requirements: the round posted (`RoundNotPosted`).
    function reportOf(bytes32 modelId, uint256 round)
        external
        view
        returns (bytes32 reportHash, int256 roundReturn, bool missed, uint256 finalAt, address disputer, uint256 bond);

    /// @notice Submission deadline of an announced round (zero when not announced).
    function roundCloseTime(uint256 round) external view returns (uint256);

    /// @notice When Numerai's resolution of `round` is due: its deadline plus `resolutionDelay`; for a round not
    ///         announced yet, the earliest its deadline can be. Never decreases with the round number.
    /// @dev Requirements: a round announced (`NoRoundAnnounced`).
    function roundDueTime(uint256 round) external view returns (uint256);

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

    /// @notice The pending change of the model's modeller, if any.
    /// @return to The proposed modeller (zero when none is pending).
    /// @return executableAt When it may be executed (zero when none is pending).
    /// @return nonce The nonce the model's next proposal must be signed with.
    function modellerChangeOf(bytes32 modelId) external view returns (address to, uint256 executableAt, uint256 nonce);

    /// @notice Cumulative index after a final `round` (1e18 at `firstRound - 1`):
    ///         I_r = I_{r-1} * max(1 + exposure * return_r, MIN_GROWTH).
    /// @dev Requirements: the model registered (`ModelNotRegistered`) and the round final (`RoundNotPosted`).
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
    /// @dev Requirements: the model registered (`ModelNotRegistered`); firstRound <= startRound <= endRound
    ///      (`RoundNotPosted`). An agreement over rounds s..e is valued at I_e / I_{s-1}: round s-1 is the last
    ///      round before its first, the latest announced when it locked; rounds up to s-1 never count for it.
    /// @return complete True when every round is final, or (the neutral fallback) when the lockup's last round
    ///         is overdue (`maxReportDelay` after its resolution was due) and no report of the model is pending.
    function settlementIndices(bytes32 modelId, uint256 startRound, uint256 endRound)
        external
        view
        returns (uint256 startIndex, uint256 endIndex, uint256 lastFinal, bool complete);
}
