// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IScoreOracle} from "../oracle/IScoreOracle.sol";
import {IBackingCommon} from "./IBackingCommon.sol";

/// @title A backing agreement: backers fund a modeller's NMR stake on terms he offers.
/// @notice One lockup for one Numerai model. Backers deposit whole units of NMR while it is Open; at `lock` the
///         pooled capital (less the upfront fee) goes to the modeller's staking address and his reserve stays in
///         escrow; at `mature` the oracle's index gives the final value and what the modeller owes; he repays it
///         (`Settled`) or is declared in default (`Defaulted`); backers then `claim`. The phases, terms, fee tiers
///         and errors are `IBackingCommon`'s.
interface IBackingAgreement is IBackingCommon {
    // ---------------------------------------------------------------- events
    /**
     * @dev The factory set the agreement's terms (once, in the transaction that deployed it).
     * @param modeller The modeller offering the terms.
     * @param modelId The Numerai model backed.
     * @param terms The terms as offered.
     * @param feeLadder The fee ladder as offered.
     */
    event Initialized(address indexed modeller, bytes32 indexed modelId, Terms terms, FeeTier[] feeLadder);
    /**
     * @dev A backer deposited units.
     * @param backer The backer.
     * @param units Units added.
     * @param backerUnits The backer's units after the deposit.
     * @param totalUnits Units pooled after the deposit.
     */
    event Deposited(address indexed backer, uint256 units, uint256 backerUnits, uint256 totalUnits);
    /**
     * @dev A backer withdrew units before the lock.
     * @param backer The backer.
     * @param units Units taken back.
     * @param backerUnits The backer's units after the withdrawal.
     * @param totalUnits Units pooled after the withdrawal.
     */
    event Withdrawn(address indexed backer, uint256 units, uint256 backerUnits, uint256 totalUnits);
    /**
     * @dev The modeller posted or topped up his reserve.
     * @param modeller The modeller.
     * @param amount NMR added.
     * @param reserve The reserve after it.
     */
    event ReservePosted(address indexed modeller, uint256 amount, uint256 reserve);
    /**
     * @dev The agreement locked: the upfront fee went to the modeller, the staked capital to the staking address.
     * @param startRound The first round counted.
     * @param endRound The last round counted.
     * @param stakedCapital S, the capital staked.
     * @param upfrontFee U, paid to the modeller.
     * @param reserve R, the reserve held in escrow.
     */
    event Locked(uint256 startRound, uint256 endRound, uint256 stakedCapital, uint256 upfrontFee, uint256 reserve);
    /**
     * @dev The lockup's rounds are final: the final value and what the modeller owes are fixed.
     * @param finalValue V, the staked capital's value at the end.
     * @param amountDue What the modeller must repay.
     * @param owedTotal Upper bound of what the backers are owed in all (the default payouts' denominator).
     * @param coverBound Upper bound of the backers' loss covers (0 after a gain).
     * @param deadline The end of the wind-down: repay by then or a default may be declared.
     */
    event Matured(uint256 finalValue, uint256 amountDue, uint256 owedTotal, uint256 coverBound, uint256 deadline);
    /**
     * @dev Emitted with `Matured` when the oracle was overdue: rounds after `lastFinal` counted as zero return.
     * @param lastFinal The last round final at the oracle.
     * @param endRound The lockup's last round.
     */
    event MaturedOnFallback(uint256 lastFinal, uint256 endRound);
    /**
     * @dev Part or all of the amount due was repaid.
     * @param payer Who paid (the modeller or anyone on his behalf).
     * @param amount NMR repaid.
     * @param totalRepaid P, repaid so far.
     */
    event Repaid(address indexed payer, uint256 amount, uint256 totalRepaid);
    /**
     * @dev The amount due was repaid in full: backers claim what the terms give them.
     * @param repaid P, repaid in all.
     * @param reserveUsed Reserve kept to cover the backers' losses.
     * @param reserveReturned Reserve paid back to the modeller.
     */
    event Settled(uint256 repaid, uint256 reserveUsed, uint256 reserveReturned);
    /**
     * @dev The modeller was declared in default after the wind-down: backers share `pool`.
     * @param caller Who declared it.
     * @param repaid P, repaid before the default.
     * @param reserveUsed Reserve added to the backers' pool.
     * @param reserveReturned Reserve paid back to the modeller.
     * @param pool What the backers share: P + min(R, owedTotal - P).
     */
    event Defaulted(address indexed caller, uint256 repaid, uint256 reserveUsed, uint256 reserveReturned, uint256 pool);
    /**
     * @dev The agreement was cancelled before the lock: everyone gets back what he put in.
     * @param caller Who cancelled (the modeller, or anyone after the deposit window).
     * @param reserveReturned Reserve paid back to the modeller.
     */
    event Cancelled(address indexed caller, uint256 reserveReturned);
    /**
     * @dev A backer was paid his claim.
     * @param backer The backer (always the one paid, whoever called).
     * @param amount NMR paid.
     */
    event Claimed(address indexed backer, uint256 amount);
    /**
     * @dev What was left after the last claim (rounding dust, NMR sent by mistake) went to the modeller.
     * @param to The modeller.
     * @param amount NMR swept.
     */
    event DustSwept(address indexed to, uint256 amount);

