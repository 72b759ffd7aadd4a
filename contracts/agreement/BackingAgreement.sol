// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBackingAgreement} from "../interfaces/agreement/IBackingAgreement.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {IAgreementFactory} from "../interfaces/agreement/IAgreementFactory.sol";
import {TermsRules} from "../libraries/TermsRules.sol";

/// @title BackingAgreement
/// @notice One lockup of backing for one Numerai model. Backers deposit whole units of NMR; at lock the pooled
///         capital goes to the modeller's staking address and his reserve stays here in escrow; the score
///         oracle's index gives the final value; the modeller repays what the terms say or defaults.
/// @dev Deployed as EIP-1167 clones by AgreementFactory (or directly, with the same code). Nothing loops over
///      backers or rounds: settlement uses aggregates kept at deposit time, and each backer's amount is
///      computed from his own units when he claims. Economics (every division rounds down):
///        C = totalUnits*unitSize, U = C*upfrontFeeBps/1e4, S = C-U, V = S*I_end/I_start,
///        S_b = S*u_b/T, V_b = V*u_b/T;
///        gain:  owed_b = V_b - (V_b-S_b)*f_b/1e4
///        loss:  owed_b = V_b + cover_b, cover_b = (S_b-V_b)*burnShareBps/1e4 (scaled by R/coverBound if
///               coverBound > R)
///        default: backer gets pool*owed_b/owedTotal, pool = P + min(R, owedTotal-P).
///      The aggregates (amountDue, owedTotal, coverBound) are upper bounds of the matching sums over backers:
///      exact for one backer, and otherwise above them by a few wei per backer (n backers: at most 2n-1 wei
///      after a gain, 5n-3 after a loss, n more in a default; README "Rounding"). That dust returns to the
///      modeller with the last claim, so the agreement always covers every claim and ends empty.
contract BackingAgreement is IBackingAgreement {
    using SafeERC20 for IERC20;

    /// @inheritdoc IBackingAgreement
    uint256 public constant BPS = 10_000;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_FEE_TIERS = TermsRules.MAX_FEE_TIERS;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_UNITS = TermsRules.MAX_UNITS;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_UNIT_SIZE = TermsRules.MAX_UNIT_SIZE;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_RESERVE_RATIO_BPS = TermsRules.MAX_RESERVE_RATIO_BPS;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_UPFRONT_FEE_BPS = TermsRules.MAX_UPFRONT_FEE_BPS;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_LOCKUP_ROUNDS = TermsRules.MAX_LOCKUP_ROUNDS;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_OPEN_PERIOD = TermsRules.MAX_OPEN_PERIOD;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MIN_WIND_DOWN = TermsRules.MIN_WIND_DOWN;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MAX_WIND_DOWN = TermsRules.MAX_WIND_DOWN;
    /// @inheritdoc IBackingAgreement
    uint256 public constant MATURE_FINALIZE_ROUNDS = 64;

    // Bit offsets of the Pool fields in `_poolWord` (widths: the field types in `Pool`).
    uint256 private constant _ENTERED_AT = 8; //      bool, one byte (0 or 1)
    uint256 private constant _LADDER_LENGTH_AT = 16; // uint8
    uint256 private constant _TOTAL_UNITS_AT = 24; //   uint24
    uint256 private constant _BACKER_COUNT_AT = 48; //  uint24
    uint256 private constant _FEE_WEIGHT_AT = 72; //    uint40
    uint256 private constant _OPEN_UNTIL_AT = 112; //   uint40
    uint256 private constant _MAX_UNITS_AT = 152; //    uint24
    uint256 private constant _UNIT_SIZE_AT = 176; //    uint80, up to bit 255
    uint256 private constant _ENTERED = 1 << _ENTERED_AT;

    /// @inheritdoc IBackingAgreement
    IERC20 public immutable token;
    /// @inheritdoc IBackingAgreement
    IScoreOracle public immutable oracle;
    /// @inheritdoc IBackingAgreement
    address public immutable factory;

    /// @dev Everything a deposit reads and writes, in one slot, so a deposit touches one slot plus the backer's
    ///      own. The reentrancy flag lives here too: OZ's ReentrancyGuard keeps it in a slot of its own, which
    ///      costs a deposit another cold access (and a clone's first call a 20k zero-to-one write).
    ///      Stored packed by hand in `_poolWord` (see `_encode`/`_decode`), not as a storage struct: solc's legacy
    ///      code generator copies a packed struct to storage field by field (a warm SLOAD and SSTORE per field,
    ///      nine of each for this one), where the hand-packed word is written with one SSTORE.
    struct Pool {
        Phase phase;
        bool entered;
        uint8 ladderLength;
        uint24 totalUnits;
        uint24 backerCount;
        uint40 feeWeight; //  sum over backers of units * profitShareBps of their tier (kept only with a ladder)
        uint40 openUntil;
        uint24 maxUnits;
        uint80 unitSize;
    }

    struct Config {
        address modeller;
        uint16 profitShareBps;
        uint16 burnShareBps;
        uint16 upfrontFeeBps;
        uint32 reserveRatioBps;
        bool requireAttestedModel;
    }

    struct Schedule {
        address stakingAddress;
        uint32 lockupRounds;
        uint40 windDown;
        uint24 minUnits;
    }

    struct Position {
        uint24 units;
        bool claimed;
    }

    /// @dev The Pool, packed as solc would pack the struct (phase in the lowest byte, unitSize in the top 80 bits),
    ///      so slot 0 reads the same as when it was declared `Pool private _pool`. Bit offsets below.
    uint256 private _poolWord;
    Config private _config;
    Schedule private _schedule;
    /// @inheritdoc IBackingAgreement
    bytes32 public modelId;
    /// @dev Fee ladder, six 40-bit tiers (uint24 minUnits | uint16 bps << 24) per word.
    uint256[2] private _ladder;

    /// @inheritdoc IBackingAgreement
    uint64 public startRound;
    /// @inheritdoc IBackingAgreement
    uint40 public deadline;
    /// @inheritdoc IBackingAgreement
    uint24 public claimsRemaining;

    /// @inheritdoc IBackingAgreement
    uint256 public stakedCapital;
    /// @inheritdoc IBackingAgreement
    uint256 public upfrontFee;
    /// @inheritdoc IBackingAgreement
    uint232 public reserve;
    /// @dev The offer's maxUnits, kept here (in the reserve's slot, written with it) once a reserve posted while
    ///      Open has lowered the deposit cap in the pool word to what the reserve covers; 0 until then.
    uint24 private _offeredMaxUnits;
    /// @inheritdoc IBackingAgreement
    uint256 public repaid;
    /// @inheritdoc IBackingAgreement
    uint256 public finalValue;
    /// @inheritdoc IBackingAgreement
    uint256 public amountDue;
    /// @inheritdoc IBackingAgreement
    uint256 public owedTotal;
    /// @inheritdoc IBackingAgreement
    uint256 public coverBound;
    /// @inheritdoc IBackingAgreement
    uint256 public defaultPool;
    /// @inheritdoc IBackingAgreement
    uint256 public reserveReturned;

    mapping(address => Position) private _positions;

    /// @dev deposit and withdraw do the same inline (see `deposit`), setting the flag in their own pool write.
    modifier nonReentrant() {
        uint256 word = _poolWord;
        if (word & _ENTERED != 0) revert ReentrantCall();
        _poolWord = word | _ENTERED;
        _;
        _poolWord &= ~_ENTERED;
    }

    modifier onlyModeller() {
        if (msg.sender != _config.modeller) revert NotModeller(msg.sender);
        _;
    }

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    /// @param factory_ The only address allowed to initialise this agreement.
    constructor(IERC20 token_, IScoreOracle oracle_, address factory_) {
        token = token_;
        oracle = oracle_;
        factory = factory_;
    }

    // ======================================================================================== set-up

    /// @inheritdoc IBackingAgreement
    function initialize(address modeller, Terms calldata terms, FeeTier[] calldata feeLadder) external {
        if (msg.sender != factory) revert NotFactory(msg.sender);
        if (_decode(_poolWord).unitSize != 0) revert AlreadyInitialized();
        if (modeller == address(0)) revert ModellerZero();
        TermsRules.validate(terms);
        if (terms.requireAttestedModel && !oracle.isAttested(terms.modelId)) revert ModelNotAttested(terms.modelId);
        uint256 ladderLength = _storeLadder(feeLadder, terms.maxUnits);

        modelId = terms.modelId;
        _poolWord = _encode(Pool({
            phase: Phase.Open,
            entered: false,
            ladderLength: uint8(ladderLength),
            totalUnits: 0,
            backerCount: 0,
            feeWeight: 0,
            openUntil: uint40(terms.openUntil),
            maxUnits: uint24(terms.maxUnits),
            unitSize: uint80(terms.unitSize)
        }));
        _config = Config({
            modeller: modeller,
            profitShareBps: uint16(terms.profitShareBps),
            burnShareBps: uint16(terms.burnShareBps),
            upfrontFeeBps: uint16(terms.upfrontFeeBps),
            reserveRatioBps: uint32(terms.reserveRatioBps),
            requireAttestedModel: terms.requireAttestedModel
        });
        _schedule = Schedule({
            stakingAddress: terms.stakingAddress,
            lockupRounds: uint32(terms.lockupRounds),
            windDown: uint40(terms.windDown),
            minUnits: uint24(terms.minUnits)
        });
        emit Initialized(modeller, terms.modelId, terms, feeLadder);
    }

    // ======================================================================================== open

    /// @inheritdoc IBackingAgreement
    function deposit(uint256 units) external {
        // nonReentrant done inline: the same check first, but the flag is set in the one write of the pool below
        // (every check before it only reverts), and cleared after the token call, as the modifier does.
        // The fields are read from the word on the stack, not decoded into a memory Pool: this is the hot path.
        uint256 word = _poolWord;
        if (word & _ENTERED != 0) revert ReentrantCall();
        Phase phase_ = Phase(uint8(word));
        if (phase_ != Phase.Open) revert WrongPhase(phase_);
        uint256 openUntil = uint40(word >> _OPEN_UNTIL_AT);
        if (block.timestamp > openUntil) revert DepositWindowClosed(openUntil);
        if (units == 0) revert ZeroAmount();
        uint256 totalUnits = uint24(word >> _TOTAL_UNITS_AT);
        uint256 available = uint256(uint24(word >> _MAX_UNITS_AT)) - totalUnits;
        // The cap in the word is the offer's maxUnits, or lower once a reserve is posted: what it covers (L-1)
        if (units > available) _refuseDeposit(units, available, totalUnits, uint80(word >> _UNIT_SIZE_AT));

        uint256 held = _positions[msg.sender].units;
        uint256 after_ = held + units; // <= maxUnits, fits uint24
        totalUnits += units; // <= maxUnits, fits uint24
        // The new word adds to the fields in place. No field can carry into the next: totalUnits stays within
        // maxUnits (checked above) and backerCount within totalUnits (every backer counted holds a unit).
        word += units << _TOTAL_UNITS_AT;
        if (held == 0) word += 1 << _BACKER_COUNT_AT;
        if (uint8(word >> _LADDER_LENGTH_AT) != 0) word = _reweigh(word, held, after_);
        _poolWord = word | _ENTERED;
        _positions[msg.sender].units = uint24(after_);
        emit Deposited(msg.sender, units, after_, totalUnits);

        // slither-disable-next-line reentrancy-no-eth -- the only write after the call clears the reentrancy flag set above
        token.safeTransferFrom(msg.sender, address(this), units * uint80(word >> _UNIT_SIZE_AT));
        _poolWord &= ~_ENTERED;
    }

    /// @inheritdoc IBackingAgreement
    function withdraw(uint256 units) external {
        // nonReentrant done inline and the fields read from the word, as in deposit
        uint256 word = _poolWord;
        if (word & _ENTERED != 0) revert ReentrantCall();
        Phase phase_ = Phase(uint8(word));
        if (phase_ != Phase.Open) revert WrongPhase(phase_);
        if (units == 0) revert ZeroAmount();
        uint256 held = _positions[msg.sender].units;
        if (units > held) revert InsufficientUnits(units, held);

        uint256 after_ = held - units;
        // No field can borrow from the next: units <= held <= totalUnits, and a backer leaving was counted.
        word -= units << _TOTAL_UNITS_AT;
        if (after_ == 0) word -= 1 << _BACKER_COUNT_AT;
        if (uint8(word >> _LADDER_LENGTH_AT) != 0) word = _reweigh(word, held, after_);
        _poolWord = word | _ENTERED;
        _positions[msg.sender].units = uint24(after_);
        emit Withdrawn(msg.sender, units, after_, uint24(word >> _TOTAL_UNITS_AT));

        // slither-disable-next-line reentrancy-no-eth -- the only write after the call clears the reentrancy flag set above
        token.safeTransfer(msg.sender, units * uint80(word >> _UNIT_SIZE_AT));
        _poolWord &= ~_ENTERED;
    }

    /// @inheritdoc IBackingAgreement
    function postReserve(uint256 amount) external nonReentrant onlyModeller {
        Phase phase = _phase();
        if (phase != Phase.Open && phase != Phase.Locked) revert WrongPhase(phase);
        if (amount == 0) revert ZeroAmount();
        uint256 newReserve = reserve + amount;
        reserve = SafeCast.toUint232(newReserve);
        if (phase == Phase.Open) _capDeposits(newReserve);
        emit ReservePosted(msg.sender, amount, newReserve);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IBackingAgreement
    function cancel() external nonReentrant {
        Pool memory pool = _loadPool();
        if (pool.phase != Phase.Open) revert WrongPhase(pool.phase);
        if (msg.sender != _config.modeller && block.timestamp <= pool.openUntil) {
            revert OpenWindowNotOver(pool.openUntil);
        }
        _setPhase(Phase.Cancelled);
        claimsRemaining = pool.backerCount;
        uint256 returned = reserve;
        reserveReturned = returned;
        emit Cancelled(msg.sender, returned);
        _pay(_config.modeller, returned);
        if (pool.backerCount == 0) _sweep();
    }

    /// @inheritdoc IBackingAgreement
    /// @dev The first round counted is the one after the latest the oracle announced, which cannot have closed
    ///      for submissions yet (ScoreOracle.nextStartRound), so the modeller cannot pick a window whose daily
    ///      scores he has already seen.
    function lock() external nonReentrant onlyModeller {
        Pool memory pool = _loadPool();
        if (pool.phase != Phase.Open) revert WrongPhase(pool.phase);
        if (block.timestamp > pool.openUntil) revert DepositWindowClosed(pool.openUntil);
        Schedule memory schedule = _schedule;
        if (pool.totalUnits < schedule.minUnits) revert BelowMinUnits(pool.totalUnits, schedule.minUnits);

        uint256 capital = uint256(pool.totalUnits) * pool.unitSize;
        uint256 fee = (capital * _config.upfrontFeeBps) / BPS;
        uint256 staked = capital - fee;
        uint256 required = requiredReserveFor(staked);
        if (reserve < required) revert ReserveTooSmall(reserve, required);

        // terms that require an attested model lock only while the oracle still attests it
        if (_config.requireAttestedModel && !oracle.isAttested(modelId)) revert ModelNotAttested(modelId);
        // the next round, checked for this model: registered, started, its index not wiped out (IndexTooLow)
        uint256 start = oracle.startRoundFor(modelId);

        _setPhase(Phase.Locked);
        startRound = SafeCast.toUint64(start);
        claimsRemaining = pool.backerCount;
        stakedCapital = staked;
        upfrontFee = fee;
        emit Locked(start, start + schedule.lockupRounds - 1, staked, fee, reserve);

        _pay(_config.modeller, fee);
        token.safeTransfer(schedule.stakingAddress, staked);
    }

    // ======================================================================================== maturity

    /// @inheritdoc IBackingAgreement
    function mature() external nonReentrant {
        Pool memory pool = _loadPool();
        if (pool.phase != Phase.Locked) revert WrongPhase(pool.phase);
        uint256 start = startRound;
        uint256 end = start + _schedule.lockupRounds - 1;
        (uint256 startIndex, uint256 endIndex, uint256 lastFinal, bool complete) =
            oracle.settlementIndices(modelId, start, end);
        if (lastFinal < end) {
            // rounds whose challenge window is over count before any fallback: finalize them first (bounded)
            // slither-disable-next-line reentrancy-no-eth,unused-return -- the immutable oracle, under nonReentrant; the indices are re-read below
            oracle.finalize(modelId, MATURE_FINALIZE_ROUNDS);
            (startIndex, endIndex, lastFinal, complete) = oracle.settlementIndices(modelId, start, end);
        }
        if (!complete) revert RoundsOutstanding(lastFinal, end);
        if (lastFinal < end) emit MaturedOnFallback(lastFinal, end);

        uint256 staked = stakedCapital;
        // A model whose index reached zero was wiped out before the start: nothing is left to return.
        uint256 value = startIndex == 0 ? 0 : Math.mulDiv(staked, endIndex, startIndex);
        (uint256 due, uint256 owed, uint256 covers) = _amountsDue(pool, staked, value);
        uint256 deadline_ = block.timestamp + _schedule.windDown;

        _setPhase(Phase.Matured);
        finalValue = value;
        amountDue = due;
        owedTotal = owed;
        coverBound = covers;
        deadline = SafeCast.toUint40(deadline_);
        emit Matured(value, due, owed, covers, deadline_);

        if (due == 0) _settle();
    }

    /// @inheritdoc IBackingAgreement
    function repay(uint256 amount) external nonReentrant {
        Phase phase = _phase();
        if (phase != Phase.Matured) revert WrongPhase(phase);
        if (amount == 0) revert ZeroAmount();
        uint256 paid = repaid;
        uint256 outstanding = amountDue - paid;
        if (amount > outstanding) revert RepaymentExceedsDue(amount, outstanding);
        paid += amount;
        repaid = paid;
        emit Repaid(msg.sender, amount, paid);
        token.safeTransferFrom(msg.sender, address(this), amount);
        if (amount == outstanding) _settle();
    }

    /// @inheritdoc IBackingAgreement
    function declareDefault() external nonReentrant {
        Phase phase = _phase();
        if (phase != Phase.Matured) revert WrongPhase(phase);
        if (block.timestamp <= deadline) revert WindDownNotOver(deadline);
        uint256 paid = repaid;
        uint256 held = reserve;
        uint256 used = Math.min(held, owedTotal - paid);
        uint256 returned = held - used;
        uint256 pool = paid + used;

        _setPhase(Phase.Defaulted);
        defaultPool = pool;
        reserveReturned = returned;
        address modeller = _config.modeller;
        emit Defaulted(msg.sender, paid, used, returned, pool);

        IAgreementFactory(factory).recordDefault(modeller);
        _pay(modeller, returned);
    }

    // ======================================================================================== claims

    /// @inheritdoc IBackingAgreement
    function claim(address backer) external nonReentrant {
        Phase phase = _phase();
        if (phase != Phase.Settled && phase != Phase.Defaulted && phase != Phase.Cancelled) revert WrongPhase(phase);
        Position memory position = _positions[backer];
        if (position.units == 0) revert NothingToClaim(backer);
        if (position.claimed) revert AlreadyClaimed(backer);

        uint256 amount = _payout(phase, position.units);
        _positions[backer].claimed = true;
        uint256 remaining = claimsRemaining - 1;
        claimsRemaining = uint24(remaining);
        emit Claimed(backer, amount);

        _pay(backer, amount);
        if (remaining == 0) _sweep();
    }

    /// @inheritdoc IBackingAgreement
    function sweep() external nonReentrant {
        Phase phase = _phase();
        if (phase != Phase.Settled && phase != Phase.Defaulted && phase != Phase.Cancelled) revert WrongPhase(phase);
        if (claimsRemaining != 0) revert ClaimsOutstanding(claimsRemaining);
        _sweep();
    }

    // ======================================================================================== views

    /// @inheritdoc IBackingAgreement
    function phase() external view returns (Phase) {
        return _phase();
    }

    /// @inheritdoc IBackingAgreement
    function modeller() external view returns (address) {
        return _config.modeller;
    }

    /// @inheritdoc IBackingAgreement
    function terms() external view returns (Terms memory t) {
        Pool memory pool = _loadPool();
        Config memory config = _config;
        Schedule memory schedule = _schedule;
        t = Terms({
            modelId: modelId,
            unitSize: pool.unitSize,
            minUnits: schedule.minUnits,
            maxUnits: _offeredMaxUnits != 0 ? _offeredMaxUnits : pool.maxUnits,
            profitShareBps: config.profitShareBps,
            burnShareBps: config.burnShareBps,
            reserveRatioBps: config.reserveRatioBps,
            upfrontFeeBps: config.upfrontFeeBps,
            lockupRounds: schedule.lockupRounds,
            openUntil: pool.openUntil,
            windDown: schedule.windDown,
            stakingAddress: schedule.stakingAddress,
            requireAttestedModel: config.requireAttestedModel
        });
    }

    /// @inheritdoc IBackingAgreement
    function feeLadder() external view returns (FeeTier[] memory tiers) {
        uint256 length = _decode(_poolWord).ladderLength;
        tiers = new FeeTier[](length);
        for (uint256 i = 0; i < length; ++i) {
            (uint256 minUnits, uint256 bps) = _tier(i);
            tiers[i] = FeeTier(minUnits, bps);
        }
    }

    /// @inheritdoc IBackingAgreement
    function totals() external view returns (uint256 totalUnits, uint256 backerCount, uint256 feeWeight) {
        Pool memory pool = _loadPool();
        uint256 weight = pool.ladderLength == 0 ? uint256(pool.totalUnits) * _config.profitShareBps : pool.feeWeight;
        return (pool.totalUnits, pool.backerCount, weight);
    }

    /// @inheritdoc IBackingAgreement
    function positionOf(address backer) external view returns (uint256 units, bool claimed) {
        Position memory position = _positions[backer];
        return (position.units, position.claimed);
    }

    /// @inheritdoc IBackingAgreement
    function profitShareFor(uint256 units) public view returns (uint256) {
        return _shareFor(units, _decode(_poolWord).ladderLength);
    }

    /// @inheritdoc IBackingAgreement
    function requiredReserveFor(uint256 staked) public view returns (uint256) {
        return Math.mulDiv(staked, _config.reserveRatioBps, BPS, Math.Rounding.Ceil);
    }

    /// @inheritdoc IBackingAgreement
    function depositRoom() external view returns (uint256) {
        Pool memory pool = _loadPool();
        return pool.phase == Phase.Open ? pool.maxUnits - pool.totalUnits : 0;
    }

    /// @dev Issue 12 L-1: a reserve posted while Open caps the deposits at the units it covers (never below the
    ///      units already deposited), so no deposit front-running `lock` can make it insufficient. The cap lives
    ///      in the pool word's maxUnits field, which `deposit` already reads: deposits cost no more gas.
    function _capDeposits(uint256 posted) private {
        uint256 word = _poolWord;
        uint256 offered = _offeredMaxUnits;
        if (offered == 0) {
            offered = uint24(word >> _MAX_UNITS_AT);
            _offeredMaxUnits = uint24(offered);
        }
        uint256 unitSize = uint80(word >> _UNIT_SIZE_AT);
        uint256 feeBps = _config.upfrontFeeBps;
        uint256 ratioBps = _config.reserveRatioBps;
        // the most units whose lock the reserve covers: the required reserve grows with the units (binary search)
        uint256 low = 0;
        uint256 high = offered;
        while (low < high) {
            uint256 mid = (low + high + 1) / 2;
            if (_reserveForUnits(mid, unitSize, feeBps, ratioBps) <= posted) low = mid;
            else high = mid - 1;
        }
        uint256 totalUnits = uint24(word >> _TOTAL_UNITS_AT);
        uint256 cap = low < totalUnits ? totalUnits : low;
        _poolWord = (word & ~(uint256(type(uint24).max) << _MAX_UNITS_AT)) | (cap << _MAX_UNITS_AT);
    }

    /// @dev Revert a deposit of `units` beyond the cap: `DepositBeyondReserve` when it fits the offer but not the
    ///      posted reserve, else `CapacityExceeded`. Only on the refusing path, so its reads cost the hot path nothing.
    function _refuseDeposit(uint256 units, uint256 available, uint256 totalUnits, uint256 unitSize) private view {
        uint256 offered = _offeredMaxUnits;
        if (offered != 0 && totalUnits + units <= offered) {
            Config memory config = _config;
            uint256 required = _reserveForUnits(totalUnits + units, unitSize, config.upfrontFeeBps, config.reserveRatioBps);
            revert DepositBeyondReserve(required, reserve);
        }
        revert CapacityExceeded(units, available);
    }

    /// @dev The reserve a lock with `units` units of `unitSize` requires (the upfront fee is not staked).
    function _reserveForUnits(uint256 units, uint256 unitSize, uint256 feeBps, uint256 ratioBps)
        private
        pure
        returns (uint256)
    {
        uint256 capital = units * unitSize;
        return Math.mulDiv(capital - (capital * feeBps) / BPS, ratioBps, BPS, Math.Rounding.Ceil);
    }

    /// @inheritdoc IBackingAgreement
    function owedTo(address backer) external view returns (uint256) {
        Phase phase_ = _phase();
        if (phase_ != Phase.Matured && phase_ != Phase.Settled && phase_ != Phase.Defaulted) revert WrongPhase(phase_);
        return _owed(_positions[backer].units);
    }

    /// @inheritdoc IBackingAgreement
    function claimable(address backer) external view returns (uint256) {
        Phase phase_ = _phase();
        Position memory position = _positions[backer];
        if (position.claimed || position.units == 0) return 0;
        if (phase_ != Phase.Settled && phase_ != Phase.Defaulted && phase_ != Phase.Cancelled) return 0;
        return _payout(phase_, position.units);
    }

    // ======================================================================================== internals

    function _loadPool() private view returns (Pool memory) {
        return _decode(_poolWord);
    }

    function _phase() private view returns (Phase) {
        return Phase(uint8(_poolWord));
    }

    /// @dev Only the phase byte changes; the reentrancy flag and the totals are kept.
    function _setPhase(Phase phase_) private {
        _poolWord = (_poolWord & ~uint256(type(uint8).max)) | uint8(phase_);
    }

    function _decode(uint256 word) private pure returns (Pool memory) {
        return Pool({
            phase: Phase(uint8(word)),
            entered: uint8(word >> _ENTERED_AT) != 0,
            ladderLength: uint8(word >> _LADDER_LENGTH_AT),
            totalUnits: uint24(word >> _TOTAL_UNITS_AT),
            backerCount: uint24(word >> _BACKER_COUNT_AT),
            feeWeight: uint40(word >> _FEE_WEIGHT_AT),
            openUntil: uint40(word >> _OPEN_UNTIL_AT),
            maxUnits: uint24(word >> _MAX_UNITS_AT),
            unitSize: uint80(word >> _UNIT_SIZE_AT)
        });
    }

    /// @dev The inverse of `_decode`. Every field is its own Solidity type, so none can spill into the next.
    function _encode(Pool memory pool) private pure returns (uint256) {
        return uint256(uint8(pool.phase)) | (pool.entered ? _ENTERED : 0)
            | (uint256(pool.ladderLength) << _LADDER_LENGTH_AT) | (uint256(pool.totalUnits) << _TOTAL_UNITS_AT)
            | (uint256(pool.backerCount) << _BACKER_COUNT_AT) | (uint256(pool.feeWeight) << _FEE_WEIGHT_AT)
            | (uint256(pool.openUntil) << _OPEN_UNTIL_AT) | (uint256(pool.maxUnits) << _MAX_UNITS_AT)
            | (uint256(pool.unitSize) << _UNIT_SIZE_AT);
    }

    function _payout(Phase phase_, uint256 units) private view returns (uint256) {
        if (phase_ == Phase.Cancelled) return units * uint80(_poolWord >> _UNIT_SIZE_AT);
        uint256 owed = _owed(units);
        if (phase_ == Phase.Settled) return owed;
        uint256 total = owedTotal;
        return total == 0 ? 0 : Math.mulDiv(defaultPool, owed, total);
    }

    /// @dev owed_b per the terms, from the backer's own units only.
    function _owed(uint256 units) private view returns (uint256) {
        if (units == 0) return 0;
        uint256 word = _poolWord; // two fields only: no memory Pool on the claim path
        uint256 totalUnits = uint24(word >> _TOTAL_UNITS_AT);
        uint256 staked = stakedCapital;
        uint256 value = finalValue;
        uint256 stakedShare = (staked * units) / totalUnits;
        uint256 valueShare = Math.mulDiv(value, units, totalUnits);
        if (value >= staked) {
            uint256 fee = ((valueShare - stakedShare) * _shareFor(units, uint8(word >> _LADDER_LENGTH_AT))) / BPS;
            return valueShare - fee;
        }
        uint256 cover = ((stakedShare - valueShare) * _config.burnShareBps) / BPS;
        uint256 bound = coverBound;
        uint256 held = reserve;
        if (bound > held) cover = Math.mulDiv(cover, held, bound);
        return valueShare + cover;
    }

    /// @dev The aggregates fixed at maturity. Each is an upper bound of the matching sum over backers,
    ///      exact for a single backer (see the contract notes and README "Rounding").
    function _amountsDue(Pool memory pool, uint256 staked, uint256 value)
        private
        view
        returns (uint256 due, uint256 owed, uint256 covers)
    {
        uint256 backers = pool.backerCount; // >= 1: locking needs minUnits >= 1 units
        if (value >= staked) {
            uint256 weight = pool.ladderLength == 0
                ? uint256(pool.totalUnits) * _config.profitShareBps
                : pool.feeWeight;
            uint256 fees = Math.mulDiv(value - staked, weight, uint256(pool.totalUnits) * BPS);
            due = Math.min(value, value - fees + backers - 1);
            owed = due;
        } else {
            uint256 burnShare = _config.burnShareBps;
            covers = burnShare == 0 ? 0 : ((staked - value) * burnShare) / BPS + backers - 1;
            due = value;
            owed = value + Math.min(reserve, covers);
        }
    }

    function _settle() private {
        uint256 used = finalValue < stakedCapital ? Math.min(reserve, coverBound) : 0;
        uint256 returned = reserve - used;
        _setPhase(Phase.Settled);
        reserveReturned = returned;
        emit Settled(repaid, used, returned);
        _pay(_config.modeller, returned);
    }

    function _sweep() private {
        uint256 balance = token.balanceOf(address(this));
        // slither-disable-next-line incorrect-equality -- only skips a zero transfer; donations cannot block the sweep
        if (balance == 0) return;
        address to = _config.modeller;
        emit DustSwept(to, balance);
        token.safeTransfer(to, balance);
    }

    function _pay(address to, uint256 amount) private {
        if (amount != 0) token.safeTransfer(to, amount);
    }

    /// @dev `word` (of an agreement with a fee ladder) with its feeWeight moved from a position of `held` units to
    ///      one of `after_`. At most totalUnits * BPS < 2^40: the uint40 never truncates.
    function _reweigh(uint256 word, uint256 held, uint256 after_) private view returns (uint256) {
        uint256 ladderLength = uint8(word >> _LADDER_LENGTH_AT);
        uint256 weight = uint40(word >> _FEE_WEIGHT_AT) + _weight(after_, ladderLength) - _weight(held, ladderLength);
        return (word & ~(uint256(type(uint40).max) << _FEE_WEIGHT_AT)) | (uint256(uint40(weight)) << _FEE_WEIGHT_AT);
    }

    function _weight(uint256 units, uint256 ladderLength) private view returns (uint256) {
        return units == 0 ? 0 : units * _shareFor(units, ladderLength);
    }

    /// @dev Highest tier whose minUnits the position reaches; the base share below the first tier.
    function _shareFor(uint256 units, uint256 ladderLength) private view returns (uint256 share) {
        share = _config.profitShareBps;
        for (uint256 i = 0; i < ladderLength; ++i) {
            (uint256 minUnits, uint256 bps) = _tier(i);
            if (units < minUnits) break;
            share = bps;
        }
    }

    function _tier(uint256 i) private view returns (uint256 minUnits, uint256 bps) {
        uint256 packed = _ladder[i / 6] >> ((i % 6) * 40);
        minUnits = uint24(packed);
        bps = uint16(packed >> 24);
    }

    /// @dev TermsRules.packLadder's rule, kept inline here: returning the packed words through memory costs every
    ///      createAgreement 53 gas more (measured), and the agreement's gas is benchmarked.
    function _storeLadder(FeeTier[] calldata feeLadder, uint256 maxUnits) private returns (uint256 length) {
        length = feeLadder.length;
        if (length > MAX_FEE_TIERS) revert FeeLadderTooLong(length, MAX_FEE_TIERS);
        // slither-disable-next-line uninitialized-local -- memory is zeroed; the loop ORs the tiers into it
        uint256[2] memory words;
        uint256 previous = 0;
        for (uint256 i = 0; i < length; ++i) {
            uint256 minUnits = feeLadder[i].minUnits;
            uint256 bps = feeLadder[i].profitShareBps;
            if (minUnits <= previous || minUnits > maxUnits) revert FeeTierMinUnitsNotAscending(i);
            if (bps > BPS) revert FeeTierShareTooHigh(i, bps);
            words[i / 6] |= (minUnits | (bps << 24)) << ((i % 6) * 40);
            previous = minUnits;
        }
        _ladder = words;
    }

}
