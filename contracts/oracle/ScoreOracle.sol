// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {RoundReports} from "./RoundReports.sol";

/// @title ScoreOracle
/// @notice Numerai round results per model, signed by k of n oracle signers, disputable for a challenge window,
///         folded into a cumulative index so an agreement reads its whole lockup in O(1).
/// @dev Anyone may relay signed statements: who sends a transaction does not matter, who signed it does.
///      Protocol bounds (maximum clip, maximum multiplier, round spacing) are immutable, so even a quorum of
///      compromised signers can never post a return outside what Numerai's payout rules allow. The signer set
///      changes only through a timelock; the owner (meant to be a multisig) cannot post anything.
contract ScoreOracle is IScoreOracle, Ownable2Step, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice 1.0 in the contract's fixed point.
    uint256 public constant ONE = 1e18;
    /// @notice Scores are correlations: |score| <= 1.
    int256 public constant MAX_ABS_SCORE = RoundReports.MAX_ABS_SCORE;
    /// @notice At most this many named scores per round (Numerai pays on two today).
    uint256 public constant MAX_SCORES = RoundReports.MAX_SCORES;
    /// @notice Exposure is a fraction of the stake: at most 1.0, so one round never loses more than the stake.
    uint256 public constant MAX_EXPOSURE = 1e18;
    /// @notice Largest signer set (bounds the loop that replaces it).
    uint256 public constant MAX_SIGNERS = 32;
    /// @notice Largest round number announced or registered: far below 2^64, so that an agreement's start round
    ///         plus its lockup always fits the uint64 it is stored in.
    uint256 public constant MAX_ROUND = type(uint32).max;
    /// @notice An announced submission deadline is at most this far after the announcement (a deadline given in
    ///         milliseconds instead of seconds would otherwise push every later round out by millennia).
    uint256 public constant MAX_CLOSE_HORIZON = 365 days;
    /// @notice One round never takes the index below this fraction of its value (1e-6): a -100% round leaves
    ///         the model's index positive, so agreements starting after it still measure their own rounds. The
    ///         floor is a fraction, so the integer index still reaches 0 after four -100% rounds in a row (1e18,
    ///         1e12, 1e6, 1, 0) and stays there; no agreement locks on it (`MIN_START_INDEX`), and one locked
    ///         before values a zero start as a total loss.
    uint256 public constant MIN_GROWTH = 1e12;
    /// @notice Smallest index an agreement may start from (1e-9 of the model's start): below it the index has
    ///         too few digits left for a lockup's value to be exact.
    uint256 public constant MIN_START_INDEX = 1e9;
    /// @notice A signer-set proposal may be executed within this long after its timelock ends, never later.
    uint256 public constant PROPOSAL_LIFETIME = 7 days;
    /// @notice Where forfeited dispute bonds go: an address nobody controls, so no one (the owner included) gains
    ///         from a failed dispute.
    address public constant BOND_SINK = 0x000000000000000000000000000000000000dEaD;

    bytes32 public constant ROUND_REPORT_TYPEHASH = RoundReports.ROUND_REPORT_TYPEHASH;
    bytes32 public constant REPORT_BATCH_TYPEHASH = keccak256(
        "ReportBatch(RoundReport[] reports,uint256 deadline)RoundReport(bytes32 modelId,uint256 tournament,"
        "uint256 round,bool missed,bytes32[] scoreNames,int256[] scores,uint256[] multipliers,uint256 payoutFactor,"
        "uint256 clip)"
    );
    bytes32 public constant RESOLUTION_TYPEHASH = keccak256(
        "DisputeResolution(bytes32 disputedReport,RoundReport replacement,uint256 deadline)RoundReport(bytes32 "
        "modelId,uint256 tournament,uint256 round,bool missed,bytes32[] scoreNames,int256[] scores,"
        "uint256[] multipliers,uint256 payoutFactor,uint256 clip)"
    );
    bytes32 public constant ANNOUNCEMENT_TYPEHASH =
        keccak256("RoundAnnouncement(uint256 tournament,uint256 firstRound,uint256[] closeTimes,uint256 deadline)");
    bytes32 public constant REGISTRATION_TYPEHASH = keccak256(
        "ModelRegistration(bytes32 modelId,address modeller,uint256 exposure,uint256 firstRound,uint256 deadline)"
    );
    bytes32 public constant MODELLER_CHANGE_TYPEHASH =
        keccak256("ModellerChange(bytes32 modelId,address from,address to,uint256 nonce,uint256 deadline)");
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "ModelAttestation(bytes32 modelId,address modeller,bool attested,bytes32 evidence,uint256 nonce,"
        "uint256 deadline)"
    );

    /// @notice The token dispute bonds are paid in (NMR).
    IERC20 public immutable bondToken;
    /// @notice Numerai tournament id every report must carry (8 = Classic).
    uint256 public immutable tournament;
    /// @notice Largest clip a report may carry (1e18 = 100% of the stake at risk).
    uint256 public immutable maxClip;
    /// @notice Largest multiplier a report may carry for any score.
    uint256 public immutable maxMultiplier;
    /// @notice Shortest time between the submission deadlines of two consecutive rounds. Lets an agreement
    ///         prove the round after the latest announced one has not closed yet (see `nextStartRound`).
    uint256 public immutable minRoundSpacing;
    /// @notice Seconds a posted report stays disputable before it may become final.
    uint256 public immutable challengeWindow;
    /// @notice Seconds from a round's submission deadline until Numerai resolves it (about 31 days today).
    uint256 public immutable resolutionDelay;
    /// @notice Seconds after a round's resolution within which it must be final, or agreements may mature
    ///         counting it as zero return.
    uint256 public immutable maxReportDelay;
    /// @notice NMR a disputer locks with a dispute.
    uint256 public immutable disputeBond;
    /// @notice Seconds after which the bond of a dispute nobody resolved may be taken back.
    uint256 public immutable disputeTimeout;
    /// @notice Delay between proposing and executing a change of signers, quorums or a model's modeller.
    uint256 public immutable signerSetDelay;

    struct Model {
        address modeller;
        uint64 exposure;
        bool attested;
    }

    /// @dev A proposed change of a model's modeller (`to` zero when none is pending); `nonce` counts proposals.
    struct ModellerChange {
        address to;
        uint64 executableAt;
        uint32 nonce;
    }

    /// @dev lastPosted >= lastFinal: rounds in (lastFinal, lastPosted] are pending.
    struct Progress {
        uint64 firstRound;
        uint64 lastFinal;
        uint64 lastPosted;
    }

    /// @dev One slot per round. `index` is written at finalisation (zero while pending). The index is capped at
    ///      uint184 (about 2.4e37 times the start value: decades of daily rounds).
    struct RoundRecord {
        uint184 index;
        int64 roundReturn;
        bool missed;
    }

    /// @dev A posted report: its EIP-712 struct hash and when it may become final (DISPUTED while disputed).
    struct Pending {
        bytes32 reportHash;
        uint64 finalAt;
    }

    struct Dispute {
        address disputer;
        uint64 disputedAt;
        uint256 bond;
    }

    uint64 private constant DISPUTED = type(uint64).max;

    address[] private _signers;
    mapping(address => bool) public isSigner;
    /// @notice Distinct signers a report, announcement, registration or attestation needs.
    uint256 public quorum;
    /// @notice Distinct signers a dispute resolution needs (> quorum).
    uint256 public disputeQuorum;
    mapping(address => bool) public isWatcher;

    /// @notice Hash of the proposed signer set (zero when none) and when it may be executed.
    bytes32 public proposedSignerSet;
    uint256 public proposedSignerSetExecutableAt;

    mapping(bytes32 => Model) private _models;
    mapping(bytes32 => Progress) private _progress;
    mapping(bytes32 => mapping(uint256 => RoundRecord)) private _rounds;
    mapping(bytes32 => mapping(uint256 => Pending)) private _pending;
    mapping(bytes32 => mapping(uint256 => Dispute)) private _disputes;
    mapping(bytes32 => ModellerChange) private _modellerChanges;
    /// @notice Next nonce an attestation of each model must carry (so an old attestation cannot be replayed).
    mapping(bytes32 => uint256) public attestationNonce;

    /// @notice Latest announced round and its submission deadline; the first round ever announced.
    uint64 public currentRound;
    uint64 public currentRoundCloseTime;
    uint64 public firstAnnouncedRound;
    mapping(uint256 => uint256) private _closeTimes;

    /// @param owner_ Proposes signer-set changes (timelocked) and manages watchers; posts nothing.
    /// @param config Immutable parameters (see `OracleConfig`).
    /// @param signers_ Initial signers, strictly ascending addresses.
    /// @param quorum_ Signatures a statement needs (>= 1).
    /// @param disputeQuorum_ Signatures a dispute resolution needs (quorum_ < disputeQuorum_ <= signers).
    constructor(
        address owner_,
        OracleConfig memory config,
        address[] memory signers_,
        uint256 quorum_,
        uint256 disputeQuorum_
    ) Ownable(owner_) EIP712("Backing Vaults ScoreOracle", "1") {
        if (config.bondToken == address(0)) revert ZeroAddress();
        if (config.maxClip == 0 || config.maxClip > ONE) revert BoundOutOfRange("maxClip");
        if (config.maxMultiplier == 0 || config.maxMultiplier > 1000 * ONE) revert BoundOutOfRange("maxMultiplier");
        if (config.minRoundSpacing == 0 || config.minRoundSpacing > 365 days) {
            revert BoundOutOfRange("minRoundSpacing");
        }
        if (config.challengeWindow == 0 || config.challengeWindow > 30 days) revert BoundOutOfRange("challengeWindow");
        if (config.resolutionDelay > 365 days) revert BoundOutOfRange("resolutionDelay");
        // a round must be able to become final (challenge window) before the fallback may count it as zero
        if (config.maxReportDelay <= config.challengeWindow || config.maxReportDelay > 365 days) {
            revert BoundOutOfRange("maxReportDelay");
        }
        if (config.disputeBond == 0) revert BoundOutOfRange("disputeBond");
        if (config.disputeTimeout == 0 || config.disputeTimeout > 365 days) revert BoundOutOfRange("disputeTimeout");
        if (config.signerSetDelay == 0 || config.signerSetDelay > 365 days) revert BoundOutOfRange("signerSetDelay");
        bondToken = IERC20(config.bondToken);
        tournament = config.tournament;
        maxClip = config.maxClip;
        maxMultiplier = config.maxMultiplier;
        minRoundSpacing = config.minRoundSpacing;
        challengeWindow = config.challengeWindow;
        resolutionDelay = config.resolutionDelay;
        maxReportDelay = config.maxReportDelay;
        disputeBond = config.disputeBond;
        disputeTimeout = config.disputeTimeout;
        signerSetDelay = config.signerSetDelay;
        _setSigners(signers_, quorum_, disputeQuorum_);
    }

    // ================================================================================ governance

    /// @inheritdoc IScoreOracle
    function proposeSignerSet(address[] calldata signers_, uint256 quorum_, uint256 disputeQuorum_)
        external
        onlyOwner
    {
        _checkSignerSet(signers_, quorum_, disputeQuorum_);
        bytes32 setHash = keccak256(abi.encode(signers_, quorum_, disputeQuorum_));
        uint256 executableAt = block.timestamp + signerSetDelay;
        proposedSignerSet = setHash;
        proposedSignerSetExecutableAt = executableAt;
        emit SignerSetProposed(setHash, signers_, quorum_, disputeQuorum_, executableAt);
    }

    /// @inheritdoc IScoreOracle
    function cancelSignerSet() external onlyOwner {
        bytes32 setHash = proposedSignerSet;
        if (setHash == bytes32(0)) revert NoSignerSetProposed();
        delete proposedSignerSet;
        delete proposedSignerSetExecutableAt;
        emit SignerSetCancelled(setHash);
    }

    /// @inheritdoc IScoreOracle
    function executeSignerSet(address[] calldata signers_, uint256 quorum_, uint256 disputeQuorum_) external {
        bytes32 setHash = proposedSignerSet;
        if (setHash == bytes32(0)) revert NoSignerSetProposed();
        bytes32 given = keccak256(abi.encode(signers_, quorum_, disputeQuorum_));
        if (given != setHash) revert SignerSetMismatch(setHash, given);
        uint256 executableAt = proposedSignerSetExecutableAt;
        if (block.timestamp < executableAt) revert TimelockNotOver(executableAt);
        uint256 expiresAt = executableAt + PROPOSAL_LIFETIME;
        if (block.timestamp > expiresAt) revert SignerSetProposalExpired(expiresAt);
        delete proposedSignerSet;
        delete proposedSignerSetExecutableAt;
        for (uint256 i = 0; i < _signers.length; ++i) {
            isSigner[_signers[i]] = false;
        }
        delete _signers;
        _setSigners(signers_, quorum_, disputeQuorum_);
    }

    /// @notice Disabled: without an owner, forfeited bonds would have nowhere to go and the signer set could never
    ///         change again. Transfer ownership (two steps) instead.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceDisabled();
    }

    /// @inheritdoc IScoreOracle
    /// @dev Not timelocked: a watcher can only delay finality, at the risk of its bond.
    function setWatcher(address watcher, bool allowed) external onlyOwner {
        if (watcher == address(0)) revert ZeroAddress();
        isWatcher[watcher] = allowed;
        emit WatcherSet(watcher, allowed);
    }

    // ================================================================================ signed statements

    /// @inheritdoc IScoreOracle
    function registerModel(
        bytes32 modelId,
        address modeller,
        uint256 exposure,
        uint256 firstRound,
        uint256 deadline,
        bytes[] calldata signatures
    ) external {
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(REGISTRATION_TYPEHASH, modelId, modeller, exposure, firstRound, deadline))
        );
        _verify(digest, deadline, signatures, quorum);
        if (modeller == address(0)) revert ZeroAddress();
        if (_models[modelId].modeller != address(0)) revert ModelAlreadyRegistered(modelId);
        if (exposure == 0 || exposure > MAX_EXPOSURE) revert ExposureOutOfBounds(exposure, MAX_EXPOSURE);
        if (firstRound == 0) revert FirstRoundZero();
        if (firstRound > MAX_ROUND) revert RoundOutOfRange(firstRound, MAX_ROUND);
        _models[modelId] = Model(modeller, uint64(exposure), false);
        _progress[modelId] = Progress(uint64(firstRound), uint64(firstRound - 1), uint64(firstRound - 1));
        _rounds[modelId][firstRound - 1] = RoundRecord(uint184(ONE), 0, false);
        emit ModelRegistered(modelId, modeller, exposure, firstRound);
    }

    /// @inheritdoc IScoreOracle
    function attestModel(
        bytes32 modelId,
        address modeller,
        bool attested,
        bytes32 evidence,
        uint256 deadline,
        bytes[] calldata signatures
    ) external {
        uint256 nonce = attestationNonce[modelId];
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, modelId, modeller, attested, evidence, nonce, deadline))
        );
        _verify(digest, deadline, signatures, quorum);
        address registered = _models[modelId].modeller;
        if (registered == address(0)) revert ModelNotRegistered(modelId);
        if (registered != modeller) revert ModellerMismatch(modelId, registered, modeller);
        attestationNonce[modelId] = nonce + 1;
        _models[modelId].attested = attested;
        emit ModelAttested(modelId, modeller, attested, evidence);
    }

    /// @inheritdoc IScoreOracle
    function proposeModellerChange(bytes32 modelId, address to, uint256 deadline, bytes[] calldata signatures)
        external
    {
        address from = _models[modelId].modeller;
        uint32 nonce = _modellerChanges[modelId].nonce;
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(MODELLER_CHANGE_TYPEHASH, modelId, from, to, nonce, deadline))
        );
        _verify(digest, deadline, signatures, quorum);
        if (from == address(0)) revert ModelNotRegistered(modelId);
        if (to == address(0)) revert ZeroAddress();
        if (to == from) revert ModellerUnchanged(modelId, from);
        uint256 executableAt = block.timestamp + signerSetDelay;
        _modellerChanges[modelId] = ModellerChange(to, uint64(executableAt), nonce + 1);
        emit ModellerChangeProposed(modelId, from, to, nonce, executableAt);
    }

    /// @inheritdoc IScoreOracle
    function cancelModellerChange(bytes32 modelId) external onlyOwner {
        ModellerChange storage change = _modellerChanges[modelId];
        address to = change.to;
        if (to == address(0)) revert NoModellerChangeProposed(modelId);
        change.to = address(0);
        change.executableAt = 0;
        emit ModellerChangeCancelled(modelId, to);
    }

    /// @inheritdoc IScoreOracle
    function executeModellerChange(bytes32 modelId) external {
        ModellerChange storage change = _modellerChanges[modelId];
        address to = change.to;
        if (to == address(0)) revert NoModellerChangeProposed(modelId);
        uint256 executableAt = change.executableAt;
        if (block.timestamp < executableAt) revert TimelockNotOver(executableAt);
        if (block.timestamp > executableAt + PROPOSAL_LIFETIME) {
            revert ModellerChangeExpired(modelId, executableAt + PROPOSAL_LIFETIME);
        }
        change.to = address(0);
        change.executableAt = 0;
        Model storage m = _models[modelId];
        address from = m.modeller;
        m.modeller = to;
        m.attested = false;
        emit ModellerChanged(modelId, from, to);
    }

    /// @inheritdoc IScoreOracle
    function announceRounds(
        uint256 firstRound,
        uint256[] calldata closeTimes,
        uint256 deadline,
        bytes[] calldata signatures
    ) external {
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ANNOUNCEMENT_TYPEHASH, tournament, firstRound, keccak256(abi.encodePacked(closeTimes)), deadline
                )
            )
        );
        _verify(digest, deadline, signatures, quorum);
        uint256 count = closeTimes.length;
        if (count == 0) revert NoCloseTimes();
        uint256 round = currentRound;
        uint256 close = currentRoundCloseTime;
        if (round == 0) {
            if (firstRound == 0) revert RoundNotNextAnnouncement(firstRound, 1);
            firstAnnouncedRound = uint64(firstRound);
        } else if (firstRound != round + 1) {
            revert RoundNotNextAnnouncement(firstRound, round + 1);
        }
        round = firstRound;
        uint256 latest = block.timestamp + MAX_CLOSE_HORIZON;
        for (uint256 i = 0; i < count; ++i) {
            uint256 earliest = close == 0 ? 1 : close + minRoundSpacing;
            uint256 closeTime = closeTimes[i];
            if (closeTime < earliest) revert CloseTimeTooEarly(closeTime, earliest);
            if (closeTime > latest) revert CloseTimeTooLate(closeTime, latest);
            if (round > MAX_ROUND) revert RoundOutOfRange(round, MAX_ROUND);
            _closeTimes[round] = closeTime;
            emit RoundAnnounced(round, closeTime);
            close = closeTime;
            ++round;
        }
        currentRound = uint64(round - 1);
        currentRoundCloseTime = uint64(close);
    }

    /// @inheritdoc IScoreOracle
    function postReports(RoundReport[] calldata reports, uint256 deadline, bytes[] calldata signatures) external {
        uint256 count = reports.length;
        if (count == 0) revert NoReports();
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            hashes[i] = hashReport(reports[i]);
        }
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(REPORT_BATCH_TYPEHASH, keccak256(abi.encodePacked(hashes)), deadline))
        );
        _verify(digest, deadline, signatures, quorum);
        uint64 finalAt = SafeCast.toUint64(block.timestamp + challengeWindow);
        for (uint256 i = 0; i < count; ++i) {
            _post(reports[i], hashes[i], finalAt);
        }
    }

    /// @inheritdoc IScoreOracle
    function dispute(bytes32 modelId, uint256 round) external {
        if (!isSigner[msg.sender] && !isWatcher[msg.sender]) revert NotSignerOrWatcher(msg.sender);
        Progress memory p = _progress[modelId];
        if (round <= p.lastFinal || round > p.lastPosted) revert RoundNotPending(modelId, round);
        Pending storage pending = _pending[modelId][round];
        uint256 finalAt = pending.finalAt;
        if (finalAt == DISPUTED) revert AlreadyDisputed(modelId, round);
        if (block.timestamp >= finalAt) revert ChallengeWindowOver(modelId, round, finalAt);
        pending.finalAt = DISPUTED;
        uint256 bond = disputeBond;
        _disputes[modelId][round] = Dispute(msg.sender, uint64(block.timestamp), bond);
        emit ReportDisputed(modelId, round, msg.sender, pending.reportHash, bond);
        bondToken.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IScoreOracle
    function resolveDispute(RoundReport calldata replacement, uint256 deadline, bytes[] calldata signatures)
        external
    {
        bytes32 modelId = replacement.modelId;
        uint256 round = replacement.round;
        Pending storage pending = _pending[modelId][round];
        if (pending.finalAt != DISPUTED) revert NotDisputed(modelId, round);
        bytes32 disputedHash = pending.reportHash;
        bytes32 replacementHash = hashReport(replacement);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(RESOLUTION_TYPEHASH, disputedHash, replacementHash, deadline)));
        _verify(digest, deadline, signatures, disputeQuorum);
        int256 roundReturn = _checkedReturn(replacement);

        Dispute memory d = _disputes[modelId][round];
        delete _disputes[modelId][round];
        pending.reportHash = replacementHash;
        pending.finalAt = uint64(block.timestamp);
        _rounds[modelId][round] = RoundRecord(0, int64(roundReturn), replacement.missed);
        bool bondReturned = replacementHash != disputedHash;
        emit DisputeResolved(modelId, round, disputedHash, replacementHash, roundReturn, bondReturned);
        bondToken.safeTransfer(bondReturned ? d.disputer : BOND_SINK, d.bond);
    }

    /// @inheritdoc IScoreOracle
    function expireDispute(bytes32 modelId, uint256 round) external {
        Pending storage pending = _pending[modelId][round];
        if (pending.finalAt != DISPUTED) revert NotDisputed(modelId, round);
        Dispute memory d = _disputes[modelId][round];
        uint256 expiresAt = uint256(d.disputedAt) + disputeTimeout;
        if (block.timestamp < expiresAt) revert DisputeTimeoutNotOver(expiresAt);
        delete _disputes[modelId][round];
        pending.finalAt = uint64(block.timestamp);
        emit DisputeExpired(modelId, round, d.disputer, pending.reportHash, d.bond);
        bondToken.safeTransfer(BOND_SINK, d.bond);
    }

    /// @inheritdoc IScoreOracle
    function finalize(bytes32 modelId, uint256 maxRounds) public returns (uint256 lastFinal) {
        Model memory m = _models[modelId];
        if (m.modeller == address(0)) revert ModelNotRegistered(modelId);
        Progress memory p = _progress[modelId];
        uint256 round = p.lastFinal;
        uint256 last = p.lastPosted;
        uint256 index = _rounds[modelId][round].index;
        for (uint256 n = 0; n < maxRounds && round < last; ++n) {
            uint256 next = round + 1;
            if (_pending[modelId][next].finalAt > block.timestamp) break;
            RoundRecord memory r = _rounds[modelId][next];
            // growth = 1 + exposure * roundReturn >= 0, because exposure <= 1 and |roundReturn| <= clip <= 1;
            // floored at MIN_GROWTH so that one round never wipes the index out (it can still round down to 0
            // after several -100% rounds in a row: see MIN_GROWTH)
            int256 growth = int256(ONE) + (int256(uint256(m.exposure)) * r.roundReturn) / int256(ONE);
            // slither-disable-next-line divide-before-multiply -- compounding: each round scales the last round's rounded index
            index = (index * (growth < int256(MIN_GROWTH) ? MIN_GROWTH : uint256(growth))) / ONE;
            if (index > type(uint184).max) revert IndexOverflow(modelId, next);
            _rounds[modelId][next].index = uint184(index);
            emit RoundFinalized(modelId, next, r.roundReturn, r.missed, index);
            round = next;
        }
        if (round != p.lastFinal) _progress[modelId].lastFinal = uint64(round); // round <= lastPosted, a uint64
        return round;
    }

    /// @inheritdoc IScoreOracle
    function finalizeMany(bytes32[] calldata modelIds, uint256 maxRoundsEach) external {
        for (uint256 i = 0; i < modelIds.length; ++i) {
            finalize(modelIds[i], maxRoundsEach);
        }
    }

    // ================================================================================ views

    /// @inheritdoc IScoreOracle
    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /// @inheritdoc IScoreOracle
    function hashReport(RoundReport calldata report) public pure returns (bytes32) {
        return RoundReports.hash(report);
    }

    /// @inheritdoc IScoreOracle
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IScoreOracle
    function computeRoundReturn(RoundReport calldata report) external view returns (int256 roundReturn) {
        return _checkedReturn(report);
    }

    /// @inheritdoc IScoreOracle
    function modelInfo(bytes32 modelId)
        external
        view
        returns (address modeller, uint256 exposure, uint256 firstRound, uint256 lastRound)
    {
        Model memory m = _models[modelId];
        Progress memory p = _progress[modelId];
        return (m.modeller, m.exposure, p.firstRound, p.lastFinal);
    }

    /// @inheritdoc IScoreOracle
    function lastPostedRound(bytes32 modelId) external view returns (uint256) {
        return _progress[modelId].lastPosted;
    }

    /// @inheritdoc IScoreOracle
    function isAttested(bytes32 modelId) external view returns (bool) {
        return _models[modelId].attested;
    }

    /// @inheritdoc IScoreOracle
    function modellerChangeOf(bytes32 modelId) external view returns (address to, uint256 executableAt, uint256 nonce) {
        ModellerChange memory change = _modellerChanges[modelId];
        return (change.to, change.executableAt, change.nonce);
    }

    /// @inheritdoc IScoreOracle
    function indexAt(bytes32 modelId, uint256 round) external view returns (uint256) {
        _requireFinal(modelId, round);
        return _rounds[modelId][round].index;
    }

    /// @inheritdoc IScoreOracle
    function roundRecord(bytes32 modelId, uint256 round)
        external
        view
        returns (uint256 index, int256 roundReturn, bool missed)
    {
        _requireFinal(modelId, round);
        RoundRecord memory r = _rounds[modelId][round];
        return (r.index, r.roundReturn, r.missed);
    }

    /// @inheritdoc IScoreOracle
    function reportOf(bytes32 modelId, uint256 round)
        external
        view
        returns (bytes32 reportHash, int256 roundReturn, bool missed, uint256 finalAt, address disputer, uint256 bond)
    {
        Progress memory p = _progress[modelId];
        if (round < p.firstRound || round > p.lastPosted) revert RoundNotPosted(modelId, round);
        Pending memory pending = _pending[modelId][round];
        RoundRecord memory r = _rounds[modelId][round];
        Dispute memory d = _disputes[modelId][round];
        return (pending.reportHash, r.roundReturn, r.missed, pending.finalAt, d.disputer, d.bond);
    }

    /// @inheritdoc IScoreOracle
    function roundCloseTime(uint256 round) external view returns (uint256) {
        return _closeTimes[round];
    }

    /// @inheritdoc IScoreOracle
    function roundDueTime(uint256 round) public view returns (uint256) {
        uint256 current = currentRound;
        if (current == 0) revert NoRoundAnnounced();
        uint256 close;
        if (round > current) {
            // far-future rounds saturate (no overflow): 2^64 rounds ahead is beyond any agreement's reach
            uint256 ahead = round - current > type(uint64).max ? type(uint64).max : round - current;
            close = uint256(currentRoundCloseTime) + ahead * minRoundSpacing;
        } else {
            uint256 first = firstAnnouncedRound;
            // rounds before the first announcement closed before it: its deadline bounds theirs from above
            close = _closeTimes[round < first ? first : round];
        }
        return close + resolutionDelay;
    }

    /// @inheritdoc IScoreOracle
    function nextStartRound() public view returns (uint256) {
        uint256 round = currentRound;
        if (round == 0) revert NoRoundAnnounced();
        // Round `round + 1` closes at least minRoundSpacing after round `round` does. Before that moment it
        // cannot have closed, whether or not it has been announced yet; after it, it might have.
        uint256 staleAt = uint256(currentRoundCloseTime) + minRoundSpacing;
        if (block.timestamp >= staleAt) revert RoundScheduleStale(round, currentRoundCloseTime, staleAt);
        return round + 1;
    }

    /// @inheritdoc IScoreOracle
    function startRoundFor(bytes32 modelId) external view returns (uint256 start) {
        start = nextStartRound();
        if (_models[modelId].modeller == address(0)) revert ModelNotRegistered(modelId);
        Progress memory p = _progress[modelId];
        if (start < p.firstRound) revert ModelNotStarted(start, p.firstRound);
        uint256 index = _rounds[modelId][p.lastFinal].index;
        if (index < MIN_START_INDEX) revert IndexTooLow(modelId, p.lastFinal, index, MIN_START_INDEX);
    }

    /// @inheritdoc IScoreOracle
    function settlementIndices(bytes32 modelId, uint256 startRound, uint256 endRound)
        external
        view
        returns (uint256 startIndex, uint256 endIndex, uint256 lastFinal, bool complete)
    {
        Progress memory p = _progress[modelId];
        if (_models[modelId].modeller == address(0)) revert ModelNotRegistered(modelId);
        if (startRound < p.firstRound || endRound < startRound) revert RoundNotPosted(modelId, startRound);
        lastFinal = p.lastFinal;
        if (lastFinal >= endRound) {
            return (_rounds[modelId][startRound - 1].index, _rounds[modelId][endRound].index, lastFinal, true);
        }
        // The fallback needs the lockup's last round overdue (so a stall never cuts a lockup short: every round
        // could have been reported) and no report pending (a posted round counts once final; a pending one is
        // final within challengeWindow, a disputed one is resolved or expires within disputeTimeout).
        complete = p.lastPosted == lastFinal && block.timestamp >= roundDueTime(endRound) + maxReportDelay;
        // Nothing of the lockup is final: every round of it counts zero, so both ends sit at the last final index
        // (a model already wiped out stays at zero, exactly as if the rounds before the lockup had been posted).
        uint256 from = lastFinal + 1 < startRound ? lastFinal : startRound - 1;
        return (_rounds[modelId][from].index, _rounds[modelId][lastFinal].index, lastFinal, complete);
    }

    // ================================================================================ internals

    function _post(RoundReport calldata report, bytes32 reportHash, uint64 finalAt) private {
        bytes32 modelId = report.modelId;
        if (_models[modelId].modeller == address(0)) revert ModelNotRegistered(modelId);
        Progress storage p = _progress[modelId];
        uint256 round = report.round;
        uint256 expected = uint256(p.lastPosted) + 1;
        if (round != expected) revert RoundNotNext(modelId, round, expected);
        if (round > currentRound) revert RoundNotAnnounced(round, currentRound);
        int256 roundReturn = _checkedReturn(report);
        p.lastPosted = uint64(round);
        // roundReturn fits int64: |roundReturn| <= maxClip <= 1e18 < 2^63
        _rounds[modelId][round] = RoundRecord(0, int64(roundReturn), report.missed);
        _pending[modelId][round] = Pending(reportHash, finalAt);
        emit RoundPosted(modelId, round, report, reportHash, roundReturn, finalAt);
    }

    function _checkedReturn(RoundReport calldata report) private view returns (int256) {
        return RoundReports.checkedReturn(report, tournament, maxClip, maxMultiplier);
    }

    /// @dev Every signature must be valid (65 bytes, low s), from a current signer, signers strictly ascending
    ///      (so none counts twice), and at least `required` of them.
    function _verify(bytes32 digest, uint256 deadline, bytes[] calldata signatures, uint256 required) private view {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        uint256 count = signatures.length;
        if (count < required) revert QuorumNotMet(count, required);
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            // slither-disable-next-line unused-return -- the error kind is enough; the s value is not needed
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            if (!isSigner[recovered]) revert NotSigner(i, recovered);
            if (recovered <= previous) revert SignersNotAscending(i);
            previous = recovered;
        }
    }

    function _checkSignerSet(address[] memory signers_, uint256 quorum_, uint256 disputeQuorum_) private pure {
        uint256 n = signers_.length;
        if (n == 0 || n > MAX_SIGNERS || quorum_ == 0 || disputeQuorum_ <= quorum_ || disputeQuorum_ > n) {
            revert SignerSetInvalid(n, quorum_, disputeQuorum_);
        }
        address previous = address(0);
        for (uint256 i = 0; i < n; ++i) {
            if (signers_[i] <= previous) revert SignersNotAscending(i);
            previous = signers_[i];
        }
    }

    function _setSigners(address[] memory signers_, uint256 quorum_, uint256 disputeQuorum_) private {
        _checkSignerSet(signers_, quorum_, disputeQuorum_);
        for (uint256 i = 0; i < signers_.length; ++i) {
            isSigner[signers_[i]] = true;
            _signers.push(signers_[i]);
        }
        quorum = quorum_;
        disputeQuorum = disputeQuorum_;
        emit SignerSetChanged(signers_, quorum_, disputeQuorum_);
    }

    function _requireFinal(bytes32 modelId, uint256 round) private view {
        if (_models[modelId].modeller == address(0)) revert ModelNotRegistered(modelId);
        Progress memory p = _progress[modelId];
        // firstRound >= 1 for a registered model; written so that no round number can overflow
        if (round < p.firstRound - 1 || round > p.lastFinal) revert RoundNotPosted(modelId, round);
    }
}