    // ---------------------------------------------------------------- set-up
    /// @notice Set the terms. Called once by the factory in the transaction that deploys the agreement.
    /// @dev Requirements:
    ///      - the caller is the factory (`NotFactory`), and the agreement is not initialised (`AlreadyInitialized`);
    ///      - `modeller` is not zero (`ModellerZero`);
    ///      - the terms pass every limit (`TermsRules.validate`: one error per limit, `UnitSizeOutOfRange` to
    ///        `StakingAddressZero`) and the ladder has at most `MAX_FEE_TIERS` tiers, ascending within the
    ///        capacity, each share at most 100% (`FeeLadderTooLong`, `FeeTierMinUnitsNotAscending`,
    ///        `FeeTierShareTooHigh`);
    ///      - terms that require an attested model are for a model the oracle attests (`ModelNotAttested`).
    /// @param modeller The model owner offering the terms.
    /// @param terms The terms (see `Terms`).
    /// @param feeLadder Up to `MAX_FEE_TIERS` tiers, strictly ascending by minUnits.
    function initialize(address modeller, Terms calldata terms, FeeTier[] calldata feeLadder) external;

    // ---------------------------------------------------------------- open
    /// @notice Deposit `units` units of `unitSize` NMR. Needs an allowance of units * unitSize.
    /// @dev Requirements:
    ///      - the agreement is Open (`WrongPhase`) and its deposit window has not closed (`DepositWindowClosed`);
    ///      - `units` is not zero (`ZeroAmount`) and fits the room left (`CapacityExceeded`), or, once a reserve
    ///        is posted, what it covers (`DepositBeyondReserve`): see `depositRoom`;
    ///      - no call is running (`ReentrantCall`).
    /// @param units Units to add to the caller's position.
    function deposit(uint256 units) external;

    /// @notice Withdraw units before the agreement locks (at any time while it is Open).
    /// @dev Requirements: the agreement is Open (`WrongPhase`); `units` is not zero (`ZeroAmount`) and at most
    ///      what the caller holds (`InsufficientUnits`); no call is running (`ReentrantCall`).
    /// @param units Units to take back from the caller's position.
    function withdraw(uint256 units) external;

    /// @notice Post or top up the modeller's reserve (while Open or Locked). While Open, a reserve caps the
    ///         deposits at what it covers (`depositRoom`).
    /// @dev Requirements: the caller is the modeller (`NotModeller`); the agreement is Open or Locked
    ///      (`WrongPhase`); `amount` is not zero (`ZeroAmount`); no call is running (`ReentrantCall`).
    /// @param amount NMR to add to the reserve; needs an allowance.
    function postReserve(uint256 amount) external;

    /// @notice Cancel before lock: the modeller at any time while Open, anyone once `openUntil` has passed.
    ///         The reserve returns to the modeller; each backer then claims his deposit back in full.
    /// @dev Requirements: the agreement is Open (`WrongPhase`); the caller is the modeller or the deposit window
    ///      has closed (`OpenWindowNotOver`); no call is running (`ReentrantCall`).
    function cancel() external;

    /// @notice Lock: pay the upfront fee, send the staked capital to the staking address, fix the start round
    ///         (the round after the latest the oracle announced, `ScoreOracle.startRoundFor`).
    /// @dev Requirements:
    ///      - the caller is the modeller (`NotModeller`); the agreement is Open (`WrongPhase`) and its deposit
    ///        window has not closed (`DepositWindowClosed`);
    ///      - at least `minUnits` units are pooled (`BelowMinUnits`) and the reserve covers them
    ///        (`ReserveTooSmall`);
    ///      - terms that require an attested model: the oracle still attests it (`ModelNotAttested`);
    ///      - the oracle accepts the model's next round (registered, started, its index not too low: the
    ///        oracle's errors, e.g. `ModelNotStarted`); no call is running (`ReentrantCall`).
    function lock() external;

