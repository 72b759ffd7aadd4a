// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBackingSeries} from "../interfaces/series/IBackingSeries.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {ISeriesFactory} from "../interfaces/series/ISeriesFactory.sol";
import {SeriesBooks} from "./SeriesBooks.sol";
import {SeriesPositions} from "./SeriesPositions.sol";
import {SeriesSettlement} from "./SeriesSettlement.sol";
import {SeriesTerms} from "./SeriesTerms.sol";

/// @title BackingSeries
/// @notice A modeller's successive backing agreements for one model, in one contract so that rolling a claim into
///         the next agreement moves no tokens. Each agreement runs the life of a BackingAgreement (open, lock,
///         mature, repay or default); the series adds positions that keep a high-water mark per cohort, rollover
///         with consent, clawback escrow, commitment discounts and transfers. docs/series.md states every rule;
///         `backing/model/series.py` is the reference model this contract matches to the wei.
/// @dev Nothing loops over backers or past agreements. An agreement keeps O(1) aggregates (and at most
///      MAX_COHORTS + 1 cohort records); a position's outcome is a function of its own record and its
///      agreement's aggregates, computed when the position is first touched after its agreement ended
///      (`SeriesSettlement.evaluate`). The only loops are over an agreement's cohorts (<= 9), a position's four
///      escrow windows, one owner's positions in one agreement (<= MAX_OWNER_POSITIONS) and the terms' fee tiers.
///      The state is one struct (SeriesBooks.State) that the linked libraries SeriesSettlement (settlement math,
///      claims, rolls), SeriesPositions (position books) and SeriesTerms (terms) work on by DELEGATECALL, so that
///      the contract has room under the code-size limit; the checks, phase changes and token calls stay here.
///      NMR owed to the modeller (upfront fee, reserve returned, released held fees, charge-backs, dust) is
///      credited and collected by him (`collect`), so no backer's transaction depends on the modeller's address.
///      Functions that call the token are nonReentrant; roll, executeRoll, transfer and poke make no external call.
contract BackingSeries is IBackingSeries {
    using SafeERC20 for IERC20;
    using SeriesBooks for SeriesBooks.State;

    /// @inheritdoc IBackingSeries
    uint256 public constant BPS = 10_000;
    /// @inheritdoc IBackingSeries
    uint256 public constant ONE = 1e18; //                   the series price starts at 1
    /// @inheritdoc IBackingSeries
    uint256 public constant MAX_COHORTS = 8;
    /// @inheritdoc IBackingSeries
    uint256 public constant MAX_OWNER_POSITIONS = 8; //      an owner's positions in one agreement
    /// @inheritdoc IBackingSeries
    uint256 public constant ROLL_WINDOW = 1 hours;

    /// @inheritdoc IBackingSeries
    IERC20 public immutable token;
    /// @inheritdoc IBackingSeries
    IScoreOracle public immutable oracle;
    /// @inheritdoc IBackingSeries
    address public immutable factory;

    /// @inheritdoc IBackingSeries
    address public modeller;
    /// @inheritdoc IBackingSeries
    bytes32 public modelId;
    /// @inheritdoc IBackingSeries
    uint256 public price;
    /// @inheritdoc IBackingSeries
    bool public ended;
    /// @inheritdoc IBackingSeries
    mapping(address => mapping(address => bool)) public isOperator;
    /// @inheritdoc IBackingSeries
    mapping(address => mapping(address => bool)) public acceptsTransfersFrom;
    /// @dev Agreements, positions, cohorts, escrow and the modeller's credit (SeriesBooks.State).
    SeriesBooks.State private _s;

    /// @dev OpenZeppelin's ReentrancyGuard, its flag packed into the series' counters slot (read by nearly every
    ///      transaction anyway) instead of a slot of its own: one cold storage access less per call.
    modifier nonReentrant() {
        _enter();
        _;
        _s.entered = false;
    }

    modifier onlyModeller() {
        if (msg.sender != modeller) revert NotModeller(msg.sender);
        _;
    }

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    /// @param factory_ The only address allowed to initialise a series.
    constructor(IERC20 token_, IScoreOracle oracle_, address factory_) {
        token = token_;
        oracle = oracle_;
        factory = factory_;
    }

    /// @inheritdoc IBackingSeries
    function initialize(address modeller_, bytes32 modelId_) external {
        if (msg.sender != factory) revert NotFactory(msg.sender);
        if (price != 0) revert AlreadyInitialized();
        if (modeller_ == address(0)) revert ModellerZero();
        modeller = modeller_;
        modelId = modelId_;
        price = ONE;
        emit SeriesInitialized(modeller_, modelId_);
    }

    // ======================================================================================== agreements

    /// @inheritdoc IBackingSeries
    function openAgreement(
        Terms calldata terms,
        FeeTier[] calldata feeLadder,
        uint256 clawbackBps,
        uint256 clawbackAgreements,
        Commitment[] calldata commitments
    ) external onlyModeller nonReentrant returns (uint256 index) {
        if (ended) revert SeriesEnded();
        index = _s.agreementCount;
        if (index != 0) {
            SeriesBooks.Agreement storage last = _s.agreements[index - 1];
            if (last.phase == Phase.Open) revert NextAlreadyOpen(index - 1);
            // positions waiting to roll out of a cancelled agreement's predecessor roll into this one (issue 21 F2)
            if (last.phase == Phase.Cancelled) _s.agreements[index].cancelledBefore = last.cancelledBefore + 1;
        }
        SeriesTerms.checkOwner(oracle, modelId, modeller, terms.modelId, terms.requireAttestedModel);
        SeriesTerms.store(
            _s.agreements[index].config, index, terms, feeLadder, clawbackBps, clawbackAgreements, commitments
        );
        _s.agreements[index].lockupRounds = uint32(terms.lockupRounds); // checked by SeriesTerms.store
        _s.agreementCount = uint64(index + 1);
        _s.rollsOpenSince = uint40(block.timestamp);
    }

    /// @inheritdoc IBackingSeries
    function postReserve(uint256 index, uint256 amount) external onlyModeller nonReentrant {
        SeriesBooks.Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Open, Phase.Locked);
        if (amount == 0) revert ZeroAmount();
        uint256 reserve = a.reserve + amount;
        a.reserve = reserve;
        a.balance = SafeCast.toUint128(a.balance + amount);
        emit SeriesReservePosted(index, amount, reserve);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IBackingSeries
    function deposit(uint256 units, uint256 commit) external nonReentrant returns (uint256 positionId) {
        uint256 index = _latestIndex();
        SeriesBooks.Agreement storage a = _s.agreements[index];
        _requirePhase(a, Phase.Open, Phase.Open);
        SeriesTerms.Config storage config = a.config;
        if (block.timestamp > config.openUntil) revert DepositWindowClosed(config.openUntil);
        if (units == 0) revert ZeroAmount();
        uint256 amount = units * config.unitSize;
        uint256 available = SeriesBooks.room(a); // committed rolls may have filled it past the cap
        if (amount > available) revert CapacityExceeded(amount, available);
        // Issue 12 L-1: once a reserve is posted, no deposit takes the stake beyond what it covers
        uint256 posted = a.reserve;
        if (posted != 0) {
            (, , uint256 required) = _reserveFor(config, a.capital + amount);
            if (required > posted) revert DepositBeyondReserve(required, posted);
        }
        (uint32 endPlusOne, uint16 share, bytes32 econ) = SeriesBooks.commitmentKey(index, config, commit);
        positionId = SeriesPositions.deposit(_s, index, msg.sender, endPlusOne, share, econ, amount);
        a.balance = SafeCast.toUint128(a.balance + amount);
        emit PositionDeposited(index, positionId, msg.sender, amount, int256(uint256(endPlusOne)) - 1);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IBackingSeries
    function withdraw(uint256 units, uint256 commit) external nonReentrant {
        uint256 index = _latestIndex();
        SeriesBooks.Agreement storage a = _s.agreements[index];
        _requirePhase(a, Phase.Open, Phase.Open);
        if (units == 0) revert ZeroAmount();
        SeriesTerms.Config storage config = a.config;
        uint256 endPlusOne = commit == 0 ? 0 : index + commit;
        uint256 positionId = 0;
        uint256 heldUnits = 0;
        if (commit == 0 || SeriesBooks.hasCommitment(config, commit)) {
            (uint32 e, uint16 share, bytes32 econ) = SeriesBooks.commitmentKey(index, config, commit);
            positionId = _s.find(index, msg.sender, 0, e, share, econ);
            endPlusOne = e;
        }
        if (positionId != 0) heldUnits = _s.positions[positionId].capital / config.unitSize;
        if (units > heldUnits) revert InsufficientUnits(units, heldUnits);
        uint256 amount = units * config.unitSize;
        SeriesPositions.withdraw(_s, index, positionId, amount);
        a.balance = uint128(a.balance - amount);
        emit PositionWithdrawn(index, positionId, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IBackingSeries
    function cancel() external nonReentrant {
        uint256 index = _latestIndex();
        SeriesBooks.Agreement storage a = _s.agreements[index];
        _requirePhase(a, Phase.Open, Phase.Open);
        if (msg.sender != modeller && block.timestamp <= a.config.openUntil) {
            revert OpenWindowNotOver(a.config.openUntil);
        }
        _cancel(index);
    }

    /// @inheritdoc IBackingSeries
    function lock() external onlyModeller nonReentrant {
        uint256 index = _latestIndex();
        SeriesBooks.Agreement storage a = _s.agreements[index];
        (uint256 fee, uint256 staked) = _lockAmounts(a);
        uint256 priceStart = price;
        if (priceStart == 0) revert SeriesWipedOut();
        if (ended) revert SeriesEnded();
        if (_s.previousPlusOne(index) != 0) {
            // something could roll in: give the rolls their window first
            uint256 rollsUntil = uint256(_s.rollsOpenSince) + ROLL_WINDOW;
            if (block.timestamp < rollsUntil) revert RollWindowOpen(rollsUntil);
        }
        // terms that require an attested model lock only while the oracle still attests it
        if (a.config.requireAttestedModel && !oracle.isAttested(modelId)) revert ModelNotAttested(modelId);
        // the next round, checked for this model as an agreement's lock checks it: registered, started, its index
        // not wiped out or too small to measure a lockup (IndexTooLow; issue 20 N-3)
        uint256 start = oracle.startRoundFor(modelId);

        a.phase = Phase.Locked;
        _s.livePlusOne = uint32(index + 1);
        a.startRound = uint64(start);
        a.staked = staked;
        a.upfrontFee = fee;
        a.priceStart = priceStart;
        uint256 cohorts = SeriesSettlement.lockCohorts(a, index, priceStart);
        a.balance = uint128(a.balance - (fee + staked));
        emit SeriesLocked(index, start, a.capital, fee, staked, a.reserve, priceStart, cohorts);
        _s.credit(fee);
        token.safeTransfer(a.config.stakingAddress, staked);
    }

    /// @dev The lock's checks, in the reference model's order, and (upfront fee, staked capital).
    function _lockAmounts(SeriesBooks.Agreement storage a) private view returns (uint256 fee, uint256 staked) {
        _requirePhase(a, Phase.Open, Phase.Open);
        SeriesTerms.Config storage config = a.config;
        if (block.timestamp > config.openUntil) revert DepositWindowClosed(config.openUntil);
        uint256 live = _s.livePlusOne;
        if (live != 0) revert PreviousNotSettled(live - 1);
        uint256 capital = a.capital;
        uint256 minimum = uint256(config.minUnits) * config.unitSize;
        if (capital < minimum) revert BelowMinCapital(capital, minimum);
        uint256 required;
        (fee, staked, required) = _reserveFor(config, capital);
        if (a.reserve < required) revert ReserveTooSmall(a.reserve, required);
    }

    /// @dev (upfront fee, staked capital, required reserve) of a lock with `capital`.
    function _reserveFor(SeriesTerms.Config storage config, uint256 capital)
        private
        view
        returns (uint256 fee, uint256 staked, uint256 required)
    {
        fee = (capital * config.upfrontFeeBps) / BPS;
        staked = capital - fee;
        required = Math.mulDiv(staked, config.reserveRatioBps, BPS, Math.Rounding.Ceil);
    }

    // ======================================================================================== maturity

    /// @inheritdoc IBackingSeries
    function mature(uint256 index) external nonReentrant {
        SeriesBooks.Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Locked, Phase.Locked);
        uint256 start = a.startRound;
        uint256 end = start + a.lockupRounds - 1;
        (uint256 startIndex, uint256 endIndex, uint256 lastFinal, bool complete) =
            oracle.settlementIndices(modelId, start, end);
        if (!complete) revert RoundsOutstanding(lastFinal, end);
        if (lastFinal < end) emit SeriesMaturedOnFallback(index, lastFinal, end);

        SeriesSettlement.fixAmounts(a, startIndex, endIndex);
        uint256 deadline_ = block.timestamp + a.config.windDown;
        a.deadline = uint40(deadline_);
        a.phase = Phase.Matured;
        _emitMatured(index, a, deadline_);
        // slither-disable-next-line incorrect-equality -- nothing owed (V = 0): settle at once, as the model does
        if (a.amountDue == 0) _settle(index, a);
    }

    /// @inheritdoc IBackingSeries
    function repay(uint256 index, uint256 amount) external nonReentrant {
        SeriesBooks.Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Matured, Phase.Matured);
        if (amount == 0) revert ZeroAmount();
        uint256 paid = a.repaid;
        uint256 outstanding = a.amountDue - paid;
        if (amount > outstanding) revert RepaymentExceedsDue(amount, outstanding);
        a.repaid = paid + amount;
        a.balance = SafeCast.toUint128(a.balance + amount);
        emit SeriesRepaid(index, msg.sender, amount, paid + amount);
        // slither-disable-next-line reentrancy-no-eth -- the immutable NMR token, under nonReentrant; settling needs the funds in
        token.safeTransferFrom(msg.sender, address(this), amount);
        if (amount == outstanding) _settle(index, a);
    }

    /// @inheritdoc IBackingSeries
    function declareDefault(uint256 index) external nonReentrant {
        SeriesBooks.Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Matured, Phase.Matured);
        if (block.timestamp <= a.deadline) revert WindDownNotOver(a.deadline);
        // after a gain the modeller may have repaid more than owedTotal (the held fees' part of what is due)
        uint256 used = a.owedTotal > a.repaid ? Math.min(a.reserve, a.owedTotal - a.repaid) : 0;
        uint256 pool = a.repaid + used;
        uint256 returned = a.reserve - used;
        a.phase = Phase.Defaulted;
        a.defaultPool = pool;
        a.reserveReturned = returned;
        a.balance = uint128(a.balance - returned);
        ended = true;
        _s.livePlusOne = 0;
        emit SeriesDefaulted(index, msg.sender, used, returned, pool);
        _s.credit(returned);
        _cancelOpen();
        ISeriesFactory(factory).recordDefault(modeller);
    }

    // ======================================================================================== positions

    /// @inheritdoc IBackingSeries
    function roll(uint256 positionId, uint256 amount, uint256 commit, bytes32 termsHash)
        external
        returns (uint256 newPositionId)
    {
        SeriesBooks.Position storage p = _position(positionId);
        if (msg.sender != p.owner) revert NotOwner(msg.sender);
        if (amount == 0) {
            // revoke the consent (a commitment's standing roll is not a consent: it stays)
            if (p.intent == 0) revert NoConsent(positionId);
            p.intent = 0;
            p.intentCommit = 0;
            emit RollConsented(positionId, 0, 0);
            return 0;
        }
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = _s.agreements[index];
        Phase phase = a.phase;
        if (phase != Phase.Locked && phase != Phase.Matured && phase != Phase.Settled && !_rolledIn(a, p)) {
            revert WrongPhase(phase);
        }
        uint256 next = _s.rollTarget(index);
        SeriesTerms.Config storage nextConfig = _s.agreements[next].config;
        if (termsHash != bytes32(0) && termsHash != nextConfig.termsHash) revert TermsMismatch(next);
        if (p.done || p.rolled != 0) revert PositionClaimed(positionId);
        if (commit != 0) {
            if (!SeriesBooks.hasCommitment(nextConfig, commit)) revert NoSuchCommitment(commit);
            if (p.commitEndPlusOne > next && nextConfig.economics == p.commitEconomics) {
                revert AlreadyCommitted(p.commitEndPlusOne - 1);
            }
        }
        p.intent = amount;
        p.intentCommit = uint8(commit);
        emit RollConsented(positionId, amount, commit);
        if (phase == Phase.Settled || phase == Phase.Cancelled) {
            newPositionId = SeriesSettlement.executeRoll(_s, positionId, index, next);
        }
    }

    /// @inheritdoc IBackingSeries
    function executeRoll(uint256 positionId) external returns (uint256 newPositionId) {
        SeriesBooks.Position storage p = _position(positionId);
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = _s.agreements[index];
        if (!_rolledIn(a, p)) _requirePhase(a, Phase.Settled, Phase.Settled);
        uint256 next = _s.rollTarget(index);
        if (p.done || p.rolled != 0) revert PositionClaimed(positionId);
        if (p.intent == 0) {
            if (!_s.continues(p, next)) revert NoConsent(positionId);
            p.intent = SeriesBooks.ALL;
        }
        newPositionId = SeriesSettlement.executeRoll(_s, positionId, index, next);
    }

    /// @inheritdoc IBackingSeries
    function claim(uint256 positionId) external nonReentrant returns (uint256 amount) {
        SeriesBooks.Position storage p = _position(positionId);
        if (msg.sender != p.owner && !isOperator[p.owner][msg.sender]) revert NotOwner(msg.sender);
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = _s.agreements[index];
        _requireFinished(a);
        if (p.done) revert PositionClaimed(positionId);
        amount = SeriesSettlement.claim(_s, positionId);
        address owner = p.owner;
        if (amount != 0) token.safeTransfer(owner, amount);
    }

    /// @inheritdoc IBackingSeries
    function transfer(uint256 positionId, address to, uint256 amount)
        external
        returns (uint256 toPositionId)
    {
        SeriesBooks.Position storage p = _position(positionId);
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = _s.agreements[index];
        _requirePhase(a, Phase.Locked, Phase.Locked);
        if (msg.sender != p.owner && !isOperator[p.owner][msg.sender]) revert NotOwner(msg.sender);
        if (to == modeller) revert TransferToModeller(to);
        if (to == address(this) || to == a.config.stakingAddress) revert TransferToAgreement(to);
        if (to == p.owner) revert TransferToSelf(to);
        if (to == address(0)) revert TransferToZero();
        if (to != msg.sender && !acceptsTransfersFrom[to][msg.sender]) revert TransferNotAccepted(to, msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 capital = p.capital;
        if (amount > capital) revert InsufficientCapital(amount, capital);

        toPositionId = SeriesPositions.transfer(_s, positionId, to, amount);
    }

    /// @inheritdoc IBackingSeries
    function setOperator(address operator, bool approved) external {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc IBackingSeries
    function acceptTransfers(address caller_, bool accepted) external {
        acceptsTransfersFrom[msg.sender][caller_] = accepted;
        emit TransfersAccepted(msg.sender, caller_, accepted);
    }

    /// @inheritdoc IBackingSeries
    function poke(uint256 positionId) external {
        SeriesBooks.Position storage p = _position(positionId);
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = _s.agreements[index];
        Phase phase = a.phase;
        if (phase == Phase.Settled || phase == Phase.Defaulted || phase == Phase.Cancelled) {
            SeriesSettlement.evaluate(_s, positionId);
        }
        // it can no longer roll (a later agreement locked without it): it left the series
        if ((phase == Phase.Settled || phase == Phase.Cancelled) && !p.done && !_s.canStillRoll(index)) {
            _s.releaseAll(positionId);
        }
    }

    /// @inheritdoc IBackingSeries
    function collect() external nonReentrant {
        uint256 amount = _s.modellerCredit;
        // slither-disable-next-line incorrect-equality -- the modeller's own credit: zero only means nothing to collect
        if (amount == 0) revert NothingToCollect();
        _s.modellerCredit = 0;
        address to = modeller;
        emit ModellerCollected(to, amount);
        token.safeTransfer(to, amount);
    }

    // ======================================================================================== views

    /// @inheritdoc IBackingSeries
    function rollsOpenUntil() external view returns (uint256) {
        uint256 count = _s.agreementCount;
        // slither-disable-next-line incorrect-equality -- a count and an index, not a balance or a time
        if (count == 0 || _s.previousPlusOne(count - 1) == 0) return 0;
        return uint256(_s.rollsOpenSince) + ROLL_WINDOW;
    }

    /// @inheritdoc IBackingSeries
    function agreementCount() external view returns (uint256) {
        return _s.agreementCount;
    }

    /// @inheritdoc IBackingSeries
    function escrow() external view returns (uint256) {
        return _s.escrow;
    }

    /// @inheritdoc IBackingSeries
    function modellerCredit() external view returns (uint256) {
        return _s.modellerCredit;
    }

    /// @inheritdoc IBackingSeries
    function positionCount() external view returns (uint256) {
        return _s.positionCount;
    }

    /// @inheritdoc IBackingSeries
    function agreement(uint256 index) external view returns (AgreementView memory v) {
        SeriesBooks.Agreement storage a = _agreement(index);
        v.phase = a.phase;
        v.capital = a.capital;
        v.reserve = a.reserve;
        v.repaid = a.repaid;
        v.staked = a.staked;
        v.upfrontFee = a.upfrontFee;
        v.finalValue = a.finalValue;
        v.amountDue = a.amountDue;
        v.owedTotal = a.owedTotal;
        v.coverBound = a.coverBound;
        v.feeLowerBound = a.feeLowerBound;
        v.defaultPool = a.defaultPool;
        v.priceStart = a.priceStart;
        v.priceEnd = a.priceEnd;
        v.startRound = a.startRound;
        v.deadline = a.deadline;
        v.positions = a.positions;
        v.positionsDone = a.positionsDone;
        v.balance = a.balance;
        v.reserveReturned = a.reserveReturned;
        v.cohorts = a.cohortCount;
        v.economics = a.config.economics;
        v.termsHash = a.config.termsHash;
    }

    /// @inheritdoc IBackingSeries
    function cohortsOf(uint256 index)
        external
        view
        returns (uint256[] memory marks, uint256[] memory weights, uint256[] memory counts)
    {
        SeriesBooks.Agreement storage a = _agreement(index);
        marks = new uint256[](a.cohortCount);
        for (uint256 i = 0; i < marks.length; ++i) {
            marks[i] = a.marks[i];
        }
        weights = new uint256[](marks.length);
        counts = new uint256[](marks.length);
        for (uint256 i = 0; i < marks.length; ++i) {
            weights[i] = a.cohorts[marks[i]].weight;
            counts[i] = a.cohorts[marks[i]].count;
        }
    }

    /// @inheritdoc IBackingSeries
    function positionOf(uint256 positionId) external view returns (PositionView memory v) {
        SeriesBooks.Position storage p = _position(positionId);
        SeriesBooks.Agreement storage a = _s.agreements[p.agreement];
        v.owner = p.owner;
        v.agreement = p.agreement;
        v.capital = p.capital;
        // an evaluated position holds its new mark, which may equal the lock's liftedFrom: not lifted again
        v.mark = a.phase == Phase.Open || p.evaluated != 0 ? SeriesBooks.markOf(a, p) : SeriesBooks.effectiveMark(a, p.mark);
        v.commitEnd = int256(uint256(p.commitEndPlusOne)) - 1;
        v.commitShareBps = p.commitShareBps;
        for (uint256 i = 0; i < SeriesBooks.WINDOWS; ++i) {
            v.held += p.held[i];
        }
        v.discount = p.discount;
        v.claimable = p.claimable;
        v.rolled = p.rolled;
        v.chargedBack = p.chargedBack;
        v.intent = p.intent;
        v.evaluated = p.evaluated != 0;
        v.done = p.done;
    }

    /// @inheritdoc IBackingSeries
    function heldOf(uint256 positionId) external view returns (uint256[4] memory held) {
        SeriesBooks.Position storage p = _position(positionId);
        for (uint256 i = 0; i < SeriesBooks.WINDOWS; ++i) {
            held[i] = p.held[i];
        }
    }

    /// @inheritdoc IBackingSeries
    function outcomeOf(uint256 positionId) external view returns (IBackingSeries.Outcome memory) {
        SeriesBooks.Position storage p = _position(positionId);
        SeriesBooks.Agreement storage a = _s.agreements[p.agreement];
        if (a.phase != Phase.Matured && a.phase != Phase.Settled && a.phase != Phase.Defaulted) {
            revert WrongPhase(a.phase);
        }
        return SeriesSettlement.outcome(_s, positionId);
    }

    /// @inheritdoc IBackingSeries
    function positionsOf(uint256 index, address owner) external view returns (uint256[] memory, uint256) {
        return (_s.ownedIds(index, owner), _s.ownerCapital(index, owner));
    }



    // ======================================================================================== internals: lifecycle

    function _emitMatured(uint256 index, SeriesBooks.Agreement storage a, uint256 deadline_) private {
        emit SeriesMatured(
            index, a.finalValue, a.priceEnd, a.amountDue, a.owedTotal, a.coverBound, a.feeLowerBound, deadline_
        );
    }

    function _settle(uint256 index, SeriesBooks.Agreement storage a) private {
        uint256 used = a.finalValue < a.staked ? Math.min(a.reserve, a.coverBound) : 0;
        uint256 returned = a.reserve - used;
        a.phase = Phase.Settled;
        a.reserveReturned = returned;
        a.balance = uint128(a.balance - returned);
        uint256 priceEnd = a.priceEnd;
        price = priceEnd;
        _s.livePlusOne = 0;
        _s.rollsOpenSince = uint40(block.timestamp);
        emit SeriesSettled(index, used, returned, priceEnd);
        _s.credit(returned);
        if (priceEnd == 0) {
            ended = true; // wiped out: nothing can lock again, so the open agreement is cancelled at once
            _cancelOpen();
        }
    }

    /// @dev The series has ended: cancel the agreement still open, if any (it is the latest), so its capital can
    ///      be claimed back at once.
    function _cancelOpen() private {
        uint256 latest = _s.agreementCount - 1;
        // slither-disable-next-line incorrect-equality -- a phase (an enum), not a balance or a time
        if (_s.agreements[latest].phase == Phase.Open) _cancel(latest);
    }

    function _cancel(uint256 index) private {
        SeriesBooks.Agreement storage a = _s.agreements[index];
        a.phase = Phase.Cancelled;
        uint256 returned = a.reserve;
        a.reserveReturned = returned;
        a.balance = uint128(a.balance - returned);
        emit SeriesCancelled(index, msg.sender, returned);
        _s.credit(returned);
        _s.maybeSweep(index);
    }

    // ======================================================================================== internals: positions

    // ======================================================================================== internals: access

    function _enter() private {
        if (_s.entered) revert ReentrancyGuardReentrantCall();
        _s.entered = true;
    }

    function _latestIndex() private view returns (uint256) {
        uint256 count = _s.agreementCount;
        // slither-disable-next-line incorrect-equality -- a count, not a balance or a time
        if (count == 0) revert NoAgreement();
        return count - 1;
    }

    function _agreement(uint256 index) private view returns (SeriesBooks.Agreement storage) {
        if (index >= _s.agreementCount) revert UnknownAgreement(index);
        return _s.agreements[index];
    }

    function _position(uint256 positionId) private view returns (SeriesBooks.Position storage p) {
        p = _s.positions[positionId];
        if (p.owner == address(0)) revert UnknownPosition(positionId);
    }

    /// @dev A position rolled into an agreement that was then cancelled: it keeps its mark, held fees and
    ///      commitment and may roll on into the next agreement that opens (fresh capital there is only paid back).
    function _rolledIn(SeriesBooks.Agreement storage a, SeriesBooks.Position storage p) private view returns (bool) {
        return a.phase == Phase.Cancelled && p.mark != 0;
    }

    function _requirePhase(SeriesBooks.Agreement storage a, Phase one, Phase other) private view {
        if (a.phase != one && a.phase != other) revert WrongPhase(a.phase);
    }

    function _requireFinished(SeriesBooks.Agreement storage a) private view {
        Phase phase_ = a.phase;
        if (phase_ != Phase.Settled && phase_ != Phase.Defaulted && phase_ != Phase.Cancelled) {
            revert WrongPhase(phase_);
        }
    }
}
