// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IBackingSeries} from "../interfaces/series/IBackingSeries.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {ISeriesFactory} from "../interfaces/series/ISeriesFactory.sol";
import {SeriesTerms} from "./SeriesTerms.sol";

/// @title BackingSeries
/// @notice A modeller's successive backing agreements for one model, in one contract so that rolling a claim into
///         the next agreement moves no tokens. Each agreement runs the life of a BackingAgreement (open, lock,
///         mature, repay or default); the series adds positions that keep a high-water mark per cohort, rollover
///         with consent, clawback escrow, commitment discounts and transfers. docs/series.md states every rule;
///         `backing/series.py` is the reference model this contract matches to the wei.
/// @dev Nothing loops over backers or past agreements. An agreement keeps O(1) aggregates (and at most
///      MAX_COHORTS + 1 cohort records); a position's outcome is a function of its own record and its
///      agreement's aggregates, computed when the position is first touched after its agreement ended
///      (`_evaluate`). The only loops are over an agreement's cohorts (<= 9), a position's four escrow windows,
///      one owner's positions in one agreement (<= MAX_OWNER_POSITIONS) and the terms' fee tiers.
///      NMR owed to the modeller (upfront fee, reserve returned, released held fees, charge-backs, dust) is
///      credited and collected by him (`collect`), so no backer's transaction depends on the modeller's address.
///      Functions that call the token are nonReentrant; roll, executeRoll, transfer and poke make no external call.
contract BackingSeries is IBackingSeries, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant BPS = 10_000;
    uint256 public constant ONE = 1e18; //                   the series price starts at 1
    uint256 public constant MAX_COHORTS = 8;
    uint256 public constant MAX_OWNER_POSITIONS = 8; //      an owner's positions in one agreement
    uint256 private constant _ALL = type(uint256).max;
    uint256 private constant _WINDOWS = 4; //                escrow windows per position (= MAX_CLAWBACK_AGREEMENTS)

    /// @notice The staked token (NMR), the oracle and the factory: the implementation's, shared by every clone.
    IERC20 public immutable token;
    IScoreOracle public immutable oracle;
    address public immutable factory;

    /// @dev O(1) state of one agreement.
    struct Agreement {
        SeriesTerms.Config config;
        Phase phase;
        uint64 startRound;
        uint40 deadline;
        uint32 positions; //     live positions (capital > 0)
        uint32 positionsDone; // of which done (claimed, or wholly rolled)
        uint256 capital;
        uint256 reserve;
        uint256 repaid;
        uint256 balance; //      what this agreement holds here (escrow is counted apart)
        uint256 staked;
        uint256 upfrontFee;
        uint256 finalValue;
        uint256 amountDue;
        uint256 owedTotal;
        uint256 coverBound;
        uint256 feeLowerBound;
        uint256 defaultPool;
        uint256 reserveReturned;
        uint256 priceStart;
        uint256 priceEnd;
        uint256 liftedFrom; //   the cohort cap's lift at lock (0: none)
        uint256 liftedTo;
        uint256[] marks; //      distinct cohort marks (0: fresh capital, until the lock)
        mapping(uint256 => Cohort) cohorts; // by mark
    }

    /// @dev W_c = sum of capital * fee rate, n_c = positions, per cohort (kept incrementally).
    struct Cohort {
        uint256 weight;
        uint256 count;
    }

    struct Position {
        address owner;
        uint32 agreement;
        uint32 commitEndPlusOne; // 0: not committed; else the last agreement of the commitment, plus one
        uint16 commitShareBps;
        bool evaluated;
        bool done;
        uint8 intentCommit;
        bytes32 commitEconomics;
        uint256 mark; //            0: fresh capital (its mark is the agreement's P_start)
        uint256 capital;
        uint256 weight; //          capital * fee rate, as counted in its cohort's W_c
        uint256 discount;
        uint256 claimable;
        uint256 rolled;
        uint256 chargedBack;
        uint256 intent; //          consented roll: 0 none, _ALL all, else wei
        uint256[4] held; //         escrow windows, by the agreement index at whose settlement each is released, mod 4
    }

    /// @dev What a position's agreement gives it, computed from the position and the agreement's aggregates.
    struct Outcome {
        uint256 fee;
        uint256 heldFee;
        uint256 discountAccrued;
        uint256 clawback;
        uint256 cover;
        uint256 claimable;
        uint256 mark;
    }

    address public modeller;
    bytes32 public modelId;
    /// @notice Agreements opened so far; the series price P; whether the series has ended (default or P = 0).
    uint256 public agreementCount;
    uint256 public price;
    bool public ended;
    /// @notice Held fees in escrow (all positions), and NMR credited to the modeller, not yet collected.
    uint256 public escrow;
    uint256 public modellerCredit;
    /// @notice Positions created so far (ids start at 1).
    uint256 public positionCount;

    mapping(uint256 => Agreement) private _agreements;
    mapping(uint256 => Position) private _positions;
    /// @dev keccak(agreement, owner, mark, commitment key) => position id: the one position a deposit, roll or
    ///      transfer adds to.
    mapping(bytes32 => uint256) private _positionIds;
    /// @dev An owner's capital and live positions in one agreement (his fee tier is by the total).
    mapping(uint256 => mapping(address => uint256)) private _ownerCapital;
    /// @notice Whether `operator` may transfer and claim `owner`'s positions (a marketplace or escrow).
    mapping(address => mapping(address => bool)) public isOperator;
    /// @notice Whether `receiver` accepts positions transferred to him by `caller`.
    mapping(address => mapping(address => bool)) public acceptsTransfersFrom;
    // slither-disable-next-line uninitialized-state -- filled through storage pointers (`owned.push` in _create)
    mapping(uint256 => mapping(address => uint256[])) private _ownerPositions;

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

    /// @notice Start the series. Called once by the factory in the transaction that deploys it.
    /// @param modeller_ The model's owner.
    /// @param modelId_ The Numerai model, as registered in the score oracle.
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

    /// @notice Open the next agreement of the series with (possibly new) terms, while the current one is locked
    ///         or after it. New terms bind only backers who deposit into it or consent to roll into it.
    /// @param terms The single-agreement terms; `modelId` must be the series' model.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits (a tier is by an owner's total capital).
    /// @param clawbackBps Part of each profit fee held in escrow (both this and the next zero, or both set).
    /// @param clawbackAgreements Agreements the held part stays in escrow for (<= 4).
    /// @param commitments Up to 4 fee schedules by commitment, ascending in 2..8 agreements.
    /// @return index The new agreement's index.
    function openAgreement(
        Terms calldata terms,
        FeeTier[] calldata feeLadder,
        uint256 clawbackBps,
        uint256 clawbackAgreements,
        Commitment[] calldata commitments
    ) external onlyModeller nonReentrant returns (uint256 index) {
        if (ended) revert SeriesEnded();
        index = agreementCount;
        if (index != 0 && _agreements[index - 1].phase == Phase.Open) revert NextAlreadyOpen(index - 1);
        if (terms.modelId != modelId) revert ModelMismatch(terms.modelId, modelId);
        (bytes32 economics, bytes32 termsHash) = SeriesTerms.store(
            _agreements[index].config, terms, feeLadder, clawbackBps, clawbackAgreements, commitments
        );
        agreementCount = index + 1;
        emit AgreementOpened(
            index, terms, feeLadder, clawbackBps, clawbackAgreements, commitments, economics, termsHash
        );
    }

    /// @notice Post or top up the reserve of an agreement (Open or Locked).
    /// @param index The agreement.
    /// @param amount NMR to add; needs an allowance.
    function postReserve(uint256 index, uint256 amount) external onlyModeller nonReentrant {
        Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Open, Phase.Locked);
        if (amount == 0) revert ZeroAmount();
        uint256 reserve = a.reserve + amount;
        a.reserve = reserve;
        a.balance += amount;
        emit SeriesReservePosted(index, amount, reserve);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Deposit fresh units into the open agreement, optionally committing to `commit` consecutive
    ///         agreements (one of the terms' commitment options; 0: none).
    /// @param units Units of `unitSize` NMR; needs an allowance.
    /// @param commit Agreements to commit to, or 0.
    /// @return positionId The position the units were added to.
    function deposit(uint256 units, uint256 commit) external nonReentrant returns (uint256 positionId) {
        uint256 index = _latestIndex();
        Agreement storage a = _agreements[index];
        _requirePhase(a, Phase.Open, Phase.Open);
        SeriesTerms.Config storage config = a.config;
        if (block.timestamp > config.openUntil) revert DepositWindowClosed(config.openUntil);
        if (units == 0) revert ZeroAmount();
        uint256 amount = units * config.unitSize;
        uint256 available = uint256(config.maxUnits) * config.unitSize - a.capital;
        if (amount > available) revert CapacityExceeded(amount, available);
        (uint32 endPlusOne, uint16 share, bytes32 econ) = _commitmentKey(index, config, commit);
        positionId = _findOrCreate(index, msg.sender, 0, endPlusOne, share, econ);
        _addCapital(index, positionId, amount);
        a.balance += amount;
        emit PositionDeposited(index, positionId, msg.sender, amount, int256(uint256(endPlusOne)) - 1);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraw fresh units from the open agreement (from the position with the same commitment).
    /// @param units Units to take back.
    /// @param commit The commitment the units were deposited with (0: none).
    function withdraw(uint256 units, uint256 commit) external nonReentrant {
        uint256 index = _latestIndex();
        Agreement storage a = _agreements[index];
        _requirePhase(a, Phase.Open, Phase.Open);
        if (units == 0) revert ZeroAmount();
        SeriesTerms.Config storage config = a.config;
        uint256 endPlusOne = commit == 0 ? 0 : index + commit;
        uint256 positionId = 0;
        uint256 heldUnits = 0;
        if (commit == 0 || _hasCommitment(config, commit)) {
            (uint32 e, uint16 share, bytes32 econ) = _commitmentKey(index, config, commit);
            positionId = _positionIds[_key(index, msg.sender, 0, e, share, econ)];
            endPlusOne = e;
        }
        if (positionId != 0) heldUnits = _positions[positionId].capital / config.unitSize;
        if (units > heldUnits) revert InsufficientUnits(units, heldUnits);
        uint256 amount = units * config.unitSize;
        _removeCapital(index, positionId, amount);
        a.balance -= amount;
        emit PositionWithdrawn(index, positionId, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Cancel the open agreement: the modeller at any time, anyone once its deposit window has closed.
    ///         Everyone (fresh or rolled) gets his capital back in full; the reserve returns to the modeller; held
    ///         fees of rolled positions are released (they left the series). Another agreement may then open.
    function cancel() external nonReentrant {
        uint256 index = _latestIndex();
        Agreement storage a = _agreements[index];
        _requirePhase(a, Phase.Open, Phase.Open);
        if (msg.sender != modeller && block.timestamp <= a.config.openUntil) {
            revert OpenWindowNotOver(a.config.openUntil);
        }
        _cancel(index);
    }

    /// @notice Lock the open agreement: fix the price P_start, give fresh capital its mark, apply the cohort cap,
    ///         credit the upfront fee and send the staked capital to the staking address. Needs the previous
    ///         agreement settled (or cancelled).
    function lock() external onlyModeller nonReentrant {
        uint256 index = _latestIndex();
        Agreement storage a = _agreements[index];
        (uint256 fee, uint256 staked) = _lockAmounts(index, a);
        uint256 priceStart = price;
        if (priceStart == 0) revert SeriesWipedOut();
        uint256 start = oracle.nextStartRound();
        // slither-disable-next-line unused-return -- a view returning a tuple; only firstRound is needed here
        (,, uint256 firstRound,) = oracle.modelInfo(modelId);
        if (start < firstRound) revert ModelNotStarted(start, firstRound);

        a.phase = Phase.Locked;
        a.startRound = uint64(start);
        a.staked = staked;
        a.upfrontFee = fee;
        a.priceStart = priceStart;
        uint256 cohorts = _lockCohorts(index, a, priceStart);
        a.balance -= fee + staked;
        emit SeriesLocked(index, start, a.capital, fee, staked, a.reserve, priceStart, cohorts);
        _credit(fee);
        token.safeTransfer(a.config.stakingAddress, staked);
    }

    /// @dev The lock's checks, in the reference model's order, and (upfront fee, staked capital).
    function _lockAmounts(uint256 index, Agreement storage a) private view returns (uint256 fee, uint256 staked) {
        _requirePhase(a, Phase.Open, Phase.Open);
        SeriesTerms.Config storage config = a.config;
        if (block.timestamp > config.openUntil) revert DepositWindowClosed(config.openUntil);
        if (index != 0) {
            Phase previous = _agreements[index - 1].phase;
            if (previous != Phase.Settled && previous != Phase.Cancelled) revert PreviousNotSettled(index - 1);
        }
        uint256 capital = a.capital;
        uint256 minimum = uint256(config.minUnits) * config.unitSize;
        if (capital < minimum) revert BelowMinCapital(capital, minimum);
        fee = (capital * config.upfrontFeeBps) / BPS;
        staked = capital - fee;
        uint256 required = Math.mulDiv(staked, config.reserveRatioBps, BPS, Math.Rounding.Ceil);
        if (a.reserve < required) revert ReserveTooSmall(a.reserve, required);
    }

    // ======================================================================================== maturity

    /// @notice Mature the locked agreement once its rounds are final at the oracle (or overdue: see
    ///         BackingAgreement.mature): fix V, P_end and what the modeller owes. Anyone may call.
    /// @param index The locked agreement.
    function mature(uint256 index) external nonReentrant {
        Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Locked, Phase.Locked);
        uint256 start = a.startRound;
        uint256 end = start + a.config.lockupRounds - 1;
        (uint256 startIndex, uint256 endIndex, uint256 lastFinal, bool complete) =
            oracle.settlementIndices(modelId, start, end);
        if (!complete) revert RoundsOutstanding(lastFinal, end);
        if (lastFinal < end) emit SeriesMaturedOnFallback(index, lastFinal, end);

        _fixAmounts(a, startIndex, endIndex);
        uint256 deadline_ = block.timestamp + a.config.windDown;
        a.deadline = uint40(deadline_);
        a.phase = Phase.Matured;
        _emitMatured(index, a, deadline_);
        // slither-disable-next-line incorrect-equality -- nothing owed (V = 0): settle at once, as the model does
        if (a.amountDue == 0) _settle(index, a);
    }

    /// @notice Repay part or all of what the matured agreement is due. Anyone may pay for the modeller; the
    ///         last part settles the agreement.
    /// @param index The matured agreement.
    /// @param amount NMR; at most what is outstanding.
    function repay(uint256 index, uint256 amount) external nonReentrant {
        Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Matured, Phase.Matured);
        if (amount == 0) revert ZeroAmount();
        uint256 paid = a.repaid;
        uint256 outstanding = a.amountDue - paid;
        if (amount > outstanding) revert RepaymentExceedsDue(amount, outstanding);
        a.repaid = paid + amount;
        a.balance += amount;
        emit SeriesRepaid(index, msg.sender, amount, paid + amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
        if (amount == outstanding) _settle(index, a);
    }

    /// @notice Declare a default once the wind-down has passed without full repayment. Anyone may call.
    ///         Positions share the repayment and as much reserve as they are owed, each gets all its held fees
    ///         back, the series ends and an open next agreement is cancelled.
    /// @param index The matured agreement.
    function declareDefault(uint256 index) external nonReentrant {
        Agreement storage a = _agreement(index);
        _requirePhase(a, Phase.Matured, Phase.Matured);
        if (block.timestamp <= a.deadline) revert WindDownNotOver(a.deadline);
        // after a gain the modeller may have repaid more than owedTotal (the held fees' part of what is due)
        uint256 used = a.owedTotal > a.repaid ? Math.min(a.reserve, a.owedTotal - a.repaid) : 0;
        uint256 pool = a.repaid + used;
        uint256 returned = a.reserve - used;
        a.phase = Phase.Defaulted;
        a.defaultPool = pool;
        a.reserveReturned = returned;
        a.balance -= returned;
        ended = true;
        emit SeriesDefaulted(index, msg.sender, used, returned, pool);
        _credit(returned);
        uint256 next = index + 1;
        if (next < agreementCount && _agreements[next].phase == Phase.Open) _cancel(next);
        ISeriesFactory(factory).recordDefault(modeller);
    }

    // ======================================================================================== positions

    /// @notice Consent to roll `amount` wei of the position's claim (type(uint256).max: all of it) into the next
    ///         agreement, whose terms the caller has seen (`termsHash`, checked unless zero), optionally committing
    ///         to `commit` agreements from there. Before settlement this records the consent, which anyone may
    ///         execute after it (`executeRoll`); after settlement the roll happens at once.
    /// @param positionId The caller's position.
    /// @param amount Wei of the claim to roll, or type(uint256).max for all; 0 revokes the caller's consent.
    /// @param commit Agreements to commit to in the next agreement (0: none).
    /// @param termsHash The next agreement's `termsHash` the caller consents to, or zero.
    /// @return newPositionId The position in the next agreement once rolled (0 if only consented).
    function roll(uint256 positionId, uint256 amount, uint256 commit, bytes32 termsHash)
        external
        returns (uint256 newPositionId)
    {
        Position storage p = _position(positionId);
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
        Agreement storage a = _agreements[index];
        if (a.phase != Phase.Locked && a.phase != Phase.Matured && a.phase != Phase.Settled) {
            revert WrongPhase(a.phase);
        }
        uint256 next = index + 1;
        if (next >= agreementCount || _agreements[next].phase != Phase.Open) revert NoOpenNextAgreement(index);
        SeriesTerms.Config storage nextConfig = _agreements[next].config;
        if (termsHash != bytes32(0) && termsHash != nextConfig.termsHash) revert TermsMismatch(next);
        if (p.done || p.rolled != 0) revert PositionClaimed(positionId);
        if (commit != 0) {
            if (!_hasCommitment(nextConfig, commit)) revert NoSuchCommitment(commit);
            if (p.commitEndPlusOne > next && nextConfig.economics == p.commitEconomics) {
                revert AlreadyCommitted(p.commitEndPlusOne - 1);
            }
        }
        p.intent = amount;
        p.intentCommit = uint8(commit);
        emit RollConsented(positionId, amount, commit);
        if (a.phase == Phase.Settled) newPositionId = _executeRoll(positionId, index);
    }

    /// @notice Carry out a consented roll, or a standing commitment on unchanged economics, after settlement.
    ///         Anyone may call (the modeller's keeper): the backer sends no transaction.
    /// @param positionId The position to roll.
    /// @return newPositionId Its position in the next agreement.
    function executeRoll(uint256 positionId) external returns (uint256 newPositionId) {
        Position storage p = _position(positionId);
        uint256 index = p.agreement;
        _requirePhase(_agreements[index], Phase.Settled, Phase.Settled);
        uint256 next = index + 1;
        if (next >= agreementCount || _agreements[next].phase != Phase.Open) revert NoOpenNextAgreement(index);
        if (p.done || p.rolled != 0) revert PositionClaimed(positionId);
        if (p.intent == 0) {
            if (!_continues(p, next)) revert NoConsent(positionId);
            p.intent = _ALL;
        }
        newPositionId = _executeRoll(positionId, index);
    }

    /// @notice Pay a position what it is due: Settled, the part not rolled (less the charge-back if it leaves a
    ///         commitment early); Defaulted, its pool share plus its own held fees; Cancelled, its capital.
    ///         By the owner or his operator (nobody else ends a position: no forced charge-back, no pre-empted
    ///         roll); the owner is paid. Its remaining held fees are released (it left the series).
    /// @param positionId The position.
    /// @return amount NMR paid to the owner.
    function claim(uint256 positionId) external nonReentrant returns (uint256 amount) {
        Position storage p = _position(positionId);
        if (msg.sender != p.owner && !isOperator[p.owner][msg.sender]) revert NotOwner(msg.sender);
        uint256 index = p.agreement;
        Agreement storage a = _agreements[index];
        _requireFinished(a);
        if (p.done) revert PositionClaimed(positionId);
        _evaluate(positionId);
        uint256 charge = 0;
        if (a.phase == Phase.Settled && p.rolled == 0 && _early(p, index)) {
            charge = Math.min(p.discount, p.claimable);
            if (charge != 0) {
                p.chargedBack = charge;
                p.claimable -= charge;
                a.balance -= charge;
                _credit(charge);
            }
        }
        p.discount = 0;
        _releaseAll(positionId);
        amount = p.claimable;
        p.claimable = 0;
        p.intent = 0;
        _markDone(index, a, p);
        a.balance -= amount;
        address owner = p.owner;
        emit PositionClaimedFrom(positionId, owner, amount, charge);
        _maybeSweep(index, a);
        if (amount != 0) token.safeTransfer(owner, amount);
    }

    /// @notice Move `amount` wei of a locked position's capital to `to` (a sale before maturity); by the owner or
    ///         an operator he approved (`setOperator`). Its mark and
    ///         commitment move whole, its held fees and accrued discount pro rata; each owner's fee tier is by his
    ///         total capital in the agreement at maturity.
    /// @param positionId The position (the caller's, or one whose owner approved the caller).
    /// @param to The receiver (not the modeller, the series, the staking address, the sender or zero): the caller,
    ///        or one who accepts transfers from the caller (`acceptTransfers`).
    /// @param amount Wei of capital to move.
    /// @return toPositionId The receiver's position (created if he had none with this mark and commitment).
    function transfer(uint256 positionId, address to, uint256 amount)
        external
        returns (uint256 toPositionId)
    {
        Position storage p = _position(positionId);
        uint256 index = p.agreement;
        Agreement storage a = _agreements[index];
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

        uint256 mark = _effectiveMark(a, p.mark);
        toPositionId = _findLocked(index, a, to, mark, p.commitEndPlusOne, p.commitShareBps, p.commitEconomics);
        if (toPositionId == 0) {
            toPositionId = _create(index, to, mark, p.commitEndPlusOne, p.commitShareBps, p.commitEconomics);
        }
        Position storage q = _positions[toPositionId];
        for (uint256 i = 0; i < _WINDOWS; ++i) {
            uint256 moved = (p.held[i] * amount) / capital;
            p.held[i] -= moved;
            q.held[i] += moved;
        }
        uint256 movedDiscount = (p.discount * amount) / capital;
        p.discount -= movedDiscount;
        q.discount += movedDiscount;
        _removeCapital(index, positionId, amount);
        _addCapital(index, toPositionId, amount);
        emit PositionTransferred(positionId, toPositionId, to, amount);
    }

    /// @notice Let `operator` transfer and claim the caller's positions (claims pay the owner), or revoke it: a
    ///         marketplace or escrow contract can then settle a sale atomically (position against payment) instead
    ///         of one side trusting the other. It covers all the caller's positions in this series until revoked.
    /// @param operator The address allowed (or no longer allowed) to call `transfer` for the caller's positions.
    /// @param approved True to allow, false to revoke.
    function setOperator(address operator, bool approved) external {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @notice Accept (or stop accepting) positions transferred to the caller by `caller_`: a seller, or the
    ///         marketplace that settles sales. Nobody else can push a position on the caller (a push could move
    ///         his fee tier or fill his MAX_OWNER_POSITIONS).
    /// @param caller_ The address whose `transfer` calls to the caller are accepted.
    /// @param accepted True to accept, false to refuse.
    function acceptTransfers(address caller_, bool accepted) external {
        acceptsTransfersFrom[msg.sender][caller_] = accepted;
        emit TransfersAccepted(msg.sender, caller_, accepted);
    }

    /// @notice Settle a position's books without paying it: fix its outcome once its agreement ended, and release
    ///         to the modeller the held fees whose window has ended or that left the series with it (the next
    ///         agreement locked without it). Anyone may call; does nothing when there is nothing to do.
    /// @param positionId The position.
    function poke(uint256 positionId) external {
        Position storage p = _position(positionId);
        uint256 index = p.agreement;
        Agreement storage a = _agreements[index];
        if (a.phase == Phase.Settled || a.phase == Phase.Defaulted || a.phase == Phase.Cancelled) {
            _evaluate(positionId);
        }
        uint256 next = index + 1;
        if (a.phase == Phase.Settled && !p.done && next < agreementCount) {
            Phase nextPhase = _agreements[next].phase;
            if (nextPhase != Phase.Open && nextPhase != Phase.Cancelled) _releaseAll(positionId);
        }
    }

    /// @notice Send the modeller what the series credited him (fees, reserve returned, released held fees,
    ///         charge-backs, dust). Anyone may call; the modeller is paid.
    function collect() external nonReentrant {
        uint256 amount = modellerCredit;
        if (amount == 0) revert NothingToCollect();
        modellerCredit = 0;
        address to = modeller;
        emit ModellerCollected(to, amount);
        token.safeTransfer(to, amount);
    }

    // ======================================================================================== views

    /// @notice One agreement's state.
    function agreement(uint256 index) external view returns (AgreementView memory v) {
        Agreement storage a = _agreement(index);
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
        v.cohorts = a.marks.length;
        v.economics = a.config.economics;
        v.termsHash = a.config.termsHash;
    }

    /// @notice The cohorts of an agreement: marks (0: fresh capital before the lock), W_c and n_c.
    function cohortsOf(uint256 index)
        external
        view
        returns (uint256[] memory marks, uint256[] memory weights, uint256[] memory counts)
    {
        Agreement storage a = _agreement(index);
        marks = a.marks;
        weights = new uint256[](marks.length);
        counts = new uint256[](marks.length);
        for (uint256 i = 0; i < marks.length; ++i) {
            weights[i] = a.cohorts[marks[i]].weight;
            counts[i] = a.cohorts[marks[i]].count;
        }
    }

    /// @notice A position's record. Before its agreement's outcome is applied to it (`evaluated`), `claimable`
    ///         is 0: see `outcomeOf`.
    function positionOf(uint256 positionId) external view returns (PositionView memory v) {
        Position storage p = _position(positionId);
        Agreement storage a = _agreements[p.agreement];
        v.owner = p.owner;
        v.agreement = p.agreement;
        v.capital = p.capital;
        // an evaluated position holds its new mark, which may equal the lock's liftedFrom: not lifted again
        v.mark = a.phase == Phase.Open || p.evaluated ? p.mark : _effectiveMark(a, p.mark);
        v.commitEnd = int256(uint256(p.commitEndPlusOne)) - 1;
        v.commitShareBps = p.commitShareBps;
        for (uint256 i = 0; i < _WINDOWS; ++i) {
            v.held += p.held[i];
        }
        v.discount = p.discount;
        v.claimable = p.claimable;
        v.rolled = p.rolled;
        v.chargedBack = p.chargedBack;
        v.intent = p.intent;
        v.evaluated = p.evaluated;
        v.done = p.done;
    }

    /// @notice A position's four escrow windows, indexed by (agreement index at release) mod 4.
    function heldOf(uint256 positionId) external view returns (uint256[4] memory) {
        return _position(positionId).held;
    }

    /// @notice What a position's agreement gives it (from maturity on; before `claim` or `poke` applies it).
    function outcomeOf(uint256 positionId) external view returns (Outcome memory) {
        Position storage p = _position(positionId);
        Agreement storage a = _agreements[p.agreement];
        if (a.phase != Phase.Matured && a.phase != Phase.Settled && a.phase != Phase.Defaulted) {
            revert WrongPhase(a.phase);
        }
        return _outcome(p, a);
    }

    /// @notice An owner's live positions in an agreement, and his total capital there (his fee tier's basis).
    function positionsOf(uint256 index, address owner) external view returns (uint256[] memory, uint256) {
        return (_ownerPositions[index][owner], _ownerCapital[index][owner]);
    }



    // ======================================================================================== internals: lifecycle

    /// @dev V, P_end and the aggregates: gain, the fee lower bound L; loss, the reserve's cover bound.
    function _fixAmounts(Agreement storage a, uint256 startIndex, uint256 endIndex) private {
        uint256 staked = a.staked;
        uint256 value = startIndex == 0 ? 0 : Math.mulDiv(staked, endIndex, startIndex);
        uint256 priceEnd = startIndex == 0 ? 0 : Math.mulDiv(a.priceStart, endIndex, startIndex);
        a.finalValue = value;
        a.priceEnd = priceEnd;
        if (value >= staked) {
            uint256 lower = _feeLowerBound(a, value, staked, priceEnd);
            a.feeLowerBound = lower;
            a.amountDue = value - (lower * (BPS - a.config.clawbackBps)) / BPS;
            a.owedTotal = value - lower;
        } else {
            uint256 burnShare = a.config.burnShareBps;
            uint256 covers = burnShare == 0 ? 0 : ((staked - value) * burnShare) / BPS + a.positions - 1;
            a.coverBound = covers;
            a.amountDue = value;
            a.owedTotal = value + Math.min(a.reserve, covers);
        }
    }

    function _emitMatured(uint256 index, Agreement storage a, uint256 deadline_) private {
        emit SeriesMatured(
            index, a.finalValue, a.priceEnd, a.amountDue, a.owedTotal, a.coverBound, a.feeLowerBound, deadline_
        );
    }

    function _settle(uint256 index, Agreement storage a) private {
        uint256 used = a.finalValue < a.staked ? Math.min(a.reserve, a.coverBound) : 0;
        uint256 returned = a.reserve - used;
        a.phase = Phase.Settled;
        a.reserveReturned = returned;
        a.balance -= returned;
        uint256 priceEnd = a.priceEnd;
        price = priceEnd;
        if (priceEnd == 0) ended = true;
        emit SeriesSettled(index, used, returned, priceEnd);
        _credit(returned);
    }

    function _cancel(uint256 index) private {
        Agreement storage a = _agreements[index];
        a.phase = Phase.Cancelled;
        uint256 returned = a.reserve;
        a.reserveReturned = returned;
        a.balance -= returned;
        emit SeriesCancelled(index, msg.sender, returned);
        _credit(returned);
        _maybeSweep(index, a);
    }

    /// @dev At lock: fresh capital (cohort 0) joins the cohort at P_start, then the cap rule merges at most once.
    function _lockCohorts(uint256 index, Agreement storage a, uint256 priceStart) private returns (uint256 count) {
        uint256[] storage marks = a.marks;
        uint256 length = marks.length;
        for (uint256 i = 0; i < length; ++i) {
            if (marks[i] != 0) continue;
            Cohort storage fresh = a.cohorts[0];
            Cohort storage target = a.cohorts[priceStart];
            bool existed = target.count != 0;
            target.weight += fresh.weight;
            target.count += fresh.count;
            delete a.cohorts[0];
            if (existed) {
                marks[i] = marks[length - 1];
                marks.pop();
                --length;
            } else {
                marks[i] = priceStart;
            }
            break;
        }
        uint256[] memory sorted = _sorted(marks);
        if (sorted.length > MAX_COHORTS + 1) revert TooManyCohorts(sorted.length);
        if (sorted.length == MAX_COHORTS + 1) {
            // lift the cohort whose lift forgoes the least fee, floor(W_lo (hi - lo) / lo): dust weighs nothing,
            // so dust cannot steer the lift onto other capital; strict < keeps the lowest pair on ties
            uint256 best = 0;
            uint256 least = type(uint256).max;
            for (uint256 i = 0; i + 1 < sorted.length; ++i) {
                uint256 lo = sorted[i];
                uint256 cost = Math.mulDiv(a.cohorts[lo].weight, sorted[i + 1] - lo, lo);
                if (cost < least) (best, least) = (i, cost);
            }
            uint256 lower = sorted[best];
            uint256 upper = sorted[best + 1];
            a.cohorts[upper].weight += a.cohorts[lower].weight;
            a.cohorts[upper].count += a.cohorts[lower].count;
            delete a.cohorts[lower];
            a.liftedFrom = lower;
            a.liftedTo = upper;
            for (uint256 i = best; i + 1 < sorted.length; ++i) {
                sorted[i] = sorted[i + 1];
            }
            assembly ("memory-safe") {
                mstore(sorted, sub(mload(sorted), 1))
            }
            emit CohortsMerged(index, lower, upper);
        }
        a.marks = sorted;
        count = sorted.length;
    }

    /// @dev L = sum over cohorts above their mark of max(0, floor((V P_start - S m_c) W_c / (C P_start 1e4)) - 3 n_c):
    ///      a lower bound of the sum of the positions' fees (docs/series.md).
    function _feeLowerBound(Agreement storage a, uint256 value, uint256 staked, uint256 priceEnd)
        private
        view
        returns (uint256 lower)
    {
        uint256 priceStart = a.priceStart;
        uint256 denominator = a.capital * priceStart * BPS;
        uint256 length = a.marks.length;
        for (uint256 i = 0; i < length; ++i) {
            uint256 mark = a.marks[i];
            if (priceEnd <= mark) continue;
            uint256 valueSide = value * priceStart;
            uint256 markSide = staked * mark;
            if (valueSide <= markSide) continue;
            Cohort storage c = a.cohorts[mark];
            uint256 share = Math.mulDiv(valueSide - markSide, c.weight, denominator);
            uint256 slack = 3 * c.count;
            if (share > slack) lower += share - slack;
        }
    }

    function _maybeSweep(uint256 index, Agreement storage a) private {
        if (a.positionsDone != a.positions) return;
        Phase phase_ = a.phase;
        if (phase_ != Phase.Settled && phase_ != Phase.Defaulted && phase_ != Phase.Cancelled) return;
        uint256 dust = a.balance;
        if (dust == 0) return;
        a.balance = 0;
        emit AgreementDustSwept(index, dust);
        _credit(dust);
    }

    function _credit(uint256 amount) private {
        if (amount == 0) return;
        uint256 credit = modellerCredit + amount;
        modellerCredit = credit;
        emit ModellerCredited(amount, credit);
    }

    // ======================================================================================== internals: positions

    /// @dev Apply the agreement's outcome to the position once (Settled, Defaulted or Cancelled).
    function _evaluate(uint256 positionId) private {
        Position storage p = _positions[positionId];
        if (p.evaluated) return;
        p.evaluated = true;
        uint256 index = p.agreement;
        Agreement storage a = _agreements[index];
        if (a.phase == Phase.Cancelled) {
            p.claimable = p.capital;
            p.discount = 0;
            _releaseAll(positionId);
            emit PositionSettled(positionId, 0, 0, 0, 0, p.capital, p.mark);
            return;
        }
        Outcome memory o = _outcome(p, a);
        if (a.phase == Phase.Defaulted) {
            uint256 forfeited = 0;
            for (uint256 i = 0; i < _WINDOWS; ++i) {
                forfeited += p.held[i];
                p.held[i] = 0;
            }
            if (forfeited != 0) {
                escrow -= forfeited;
                a.balance += forfeited;
                emit HeldFeeForfeited(positionId, forfeited);
            }
            o.claimable += forfeited;
        } else {
            if (o.clawback != 0) {
                uint256 left = o.clawback;
                for (uint256 k = 0; k < _WINDOWS && left != 0; ++k) {
                    uint256 slot = (index + k) % _WINDOWS; // oldest window first
                    uint256 take = Math.min(p.held[slot], left);
                    p.held[slot] -= take;
                    left -= take;
                }
                escrow -= o.clawback;
                a.balance += o.clawback;
                emit HeldFeeClawedBack(positionId, o.clawback);
            }
            _release(positionId, index % _WINDOWS); // the window that ends at this settlement
            if (o.heldFee != 0) {
                uint256 releaseAt = index + a.config.clawbackAgreements;
                p.held[releaseAt % _WINDOWS] += o.heldFee;
                a.balance -= o.heldFee;
                escrow += o.heldFee;
                emit HeldFeeAdded(positionId, releaseAt, o.heldFee);
            }
            p.discount += o.discountAccrued;
        }
        p.mark = o.mark;
        p.claimable = o.claimable;
        emit PositionSettled(positionId, o.fee, o.heldFee, o.clawback, o.cover, o.claimable, o.mark);
    }

    /// @dev The position's outcome: gain (fee above its mark), loss (clawback, then the reserve's cover) or its
    ///      weight in a default pool. Only its own record and the agreement's aggregates are read.
    function _outcome(Position storage p, Agreement storage a) private view returns (Outcome memory o) {
        uint256 capital = p.capital;
        uint256 total = a.capital;
        uint256 stakedShare = (a.staked * capital) / total;
        uint256 valueShare = Math.mulDiv(a.finalValue, capital, total);
        uint256 mark = _effectiveMark(a, p.mark);
        uint256 owed;
        if (a.finalValue >= a.staked) {
            o = _gainOutcome(p, a, stakedShare, valueShare, mark);
            owed = o.claimable;
        } else {
            (o, owed) = _lossOutcome(p, a, stakedShare, valueShare);
            o.mark = mark;
        }
        if (a.phase == Phase.Defaulted) {
            uint256 owedTotal = a.owedTotal;
            o = Outcome(0, 0, 0, 0, 0, owedTotal == 0 ? 0 : Math.mulDiv(a.defaultPool, owed, owedTotal), mark);
        }
    }

    /// @dev A fee on the gain above the position's mark value M_p = ceil(S_p m / P_start), if the price passed m.
    function _gainOutcome(
        Position storage p,
        Agreement storage a,
        uint256 stakedShare,
        uint256 valueShare,
        uint256 mark
    )
        private
        view
        returns (Outcome memory o)
    {
        o.mark = mark;
        uint256 priceEnd = a.priceEnd;
        if (priceEnd > mark) {
            (uint256 tier, uint256 rate) = _rates(a, p, p.agreement);
            uint256 markValue = Math.mulDiv(stakedShare, mark, a.priceStart, Math.Rounding.Ceil);
            uint256 gain = valueShare > markValue ? valueShare - markValue : 0;
            // slither-disable-next-line divide-before-multiply -- the held part is a share of the fee as charged
            uint256 fee = (gain * rate) / BPS;
            o.fee = fee;
            o.heldFee = (fee * a.config.clawbackBps) / BPS;
            if (p.commitEndPlusOne > p.agreement) o.discountAccrued = (gain * tier) / BPS - fee;
            o.mark = priceEnd;
        }
        o.claimable = valueShare - o.fee;
    }

    /// @dev The position's own held fees first (oldest window first), then the burn share of the rest from the
    ///      reserve. Also returns what it is owed in a default (the cover without clawback).
    function _lossOutcome(Position storage p, Agreement storage a, uint256 stakedShare, uint256 valueShare)
        private
        view
        returns (Outcome memory o, uint256 owed)
    {
        uint256 loss = stakedShare - valueShare;
        uint256 clawback = 0;
        for (uint256 k = 0; k < _WINDOWS && clawback < loss; ++k) {
            clawback += Math.min(p.held[(p.agreement + k) % _WINDOWS], loss - clawback);
        }
        uint256 burnShare = a.config.burnShareBps;
        uint256 cover = ((loss - clawback) * burnShare) / BPS;
        uint256 full = (loss * burnShare) / BPS;
        uint256 bound = a.coverBound;
        uint256 reserve = a.reserve;
        if (bound > reserve) {
            cover = Math.mulDiv(cover, reserve, bound);
            full = Math.mulDiv(full, reserve, bound);
        }
        o.clawback = clawback;
        o.cover = cover;
        o.claimable = valueShare + clawback + cover;
        owed = valueShare + full;
    }

    /// @dev (tier by the owner's total units in the agreement, rate actually charged).
    function _rates(Agreement storage a, Position storage p, uint256 index)
        private
        view
        returns (uint256 tier, uint256 rate)
    {
        tier = _shareFor(a.config, _ownerCapital[index][p.owner] / a.config.unitSize);
        rate = p.commitEndPlusOne > index ? Math.min(tier, p.commitShareBps) : tier;
    }

    function _executeRoll(uint256 positionId, uint256 index) private returns (uint256 newPositionId) {
        _evaluate(positionId);
        Position storage p = _positions[positionId];
        Agreement storage a = _agreements[index];
        uint256 next = index + 1;
        Agreement storage n = _agreements[next];
        uint256 claimable = p.claimable;
        if (claimable == 0) revert NothingToRoll(positionId);
        uint256 amount = p.intent == _ALL ? claimable : Math.min(p.intent, claimable);
        uint256 available = uint256(n.config.maxUnits) * n.config.unitSize - n.capital;
        if (amount > available) revert CapacityExceeded(amount, available);
        uint256 leaving = claimable - amount;
        bool continues = _continues(p, next);
        uint256 keptDiscount = continues ? (p.discount * amount) / claimable : 0;
        uint256 charge = (continues && leaving != 0) ? Math.min(p.discount - keptDiscount, leaving) : 0;

        newPositionId = _rollTarget(p, next, continues);
        Position storage q = _positions[newPositionId];
        for (uint256 i = 0; i < _WINDOWS; ++i) {
            uint256 moved = (p.held[i] * amount) / claimable;
            p.held[i] -= moved;
            q.held[i] += moved;
        }
        _releaseAll(positionId); // the part that leaves takes nothing: its share of held fees goes to the modeller
        _addCapital(next, newPositionId, amount);
        q.discount += keptDiscount;
        p.discount = 0;
        a.balance -= amount;
        n.balance += amount;
        p.rolled = amount;
        if (charge != 0) {
            a.balance -= charge;
            p.chargedBack = charge;
            _credit(charge);
        }
        p.claimable = leaving - charge;
        p.intent = 0;
        emit PositionRolled(positionId, newPositionId, amount, charge);
        if (p.claimable == 0) {
            _markDone(index, a, p);
            _maybeSweep(index, a);
        }
    }

    /// @dev The next agreement's position a roll adds to: same owner and mark; the commitment continues (same
    ///      economics) or is the one consented to with the roll, if any.
    function _rollTarget(Position storage p, uint256 next, bool continues) private returns (uint256) {
        if (continues) {
            return _findOrCreate(next, p.owner, p.mark, p.commitEndPlusOne, p.commitShareBps, p.commitEconomics);
        }
        (uint32 endPlusOne, uint16 share, bytes32 econ) =
            _commitmentKey(next, _agreements[next].config, p.intentCommit);
        return _findOrCreate(next, p.owner, p.mark, endPlusOne, share, econ);
    }

    /// @dev The position's commitment runs past `index - 1` into agreement `next` and `next` has its economics.
    function _continues(Position storage p, uint256 next) private view returns (bool) {
        return p.commitEndPlusOne > next && _agreements[next].config.economics == p.commitEconomics;
    }

    /// @dev Leaving now is early: settled, committed past this agreement, and the next agreement is open with the
    ///      committed economics (its standing roll could still be executed).
    function _early(Position storage p, uint256 index) private view returns (bool) {
        uint256 next = index + 1;
        return _agreements[index].phase == Phase.Settled && next < agreementCount
            && _agreements[next].phase == Phase.Open && _continues(p, next);
    }

    function _markDone(uint256, Agreement storage a, Position storage p) private {
        p.done = true;
        ++a.positionsDone;
    }

    function _release(uint256 positionId, uint256 slot) private {
        Position storage p = _positions[positionId];
        uint256 amount = p.held[slot];
        if (amount == 0) return;
        p.held[slot] = 0;
        escrow -= amount;
        emit HeldFeeReleased(positionId, amount);
        _credit(amount);
    }

    function _releaseAll(uint256 positionId) private {
        Position storage p = _positions[positionId];
        uint256 start = p.agreement;
        for (uint256 k = 0; k < _WINDOWS; ++k) {
            _release(positionId, (start + k) % _WINDOWS); // oldest first, as the reference model logs them
        }
    }

    // ======================================================================================== internals: books

    function _key(uint256 index, address owner, uint256 mark, uint32 endPlusOne, uint16 share, bytes32 econ)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(index, owner, mark, endPlusOne, share, econ));
    }

    function _findOrCreate(uint256 index, address owner, uint256 mark, uint32 endPlusOne, uint16 share, bytes32 econ)
        private
        returns (uint256 positionId)
    {
        positionId = _positionIds[_key(index, owner, mark, endPlusOne, share, econ)];
        if (positionId == 0) positionId = _create(index, owner, mark, endPlusOne, share, econ);
    }

    /// @dev In a locked agreement a mark can be held under three keys: its own, 0 (fresh capital, if it is
    ///      P_start) and the cap's lifted mark. The receiver's oldest matching position takes the transfer.
    function _findLocked(
        uint256 index,
        Agreement storage a,
        address owner,
        uint256 mark,
        uint32 endPlusOne,
        uint16 share,
        bytes32 econ
    ) private view returns (uint256 found) {
        uint256[3] memory raw = [mark, 0, a.liftedFrom];
        for (uint256 i = 0; i < 3; ++i) {
            if (i == 2 && raw[2] == 0) break;
            if (_effectiveMark(a, raw[i]) != mark) continue;
            uint256 id = _positionIds[_key(index, owner, raw[i], endPlusOne, share, econ)];
            if (id != 0 && (found == 0 || id < found)) found = id;
        }
    }

    function _create(uint256 index, address owner, uint256 mark, uint32 endPlusOne, uint16 share, bytes32 econ)
        private
        returns (uint256 positionId)
    {
        uint256[] storage owned = _ownerPositions[index][owner];
        if (owned.length >= MAX_OWNER_POSITIONS) revert TooManyPositions(owner, MAX_OWNER_POSITIONS);
        positionId = ++positionCount;
        Position storage p = _positions[positionId];
        p.owner = owner;
        p.agreement = uint32(index);
        p.mark = mark;
        p.commitEndPlusOne = endPlusOne;
        p.commitShareBps = share;
        p.commitEconomics = econ;
        _positionIds[_key(index, owner, mark, endPlusOne, share, econ)] = positionId;
        owned.push(positionId);
        Agreement storage a = _agreements[index];
        ++a.positions;
        uint256 cohort = _cohortKey(a, mark);
        if (a.cohorts[cohort].count++ == 0) a.marks.push(cohort);
    }

    /// @dev A position whose capital reaches zero is removed (its id is never reused, as in the model).
    function _destroy(uint256 index, uint256 positionId) private {
        Position storage p = _positions[positionId];
        Agreement storage a = _agreements[index];
        address owner = p.owner;
        delete _positionIds[_key(index, owner, p.mark, p.commitEndPlusOne, p.commitShareBps, p.commitEconomics)];
        uint256[] storage owned = _ownerPositions[index][owner];
        for (uint256 i = 0; i < owned.length; ++i) {
            if (owned[i] == positionId) {
                owned[i] = owned[owned.length - 1];
                owned.pop();
                break;
            }
        }
        --a.positions;
        uint256 cohort = _cohortKey(a, p.mark);
        delete _positions[positionId];
        if (--a.cohorts[cohort].count == 0) {
            uint256[] storage marks = a.marks;
            for (uint256 i = 0; i < marks.length; ++i) {
                if (marks[i] == cohort) {
                    marks[i] = marks[marks.length - 1];
                    marks.pop();
                    break;
                }
            }
        }
    }

    function _addCapital(uint256 index, uint256 positionId, uint256 amount) private {
        Agreement storage a = _agreements[index];
        _positions[positionId].capital += amount;
        a.capital += amount;
        address owner = _positions[positionId].owner;
        _ownerCapital[index][owner] += amount;
        _reweighOwner(index, a, owner);
    }

    /// @dev Also used by transfers while Locked, where the receiver's `_addCapital` gives C back.
    function _removeCapital(uint256 index, uint256 positionId, uint256 amount) private {
        Agreement storage a = _agreements[index];
        Position storage p = _positions[positionId];
        address owner = p.owner;
        uint256 left = p.capital - amount;
        p.capital = left;
        a.capital -= amount;
        _ownerCapital[index][owner] -= amount;
        if (left == 0) {
            Cohort storage c = a.cohorts[_cohortKey(a, p.mark)];
            c.weight -= p.weight;
            _destroy(index, positionId);
        }
        _reweighOwner(index, a, owner);
    }

    /// @dev The owner's total changed: his fee tier, hence every one of his positions' weight, may have.
    function _reweighOwner(uint256 index, Agreement storage a, address owner) private {
        uint256[] storage owned = _ownerPositions[index][owner];
        uint256 tier = _shareFor(a.config, _ownerCapital[index][owner] / a.config.unitSize);
        for (uint256 i = 0; i < owned.length; ++i) {
            Position storage p = _positions[owned[i]];
            uint256 rate = p.commitEndPlusOne > index ? Math.min(tier, p.commitShareBps) : tier;
            uint256 weight = p.capital * rate;
            Cohort storage c = a.cohorts[_cohortKey(a, p.mark)];
            c.weight = c.weight - p.weight + weight;
            p.weight = weight;
        }
    }

    /// @dev The cohort a stored mark belongs to: before the lock fresh capital is cohort 0; after it, P_start,
    ///      and the cap's lifted mark is its upper neighbour.
    function _cohortKey(Agreement storage a, uint256 mark) private view returns (uint256) {
        return a.phase == Phase.Open ? mark : _effectiveMark(a, mark);
    }

    function _effectiveMark(Agreement storage a, uint256 mark) private view returns (uint256) {
        if (mark == 0) mark = a.priceStart;
        if (mark != 0 && mark == a.liftedFrom) mark = a.liftedTo;
        return mark;
    }

    // ======================================================================================== internals: terms

    function _commitmentKey(uint256 index, SeriesTerms.Config storage config, uint256 commit)
        private
        view
        returns (uint32 endPlusOne, uint16 share, bytes32 econ)
    {
        if (commit == 0) return (0, uint16(BPS), bytes32(0));
        uint256 count = config.commitmentCount;
        for (uint256 i = 0; i < count; ++i) {
            uint256 packed = config.commitments >> (24 * i);
            if (uint8(packed) == commit) return (uint32(index + commit), uint16(packed >> 8), config.economics);
        }
        revert NoSuchCommitment(commit);
    }

    function _hasCommitment(SeriesTerms.Config storage config, uint256 commit) private view returns (bool) {
        uint256 count = config.commitmentCount;
        for (uint256 i = 0; i < count; ++i) {
            if (uint8(config.commitments >> (24 * i)) == commit) return true;
        }
        return false;
    }

    function _shareFor(SeriesTerms.Config storage config, uint256 units) private view returns (uint256 share) {
        share = config.profitShareBps;
        uint256 length = config.ladderLength;
        for (uint256 i = 0; i < length; ++i) {
            uint256 packed = (i < 6 ? config.ladder : config.ladderHigh) >> ((i % 6) * 40);
            if (units < uint24(packed)) break;
            share = uint16(packed >> 24);
        }
    }

    // ======================================================================================== internals: access

    function _latestIndex() private view returns (uint256) {
        uint256 count = agreementCount;
        if (count == 0) revert NoAgreement();
        return count - 1;
    }

    function _agreement(uint256 index) private view returns (Agreement storage) {
        if (index >= agreementCount) revert UnknownAgreement(index);
        return _agreements[index];
    }

    function _position(uint256 positionId) private view returns (Position storage p) {
        p = _positions[positionId];
        if (p.owner == address(0)) revert UnknownPosition(positionId);
    }

    function _requirePhase(Agreement storage a, Phase one, Phase other) private view {
        if (a.phase != one && a.phase != other) revert WrongPhase(a.phase);
    }

    function _requireFinished(Agreement storage a) private view {
        Phase phase_ = a.phase;
        if (phase_ != Phase.Settled && phase_ != Phase.Defaulted && phase_ != Phase.Cancelled) {
            revert WrongPhase(phase_);
        }
    }

    function _sorted(uint256[] storage marks) private view returns (uint256[] memory out) {
        out = marks;
        for (uint256 i = 1; i < out.length; ++i) {
            uint256 x = out[i];
            uint256 j = i;
            while (j > 0 && out[j - 1] > x) {
                out[j] = out[j - 1];
                --j;
            }
            out[j] = x;
        }
    }
}