    // ---------------------------------------------------------------- maturity
    /// @notice Mature once every round of the lockup is final at the oracle: fix the final value and what the
    ///         modeller owes. Anyone may call. If a round the lockup needs is overdue at the oracle (not final
    ///         `maxReportDelay` after Numerai resolved it), the agreement matures counting the rounds that are not
    ///         final as zero return, so backers are never trapped by a dead oracle. It first finalizes up to
    ///         `MATURE_FINALIZE_ROUNDS` rounds at the oracle. Nothing due (V = 0): it settles at once.
    /// @dev Requirements: the agreement is Locked (`WrongPhase`); every round of the lockup is final or overdue
    ///      (`RoundsOutstanding`); no call is running (`ReentrantCall`).
    function mature() external;

    /// @notice Repay part or all of the amount due. Anyone may pay on the modeller's behalf; once the whole
    ///         amount is in, the agreement settles and the unused reserve returns to the modeller. Accepted
    ///         until a default is declared, even after the deadline.
    /// @dev Requirements: the agreement is Matured (`WrongPhase`); `amount` is not zero (`ZeroAmount`) and at most
    ///      what is outstanding (`RepaymentExceedsDue`); no call is running (`ReentrantCall`).
    /// @param amount NMR to repay; needs an allowance.
    function repay(uint256 amount) external;

    /// @notice Declare the modeller in default once the wind-down has passed without full repayment. Anyone may
    ///         call. Backers then share the repayment plus as much reserve as they are owed; the rest of the
    ///         reserve returns to the modeller, and the factory records the default in the modeller's record.
    /// @dev Requirements: the agreement is Matured (`WrongPhase`) and its deadline has passed
    ///      (`WindDownNotOver`); no call is running (`ReentrantCall`).
    function declareDefault() external;

    // ---------------------------------------------------------------- claims
    /// @notice Pay a backer what the terms give him (Settled or Defaulted), or his deposit back (Cancelled).
    ///         Anyone may trigger it; the NMR always goes to the backer. The last claim sends any rounding dust
    ///         (and NMR sent here by mistake) to the modeller.
    /// @dev Requirements: the agreement is Settled, Defaulted or Cancelled (`WrongPhase`); the backer holds units
    ///      (`NothingToClaim`) and has not claimed (`AlreadyClaimed`); no call is running (`ReentrantCall`).
    /// @param backer The backer to pay.
    function claim(address backer) external;

    /// @notice Send the agreement's whole balance to the modeller once every backer has claimed (NMR sent here
    ///         after the last claim would otherwise be stuck). Anyone may call.
    /// @dev Requirements: the agreement is Settled, Defaulted or Cancelled (`WrongPhase`); every backer has
    ///      claimed (`ClaimsOutstanding`); no call is running (`ReentrantCall`).
    function sweep() external;

    // ---------------------------------------------------------------- limits (TermsRules)
    /// @notice Basis points in 100% (10,000).
    function BPS() external view returns (uint256);

    /// @notice The most fee tiers a ladder may have.
    function MAX_FEE_TIERS() external view returns (uint256);

    /// @notice The largest capacity (maxUnits) the terms may offer.
    function MAX_UNITS() external view returns (uint256);

    /// @notice The largest unit size (token wei).
    function MAX_UNIT_SIZE() external view returns (uint256);

    /// @notice The largest reserve ratio (basis points of the staked capital).
    function MAX_RESERVE_RATIO_BPS() external view returns (uint256);

    /// @notice The largest upfront fee (basis points of the pooled capital).
    function MAX_UPFRONT_FEE_BPS() external view returns (uint256);

    /// @notice The longest lockup (rounds).
    function MAX_LOCKUP_ROUNDS() external view returns (uint256);

    /// @notice The longest deposit window, from the terms' creation (seconds).
    function MAX_OPEN_PERIOD() external view returns (uint256);

    /// @notice The shortest wind-down (seconds).
    function MIN_WIND_DOWN() external view returns (uint256);

    /// @notice The longest wind-down (seconds).
    function MAX_WIND_DOWN() external view returns (uint256);

    /// @notice Rounds `mature` finalizes at the oracle before it settles (more: call `ScoreOracle.finalize`
    ///         first).
    function MATURE_FINALIZE_ROUNDS() external view returns (uint256);

    // ---------------------------------------------------------------- views
    /// @notice The staked token (NMR), shared by every clone of the implementation.
    function token() external view returns (IERC20);

    /// @notice The score oracle that reports the model's rounds.
    function oracle() external view returns (IScoreOracle);

    /// @notice The factory that initialises agreements and records defaults.
    function factory() external view returns (address);

    /// @notice The Numerai model this agreement backs.
    function modelId() external view returns (bytes32);

    /// @notice The first round counted (fixed at lock; 0 before).
    function startRound() external view returns (uint64);

    /// @notice The end of the wind-down (set at maturity; 0 before): repay by then or a default may be declared.
    function deadline() external view returns (uint40);

    /// @notice Backers who have not claimed yet (from lock or cancellation on).
    function claimsRemaining() external view returns (uint24);

    /// @notice The staked capital S, fixed at lock.
    function stakedCapital() external view returns (uint256);

    /// @notice The upfront fee U paid to the modeller at lock.
    function upfrontFee() external view returns (uint256);

    /// @notice The modeller's reserve R held in escrow.
    function reserve() external view returns (uint232);

    /// @notice Repaid so far, P.
    function repaid() external view returns (uint256);

    /// @notice The final value V of the staked capital, fixed at maturity.
    function finalValue() external view returns (uint256);

    /// @notice What the modeller must repay (gain: the backers' share of V; loss: V).
    function amountDue() external view returns (uint256);

    /// @notice Upper bound of the sum over backers of what each is owed: the denominator of default payouts.
    function owedTotal() external view returns (uint256);

    /// @notice Upper bound of the sum of the backers' unscaled loss covers (loss only).
    function coverBound() external view returns (uint256);

    /// @notice What defaulted backers share: P + min(R, owedTotal - P).
    function defaultPool() external view returns (uint256);

    /// @notice Reserve paid back to the modeller at settlement, default or cancellation.
    function reserveReturned() external view returns (uint256);

    /// @notice The current phase.
    function phase() external view returns (Phase);

    /// @notice The modeller.
    function modeller() external view returns (address);

    /// @notice The terms as offered (maxUnits as offered, even once a reserve caps the deposits).
    /// @return t The terms.
    function terms() external view returns (Terms memory t);

    /// @notice The fee ladder as offered.
    /// @return tiers The tiers, ascending by minUnits.
    function feeLadder() external view returns (FeeTier[] memory tiers);

    /// @notice Units pooled, backers with units, and the fee weight.
    /// @return totalUnits Units pooled.
    /// @return backerCount Backers holding at least one unit.
    /// @return feeWeight The sum over backers of units times their tier's profit share.
    function totals() external view returns (uint256 totalUnits, uint256 backerCount, uint256 feeWeight);

    /// @notice A backer's units and whether he has claimed.
    /// @param backer The backer.
    /// @return units His units.
    /// @return claimed Whether he has claimed.
    function positionOf(address backer) external view returns (uint256 units, bool claimed);

    /// @notice The profit share a position of `units` units pays: its fee-ladder tier, or the base share.
    /// @param units The position's units.
    /// @return The share, in basis points.
    function profitShareFor(uint256 units) external view returns (uint256);

    /// @notice The reserve required to lock with staked capital `staked`: ceil(staked * reserveRatioBps / 1e4).
    /// @param staked The staked capital (token wei).
    /// @return The reserve required.
    function requiredReserveFor(uint256 staked) external view returns (uint256);

    /// @notice Units that can still be deposited now: the capacity left, or less once a posted reserve caps the
    ///         deposits at what it covers (issue 12 L-1); 0 unless Open.
    /// @return The units.
    function depositRoom() external view returns (uint256);

    /// @notice What a backer is owed under full repayment (valid from maturity on).
    /// @dev Requirements: the agreement is Matured, Settled or Defaulted (`WrongPhase`).
    /// @param backer The backer.
    /// @return The amount owed (token wei).
    function owedTo(address backer) external view returns (uint256);

    /// @notice What `claim(backer)` would pay now (0 when nothing is claimable).
    /// @param backer The backer.
    /// @return The amount (token wei).
    function claimable(address backer) external view returns (uint256);
}
