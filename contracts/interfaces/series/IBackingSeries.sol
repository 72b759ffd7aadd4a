// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IScoreOracle} from "../oracle/IScoreOracle.sol";
import {IBackingCommon} from "../agreement/IBackingCommon.sol";

/// @title A series: a modeller's successive backing agreements for one model (docs/series.md).
/// @notice Reuses the single agreement's phases, terms, fee tiers and errors (IBackingCommon) and adds
///         positions with a high-water mark per cohort, rollover, clawback escrow, commitment discounts and
///         transfers. Every amount is the one `backing/model/series.py` computes, to the wei.
interface IBackingSeries is IBackingCommon {
    /// @notice A fee schedule by commitment: commit to `agreements` consecutive agreements (this one included)
    ///         and pay `profitShareBps` (or the tier, if lower) while committed.
    struct Commitment {
        uint256 agreements;
        uint256 profitShareBps;
    }

    /// @notice One agreement of the series, as the views return it.
    struct AgreementView {
        Phase phase;
        uint256 capital; //        C: pooled capital (fixed at lock)
        uint256 reserve; //        R
        uint256 repaid;
        uint256 staked; //         S = C - upfront fee
        uint256 upfrontFee;
        uint256 finalValue; //     V
        uint256 amountDue;
        uint256 owedTotal;
        uint256 coverBound;
        uint256 feeLowerBound; //  L
        uint256 defaultPool;
        uint256 priceStart; //     P_start
        uint256 priceEnd; //       P_end
        uint256 startRound;
        uint256 deadline;
        uint256 positions; //      live positions (capital > 0)
        uint256 positionsDone; //  of which claimed or wholly rolled
        uint256 balance; //        what this agreement holds in the contract (escrow not included)
        uint256 reserveReturned;
        uint256 cohorts; //        distinct marks
        bytes32 economics; //      hash of every term but openUntil and windDown
        bytes32 termsHash; //      hash of all the terms (what a rolling backer consents to)
    }

    /// @notice A position, as the views return it (amounts fixed by the settlement once `evaluated`).
    struct PositionView {
        address owner;
        uint256 agreement;
        uint256 capital;
        uint256 mark; //           the price above which it pays a profit fee (0: fresh, fixed at lock)
        int256 commitEnd; //       last agreement of its commitment; -1: none
        uint256 commitShareBps;
        uint256 held; //           its held fees in escrow, all windows
        uint256 discount; //       profit fee forgone thanks to the commitment, not yet earned
        uint256 claimable;
        uint256 rolled;
        uint256 chargedBack;
        uint256 intent; //         consented roll: 0 none, type(uint256).max all, else wei
        bool evaluated;
        bool done;
    }

    /// @notice What a position's agreement gives it, computed from the position and the agreement's aggregates
    ///         (`outcomeOf`).
    struct Outcome {
        uint256 fee; //             profit fee charged
        uint256 heldFee; //         part of the fee held in escrow (clawback)
        uint256 discountAccrued; // fee forgone thanks to the commitment
        uint256 clawback; //        its own held fees taken back to make up a loss
        uint256 cover; //           loss cover paid from the reserve
        uint256 claimable; //       what it can claim or roll
        uint256 mark; //            its new mark
    }

    // ---------------------------------------------------------------- errors
    /**
     * @dev The terms of an agreement name another model than the series'.
     * @param modelId The model the terms name.
     * @param seriesModelId The series' model.
     */
    error ModelMismatch(bytes32 modelId, bytes32 seriesModelId);
    /**
     * @dev The series has ended (a default, or the price fell to zero): nothing can open or lock any more.
     */
    error SeriesEnded();
    /**
     * @dev The oracle now names another modeller for the series' model (`ScoreOracle.executeModellerChange`): the
     * series opens no new agreement; its agreements and positions run to their end as before.
     * @param modelId The series' model.
     * @param registeredModeller The modeller the oracle names now.
     */
    error ModellerReplaced(bytes32 modelId, address registeredModeller);
    /**
     * @dev A call re-entered the series while one of its token-calling functions ran (OpenZeppelin
     * ReentrancyGuard's error; the series keeps the guard's flag in its counters slot).
     */
    error ReentrancyGuardReentrantCall();
    /**
     * @dev The series price is zero: no agreement can lock on it.
     */
    error SeriesWipedOut();
    /**
     * @dev The series has no agreement yet.
     */
    error NoAgreement();
    /**
     * @dev No agreement has this index.
     * @param index The index given.
     */
    error UnknownAgreement(uint256 index);
    /**
     * @dev No position has this id.
     * @param positionId The id given.
     */
    error UnknownPosition(uint256 positionId);
    /**
     * @dev An agreement is open already: lock or cancel it before opening the next.
     * @param index The open agreement.
     */
    error NextAlreadyOpen(uint256 index);
    /**
     * @dev An earlier agreement is still locked or matured: at most one runs at a time.
     * @param index The agreement still running.
     */
    error PreviousNotSettled(uint256 index);
    /**
     * @dev The agreement pools less capital than the terms need to lock.
     * @param capital Capital pooled (token wei).
     * @param minimum Capital needed: minUnits * unitSize.
     */
    error BelowMinCapital(uint256 capital, uint256 minimum);
    /**
     * @dev The clawback share (the part of each profit fee held in escrow) is above 100%.
     * @param bps The share given, in basis points.
     */
    error ClawbackTooHigh(uint256 bps);
    /**
     * @dev Held fees would stay in escrow for more agreements than allowed.
     * @param agreements The window given.
     * @param limit The longest allowed.
     */
    error ClawbackWindowTooLong(uint256 agreements, uint256 limit);
    /**
     * @dev Only one of the clawback share and its window is set: both are zero, or both are set.
     * @param bps The share given.
     * @param agreements The window given.
     */
    error ClawbackHalfSet(uint256 bps, uint256 agreements);
    /**
     * @dev The terms offer more commitment options than allowed.
     * @param count Options given.
     * @param limit The most allowed.
     */
    error TooManyCommitments(uint256 count, uint256 limit);
    /**
     * @dev A commitment is not longer than the one before it (the first at least 2 agreements, none above 8).
     * @param index The commitment's position in the list.
     */
    error CommitmentNotAscending(uint256 index);
    /**
     * @dev A commitment's profit share is above 100%.
     * @param index The commitment's position in the list.
     * @param bps The share given, in basis points.
     */
    error CommitmentShareTooHigh(uint256 index, uint256 bps);
    /**
     * @dev The agreement's terms offer no commitment of this length.
     * @param agreements The length asked for.
     */
    error NoSuchCommitment(uint256 agreements);
    /**
     * @dev The position is committed on the same economics already: it cannot commit again before it ends.
     * @param commitEnd The last agreement of its commitment.
     */
    error AlreadyCommitted(uint256 commitEnd);
    /**
     * @dev The owner holds `MAX_OWNER_POSITIONS` positions in the agreement already.
     * @param owner The owner.
     * @param limit The most allowed.
     */
    error TooManyPositions(address owner, uint256 limit);
    /**
     * @dev The lock would need more than `MAX_COHORTS` + 1 cohorts (distinct marks).
     * @param count Cohorts needed.
     */
    error TooManyCohorts(uint256 count);
    /**
     * @dev The caller neither owns the position nor is an operator its owner approved.
     * @param caller The caller.
     */
    error NotOwner(address caller);
    /**
     * @dev A position cannot be transferred to the modeller.
     * @param to The receiver given.
     */
    error TransferToModeller(address to);
    /**
     * @dev A position cannot be transferred to the series or the agreement's staking address.
     * @param to The receiver given.
     */
    error TransferToAgreement(address to);
    /**
     * @dev A position cannot be transferred to its own owner.
     * @param to The receiver given.
     */
    error TransferToSelf(address to);
    /**
     * @dev A position cannot be transferred to the zero address.
     */
    error TransferToZero();
    /**
     * @dev `to` has not accepted transfers made by `caller` (`acceptTransfers`): nobody can push a position on
     * him. Ask the receiver to accept transfers from you, or let him call `transfer` as your operator.
     * @param to The receiver.
     * @param caller The caller.
     */
    error TransferNotAccepted(address to, address caller);
    /**
     * @dev A transfer asks for more capital than the position holds.
     * @param amount Capital asked for (token wei).
     * @param capital Capital the position holds.
     */
    error InsufficientCapital(uint256 amount, uint256 capital);
    /**
     * @dev A position of agreement `index` cannot roll now: the latest agreement is not open, or an agreement
     * that is not cancelled lies between them (it locked without the position). Wait for the modeller to open
     * the next agreement, or claim.
     * @param index The position's agreement.
     */
    error NoOpenNextAgreement(uint256 index);
    /**
     * @dev The open agreement cannot lock before `until`: the positions of the agreement before it have
     * `ROLL_WINDOW` after its settlement (or after this agreement opened) to roll in. Lock at `until`.
     * @param until When the lock becomes possible.
     */
    error RollWindowOpen(uint256 until);
    /**
     * @dev A series agreement takes deposits for at most 30 days after it opens (capital rolled in waits for its
     * lock): give an `openUntil` no later than `limit`.
     * @param openUntil The closing time given.
     * @param limit The latest allowed.
     */
    error OpenTooLong(uint256 openUntil, uint256 limit);
    /**
     * @dev The terms a rolling backer consented to (`termsHash`) are not the next agreement's.
     * @param index The next agreement.
     */
    error TermsMismatch(uint256 index);
    /**
     * @dev The position has been claimed or wholly rolled: nothing is left in it.
     * @param positionId The position.
     */
    error PositionClaimed(uint256 positionId);
    /**
     * @dev The position has no consented roll to execute (or revoke), and no standing commitment that continues.
     * @param positionId The position.
     */
    error NoConsent(uint256 positionId);
    /**
     * @dev The position's claim is zero: there is nothing to roll.
     * @param positionId The position.
     */
    error NothingToRoll(uint256 positionId);
    /**
     * @dev The series owes the modeller nothing right now.
     */
    error NothingToCollect();

    // ---------------------------------------------------------------- events
    /**
     * @dev The factory started the series (once, in the transaction that deployed it).
     * @param modeller The model's owner.
     * @param modelId The model.
     */
    event SeriesInitialized(address indexed modeller, bytes32 indexed modelId);
    /**
     * @dev The modeller opened an agreement.
     * @param index Its index.
     * @param terms Its single-agreement terms.
     * @param feeLadder Its fee ladder.
     * @param clawbackBps Part of each profit fee held in escrow.
     * @param clawbackAgreements Agreements the held part stays in escrow for.
     * @param commitments Its commitment options.
     * @param economics Hash of every term but openUntil and windDown (what a commitment binds to).
     * @param termsHash Hash of all the terms (what a rolling backer consents to).
     */
    event AgreementOpened(
        uint256 indexed index, Terms terms, FeeTier[] feeLadder, uint256 clawbackBps, uint256 clawbackAgreements,
        Commitment[] commitments, bytes32 economics, bytes32 termsHash
    );
    /**
     * @dev A backer deposited fresh capital into the open agreement.
     * @param index The agreement.
     * @param positionId The position the capital went to.
     * @param backer The backer.
     * @param amount Capital deposited (token wei).
     * @param commitEnd The last agreement of the position's commitment; -1: none.
     */
    event PositionDeposited(
        uint256 indexed index, uint256 indexed positionId, address indexed backer, uint256 amount, int256 commitEnd
    );
    /**
     * @dev A backer withdrew fresh capital from the open agreement.
     * @param index The agreement.
     * @param positionId The position.
     * @param backer The backer.
     * @param amount Capital withdrawn (token wei).
     */
    event PositionWithdrawn(uint256 indexed index, uint256 indexed positionId, address indexed backer, uint256 amount);
    /**
     * @dev The modeller posted or topped up an agreement's reserve.
     * @param index The agreement.
     * @param amount NMR added.
     * @param reserve The reserve after it.
     */
    event SeriesReservePosted(uint256 indexed index, uint256 amount, uint256 reserve);
    /**
     * @dev An agreement locked.
     * @param index The agreement.
     * @param startRound The first round counted.
     * @param capital C, the capital pooled.
     * @param upfrontFee U, credited to the modeller.
     * @param staked S = C - U, sent to the staking address.
     * @param reserve R, held in escrow.
     * @param priceStart P_start, the series price at the lock.
     * @param cohorts Cohorts (distinct marks) after the cohort cap.
     */
    event SeriesLocked(
        uint256 indexed index, uint256 startRound, uint256 capital, uint256 upfrontFee, uint256 staked,
        uint256 reserve, uint256 priceStart, uint256 cohorts
    );
    /**
     * @dev The cohort cap lifted every position with mark `lower` to mark `upper` (docs/series.md).
     * @param index The agreement.
     * @param lower The mark lifted.
     * @param upper The mark it was lifted to.
     */
    event CohortsMerged(uint256 indexed index, uint256 lower, uint256 upper);
    /**
     * @dev An agreement matured: its final value, end price and what the modeller owes are fixed.
     * @param index The agreement.
     * @param finalValue V.
     * @param priceEnd P_end, the series price after it.
     * @param amountDue What the modeller must repay.
     * @param owedTotal Upper bound of what the positions are owed in all (default payouts' denominator).
     * @param coverBound Upper bound of the loss covers (0 after a gain).
     * @param feeLowerBound L, a lower bound of the positions' profit fees.
     * @param deadline The end of the wind-down.
     */
    event SeriesMatured(
        uint256 indexed index, uint256 finalValue, uint256 priceEnd, uint256 amountDue, uint256 owedTotal,
        uint256 coverBound, uint256 feeLowerBound, uint256 deadline
    );
    /**
     * @dev Emitted with `SeriesMatured` when the oracle was overdue: rounds after `lastFinal` counted as zero.
     * @param index The agreement.
     * @param lastFinal The last round final at the oracle.
     * @param endRound The lockup's last round.
     */
    event SeriesMaturedOnFallback(uint256 indexed index, uint256 lastFinal, uint256 endRound);
    /**
     * @dev Part or all of an agreement's amount due was repaid.
     * @param index The agreement.
     * @param payer Who paid.
     * @param amount NMR repaid.
     * @param totalRepaid Repaid so far.
     */
    event SeriesRepaid(uint256 indexed index, address indexed payer, uint256 amount, uint256 totalRepaid);
    /**
     * @dev An agreement was repaid in full and settled; the series price is now its P_end.
     * @param index The agreement.
     * @param reserveUsed Reserve kept to cover losses.
     * @param reserveReturned Reserve credited back to the modeller.
     * @param price The series price after it.
     */
    event SeriesSettled(uint256 indexed index, uint256 reserveUsed, uint256 reserveReturned, uint256 price);
    /**
     * @dev The modeller was declared in default on an agreement: the series ends.
     * @param index The agreement.
     * @param caller Who declared it.
     * @param reserveUsed Reserve added to the positions' pool.
     * @param reserveReturned Reserve credited back to the modeller.
     * @param pool What the positions share.
     */
    event SeriesDefaulted(
        uint256 indexed index, address indexed caller, uint256 reserveUsed, uint256 reserveReturned, uint256 pool
    );
    /**
     * @dev An agreement was cancelled before its lock: everyone can claim his capital back.
     * @param index The agreement.
     * @param caller Who cancelled (the modeller, anyone after the deposit window, or the series' end).
     * @param reserveReturned Reserve credited back to the modeller.
     */
    event SeriesCancelled(uint256 indexed index, address indexed caller, uint256 reserveReturned);
    /**
     * @dev A position's outcome, computed when it is first touched after its agreement ended.
     * @param positionId The position.
     * @param fee Profit fee charged.
     * @param heldFee Part of the fee held in escrow.
     * @param clawback Its own held fees taken back to make up a loss.
     * @param cover Loss cover paid from the reserve.
     * @param claimable What it can claim or roll.
     * @param mark Its new mark.
     */
    event PositionSettled(
        uint256 indexed positionId, uint256 fee, uint256 heldFee, uint256 clawback, uint256 cover,
        uint256 claimable, uint256 mark
    );
    /**
     * @dev Part of a position's fee went into escrow.
     * @param positionId The position.
     * @param releaseAt The agreement at whose settlement it is released to the modeller.
     * @param amount NMR held.
     */
    event HeldFeeAdded(uint256 indexed positionId, uint256 releaseAt, uint256 amount);
    /**
     * @dev Held fees went back to the position to make up a loss.
     * @param positionId The position.
     * @param amount NMR clawed back.
     */
    event HeldFeeClawedBack(uint256 indexed positionId, uint256 amount);
    /**
     * @dev Held fees were released to the modeller (their window ended, or the position left the series).
     * @param positionId The position.
     * @param amount NMR released.
     */
    event HeldFeeReleased(uint256 indexed positionId, uint256 amount);
    /**
     * @dev Held fees went back to the position because the modeller defaulted.
     * @param positionId The position.
     * @param amount NMR returned.
     */
    event HeldFeeForfeited(uint256 indexed positionId, uint256 amount);
    /**
     * @dev A position's owner consented to roll (or revoked his consent: `amount` 0).
     * @param positionId The position.
     * @param amount Wei of the claim to roll; type(uint256).max: all of it.
     * @param commitAgreements The commitment taken in the next agreement (0: none).
     */
    event RollConsented(uint256 indexed positionId, uint256 amount, uint256 commitAgreements);
    /**
     * @dev Part or all of a position's claim rolled into the next agreement.
     * @param positionId The position.
     * @param newPositionId Its position in the next agreement.
     * @param amount NMR rolled.
     * @param chargedBack Commitment discount charged back to the modeller's benefit (an early exit).
     */
    event PositionRolled(
        uint256 indexed positionId, uint256 indexed newPositionId, uint256 amount, uint256 chargedBack
    );
    /**
     * @dev A position was paid its claim.
     * @param positionId The position.
     * @param owner Its owner, who was paid.
     * @param amount NMR paid.
     * @param chargedBack Commitment discount charged back (it left a commitment early).
     */
    event PositionClaimedFrom(uint256 indexed positionId, address indexed owner, uint256 amount, uint256 chargedBack);
    /**
     * @dev Capital of a locked position moved to another owner.
     * @param positionId The position it left.
     * @param toPositionId The receiver's position.
     * @param to The receiver.
     * @param amount Capital moved (token wei).
     */
    event PositionTransferred(
        uint256 indexed positionId, uint256 indexed toPositionId, address indexed to, uint256 amount
    );
    /**
     * @dev `owner` allowed (or no longer allows) `operator` to transfer and claim his positions.
     * @param owner The owner.
     * @param operator The operator.
     * @param approved Whether it is allowed.
     */
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    /**
     * @dev `receiver` accepts (or no longer accepts) positions transferred to him by `caller`.
     * @param receiver The receiver.
     * @param caller The address whose transfers he accepts.
     * @param accepted Whether he accepts them.
     */
    event TransfersAccepted(address indexed receiver, address indexed caller, bool accepted);
    /**
     * @dev The series credited NMR to the modeller (collected with `collect`).
     * @param amount NMR credited.
     * @param credit His credit after it.
     */
    event ModellerCredited(uint256 amount, uint256 credit);
    /**
     * @dev The modeller's credit was paid to him.
     * @param modeller The modeller.
     * @param amount NMR paid.
     */
    event ModellerCollected(address indexed modeller, uint256 amount);
    /**
     * @dev What an ended agreement still held after its last position was done (rounding dust) was credited to
     * the modeller.
     * @param index The agreement.
     * @param amount NMR credited.
     */
    event AgreementDustSwept(uint256 indexed index, uint256 amount);

    // ---------------------------------------------------------------- set-up and agreements
    /// @notice Start the series. Called once by the factory in the transaction that deploys it.
    /// @dev Requirements: the caller is the factory (`NotFactory`); the series is not initialised
    ///      (`AlreadyInitialized`); `modeller_` is not zero (`ModellerZero`).
    /// @param modeller_ The model's owner.
    /// @param modelId_ The Numerai model, as registered in the score oracle.
    function initialize(address modeller_, bytes32 modelId_) external;

    /// @notice Open the next agreement of the series with (possibly new) terms, while the current one is locked
    ///         or after it. New terms bind only backers who deposit into it or consent to roll into it.
    /// @dev Requirements:
    ///      - the caller is the modeller (`NotModeller`); the series has not ended (`SeriesEnded`); no agreement
    ///        is open (`NextAlreadyOpen`); the terms are for the series' model (`ModelMismatch`);
    ///        the oracle still names the series' modeller for it (`ModellerReplaced`) and, if the terms
    ///        require it, attests the model (`ModelNotAttested`);
    ///      - the terms pass every limit of a single agreement (`IBackingCommon`'s terms errors) and deposits
    ///        close within 30 days (`OpenTooLong`);
    ///      - the clawback is both set or both zero, at most 100% over at most 4 agreements (`ClawbackHalfSet`,
    ///        `ClawbackTooHigh`, `ClawbackWindowTooLong`);
    ///      - at most 4 commitments, ascending in 2..8 agreements, shares at most 100% (`TooManyCommitments`,
    ///        `CommitmentNotAscending`, `CommitmentShareTooHigh`).
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
    ) external returns (uint256 index);

    /// @notice Post or top up the reserve of an agreement (Open or Locked).
    /// @dev Requirements: the caller is the modeller (`NotModeller`); the agreement exists (`UnknownAgreement`)
    ///      and is Open or Locked (`WrongPhase`); `amount` is not zero (`ZeroAmount`).
    /// @param index The agreement.
    /// @param amount NMR to add; needs an allowance.
    function postReserve(uint256 index, uint256 amount) external;

    /// @notice Deposit fresh units into the open agreement, optionally committing to `commit` consecutive
    ///         agreements (one of the terms' commitment options; 0: none).
    /// @dev Requirements:
    ///      - an agreement exists (`NoAgreement`), the latest is Open (`WrongPhase`) and its deposit window has
    ///        not closed (`DepositWindowClosed`);
    ///      - `units` is not zero (`ZeroAmount`) and fits the capacity left (`CapacityExceeded`, in token wei) and,
    ///        once a reserve is posted, what it covers (`DepositBeyondReserve`);
    ///      - `commit` is 0 or one of the terms' options (`NoSuchCommitment`); the caller holds fewer than
    ///        `MAX_OWNER_POSITIONS` positions there, or one with this commitment (`TooManyPositions`).
    /// @param units Units of `unitSize` NMR; needs an allowance.
    /// @param commit Agreements to commit to, or 0.
    /// @return positionId The position the units were added to.
    function deposit(uint256 units, uint256 commit) external returns (uint256 positionId);

    /// @notice Withdraw fresh units from the open agreement (from the position with the same commitment).
    /// @dev Requirements: an agreement exists (`NoAgreement`) and the latest is Open (`WrongPhase`); `units` is
    ///      not zero (`ZeroAmount`) and at most the units the caller deposited with this commitment
    ///      (`InsufficientUnits`).
    /// @param units Units to take back.
    /// @param commit The commitment the units were deposited with (0: none).
    function withdraw(uint256 units, uint256 commit) external;

    /// @notice Cancel the open agreement: the modeller at any time, anyone once its deposit window has closed.
    ///         Everyone (fresh or rolled) can claim his capital back in full; the reserve returns to the modeller.
    ///         Rolled positions keep their mark, held fees and commitment and may roll on into the agreement that
    ///         opens next (issue 21 F2). Another agreement may then open.
    /// @dev Requirements: an agreement exists (`NoAgreement`) and the latest is Open (`WrongPhase`); the caller is
    ///      the modeller or the deposit window has closed (`OpenWindowNotOver`).
    function cancel() external;

    /// @notice Lock the open agreement: fix the price P_start, give fresh capital its mark, apply the cohort cap,
    ///         credit the upfront fee and send the staked capital to the staking address. Needs every earlier
    ///         agreement settled or cancelled: at most one agreement of the series is locked or matured at a time,
    ///         so each starts at the price the last one ended.
    /// @dev Requirements:
    ///      - the caller is the modeller (`NotModeller`); an agreement exists (`NoAgreement`), the latest is Open
    ///        (`WrongPhase`) and its deposit window has not closed (`DepositWindowClosed`);
    ///      - no earlier agreement is locked or matured (`PreviousNotSettled`); the capital reaches minUnits
    ///        (`BelowMinCapital`) and the reserve covers it (`ReserveTooSmall`);
    ///      - the price is not zero (`SeriesWipedOut`) and the series has not ended (`SeriesEnded`);
    ///      - the rolls' window is over when something could roll in (`RollWindowOpen`, see `rollsOpenUntil`);
    ///      - terms that require an attested model: the oracle still attests it (`ModelNotAttested`);
    ///      - the oracle accepts the model's next round (its errors, e.g. `ModelNotStarted`); the cohorts fit
    ///        (`TooManyCohorts`).
    function lock() external;

    // ---------------------------------------------------------------- maturity
    /// @notice Mature the locked agreement once its rounds are final at the oracle (or overdue, counted as zero
    ///         return: see `IBackingAgreement.mature`): fix V, P_end and what the modeller owes. Anyone may call.
    /// @dev Requirements: the agreement exists (`UnknownAgreement`) and is Locked (`WrongPhase`); every round of
    ///      its lockup is final or overdue (`RoundsOutstanding`).
    /// @param index The locked agreement.
    function mature(uint256 index) external;

    /// @notice Repay part or all of what the matured agreement is due. Anyone may pay for the modeller; the
    ///         last part settles the agreement.
    /// @dev Requirements: the agreement exists (`UnknownAgreement`) and is Matured (`WrongPhase`); `amount` is not
    ///      zero (`ZeroAmount`) and at most what is outstanding (`RepaymentExceedsDue`).
    /// @param index The matured agreement.
    /// @param amount NMR; at most what is outstanding.
    function repay(uint256 index, uint256 amount) external;

    /// @notice Declare a default once the wind-down has passed without full repayment. Anyone may call.
    ///         Positions share the repayment and as much reserve as they are owed, each gets all its held fees
    ///         back, the series ends, an open next agreement is cancelled and the factory records the default in
    ///         the modeller's record.
    /// @dev Requirements: the agreement exists (`UnknownAgreement`) and is Matured (`WrongPhase`); its deadline
    ///      has passed (`WindDownNotOver`).
    /// @param index The matured agreement.
    function declareDefault(uint256 index) external;

    // ---------------------------------------------------------------- positions
    /// @notice Consent to roll `amount` wei of the position's claim (type(uint256).max: all of it) into the next
    ///         agreement, whose terms the caller has seen (`termsHash`, checked unless zero), optionally committing
    ///         to `commit` agreements from there. Before settlement this records the consent, which anyone may
    ///         execute after it (`executeRoll`); after settlement the roll happens at once. The next agreement is
    ///         the latest, if it is open and every agreement between was cancelled; a position rolled into an
    ///         agreement that was then cancelled rolls on from there at once, with its mark.
    /// @dev Requirements:
    ///      - the position exists (`UnknownPosition`) and the caller owns it (`NotOwner`); revoking (`amount` 0)
    ///        needs a consent to revoke (`NoConsent`);
    ///      - its agreement is Locked, Matured or Settled, or Cancelled after it rolled in (`WrongPhase`); the next
    ///        agreement is open (`NoOpenNextAgreement`) with the consented terms (`TermsMismatch`);
    ///      - the position is not claimed or rolled (`PositionClaimed`); `commit` is 0 or one of the next terms'
    ///        options (`NoSuchCommitment`) and not a second commitment on the same economics (`AlreadyCommitted`);
    ///      - a roll made at once: the claim is not zero (`NothingToRoll`), fits the next agreement's capacity
    ///        (`CapacityExceeded`) and the owner's positions there (`TooManyPositions`).
    /// @param positionId The caller's position.
    /// @param amount Wei of the claim to roll, or type(uint256).max for all; 0 revokes the caller's consent.
    /// @param commit Agreements to commit to in the next agreement (0: none).
    /// @param termsHash The next agreement's `termsHash` the caller consents to, or zero.
    /// @return newPositionId The position in the next agreement once rolled (0 if only consented).
    function roll(uint256 positionId, uint256 amount, uint256 commit, bytes32 termsHash)
        external
        returns (uint256 newPositionId);

    /// @notice Carry out a consented roll, or a standing commitment on unchanged economics, after settlement.
    ///         Anyone may call (the modeller's keeper): the backer sends no transaction.
    /// @dev Requirements: the position exists (`UnknownPosition`); its agreement is Settled, or Cancelled after it
    ///      rolled in (`WrongPhase`); the next agreement is open (`NoOpenNextAgreement`); the position is not
    ///      claimed or rolled (`PositionClaimed`) and consented or has a standing commitment (`NoConsent`); the
    ///      roll fits (`NothingToRoll`, `CapacityExceeded`, `TooManyPositions`).
    /// @param positionId The position to roll.
    /// @return newPositionId Its position in the next agreement.
    function executeRoll(uint256 positionId) external returns (uint256 newPositionId);

    /// @notice Pay a position what it is due: Settled, the part not rolled (less the charge-back if it leaves a
    ///         commitment early); Defaulted, its pool share plus its own held fees; Cancelled, its capital.
    ///         By the owner or his operator (nobody else ends a position: no forced charge-back, no pre-empted
    ///         roll); the owner is paid. Its remaining held fees are released (it left the series).
    /// @dev Requirements: the position exists (`UnknownPosition`); the caller is its owner or his operator
    ///      (`NotOwner`); its agreement is Settled, Defaulted or Cancelled (`WrongPhase`); it is not claimed
    ///      (`PositionClaimed`).
    /// @param positionId The position.
    /// @return amount NMR paid to the owner.
    function claim(uint256 positionId) external returns (uint256 amount);

    /// @notice Move `amount` wei of a locked position's capital to `to` (a sale before maturity); by the owner or
    ///         an operator he approved (`setOperator`). Its mark and commitment move whole, its held fees and
    ///         accrued discount pro rata; each owner's fee tier is by his total capital in the agreement at
    ///         maturity.
    /// @dev Requirements:
    ///      - the position exists (`UnknownPosition`) and its agreement is Locked (`WrongPhase`); the caller is its
    ///        owner or his operator (`NotOwner`);
    ///      - `to` is not the modeller, the series, the staking address, the owner or zero (`TransferToModeller`,
    ///        `TransferToAgreement`, `TransferToSelf`, `TransferToZero`), and is the caller or accepts transfers
    ///        from him (`TransferNotAccepted`);
    ///      - `amount` is not zero (`ZeroAmount`) and at most the position's capital (`InsufficientCapital`); the
    ///        receiver has room for a position (`TooManyPositions`).
    /// @param positionId The position (the caller's, or one whose owner approved the caller).
    /// @param to The receiver.
    /// @param amount Wei of capital to move.
    /// @return toPositionId The receiver's position (created if he had none with this mark and commitment).
    function transfer(uint256 positionId, address to, uint256 amount) external returns (uint256 toPositionId);

    /// @notice Let `operator` transfer and claim the caller's positions (claims pay the owner), or revoke it: a
    ///         marketplace or escrow contract can then settle a sale atomically (position against payment) instead
    ///         of one side trusting the other. It covers all the caller's positions in this series until revoked.
    /// @param operator The address allowed (or no longer allowed) to transfer and claim the caller's positions.
    /// @param approved True to allow, false to revoke.
    function setOperator(address operator, bool approved) external;

    /// @notice Accept (or stop accepting) positions transferred to the caller by `caller_`: a seller, or the
    ///         marketplace that settles sales. Nobody else can push a position on the caller (a push could move
    ///         his fee tier or fill his MAX_OWNER_POSITIONS).
    /// @param caller_ The address whose `transfer` calls to the caller are accepted.
    /// @param accepted True to accept, false to refuse.
    function acceptTransfers(address caller_, bool accepted) external;

    /// @notice Settle a position's books without paying it: fix its outcome once its agreement ended, and release
    ///         to the modeller the held fees whose window has ended or that left the series with it (the next
    ///         agreement locked without it). Anyone may call; does nothing when there is nothing to do.
    /// @dev Requirements: the position exists (`UnknownPosition`).
    /// @param positionId The position.
    function poke(uint256 positionId) external;

    /// @notice Send the modeller what the series credited him (fees, reserve returned, released held fees,
    ///         charge-backs, dust). Anyone may call; the modeller is paid.
    /// @dev Requirements: the credit is not zero (`NothingToCollect`).
    function collect() external;

    // ---------------------------------------------------------------- constants
    /// @notice Basis points in 100% (10,000).
    function BPS() external view returns (uint256);

    /// @notice The fixed-point one (1e18): the series price starts at 1.
    function ONE() external view returns (uint256);

    /// @notice The most cohorts (distinct marks above the price) an agreement keeps after its lock's cohort cap.
    function MAX_COHORTS() external view returns (uint256);

    /// @notice The most positions one owner may hold in one agreement.
    function MAX_OWNER_POSITIONS() external view returns (uint256);

    /// @notice After a settlement (or the opening of the next agreement, if later) the next agreement cannot lock
    ///         for this long, so that consented and standing rolls can be executed (by anyone) and backers can
    ///         roll: a settlement and a lock in one bundle would make every roll lapse (issue 12 M-2).
    function ROLL_WINDOW() external view returns (uint256);

    // ---------------------------------------------------------------- views
    /// @notice The staked token (NMR), shared by every clone of the implementation.
    function token() external view returns (IERC20);

    /// @notice The score oracle that reports the model's rounds.
    function oracle() external view returns (IScoreOracle);

    /// @notice The factory that initialises series and records defaults.
    function factory() external view returns (address);

    /// @notice The modeller (the model's owner at the oracle when the series started).
    function modeller() external view returns (address);

    /// @notice The Numerai model of every agreement of the series.
    function modelId() external view returns (bytes32);

    /// @notice The series price P (1e18 at the start; each settlement sets it to the agreement's P_end).
    function price() external view returns (uint256);

    /// @notice Whether the series has ended (a default, or P = 0).
    function ended() external view returns (bool);

    /// @notice Whether `operator` may transfer and claim `owner`'s positions (a marketplace or escrow).
    /// @param owner The owner.
    /// @param operator The operator.
    /// @return Whether it may.
    function isOperator(address owner, address operator) external view returns (bool);

    /// @notice Whether `receiver` accepts positions transferred to him by `caller`.
    /// @param receiver The receiver.
    /// @param caller The caller of `transfer`.
    /// @return Whether he accepts them.
    function acceptsTransfersFrom(address receiver, address caller) external view returns (bool);

    /// @notice When the open agreement may lock as far as the rolls' window goes (`RollWindowOpen`); 0: no window
    ///         (nothing before it ran).
    /// @return A unix time, or 0.
    function rollsOpenUntil() external view returns (uint256);

    /// @notice Agreements opened so far.
    function agreementCount() external view returns (uint256);

    /// @notice Held fees in escrow (all positions).
    function escrow() external view returns (uint256);

    /// @notice NMR credited to the modeller, not yet collected (`collect`).
    function modellerCredit() external view returns (uint256);

    /// @notice Positions created so far (ids start at 1).
    function positionCount() external view returns (uint256);

    /// @notice One agreement's state.
    /// @dev Requirements: the agreement exists (`UnknownAgreement`).
    /// @param index The agreement.
    /// @return v Its state.
    function agreement(uint256 index) external view returns (AgreementView memory v);

    /// @notice The cohorts of an agreement: marks (0: fresh capital before the lock), W_c and n_c.
    /// @dev Requirements: the agreement exists (`UnknownAgreement`).
    /// @param index The agreement.
    /// @return marks The cohorts' marks.
    /// @return weights Each cohort's weight W_c (capital times fee rate).
    /// @return counts Each cohort's positions n_c.
    function cohortsOf(uint256 index)
        external
        view
        returns (uint256[] memory marks, uint256[] memory weights, uint256[] memory counts);

    /// @notice A position's record. Before its agreement's outcome is applied to it (`evaluated`), `claimable`
    ///         is 0: see `outcomeOf`.
    /// @dev Requirements: the position exists (`UnknownPosition`).
    /// @param positionId The position.
    /// @return v Its record.
    function positionOf(uint256 positionId) external view returns (PositionView memory v);

    /// @notice A position's four escrow windows, indexed by (agreement index at release) mod 4.
    /// @dev Requirements: the position exists (`UnknownPosition`).
    /// @param positionId The position.
    /// @return The held fees per window.
    function heldOf(uint256 positionId) external view returns (uint256[4] memory);

    /// @notice What a position's agreement gives it (from maturity on; before `claim` or `poke` applies it).
    /// @dev Requirements: the position exists (`UnknownPosition`); its agreement is Matured, Settled or Defaulted
    ///      (`WrongPhase`).
    /// @param positionId The position.
    /// @return The outcome.
    function outcomeOf(uint256 positionId) external view returns (Outcome memory);

    /// @notice An owner's live positions in an agreement, and his total capital there (his fee tier's basis).
    /// @param index The agreement.
    /// @param owner The owner.
    /// @return The position ids.
    /// @return His total capital (token wei).
    function positionsOf(uint256 index, address owner) external view returns (uint256[] memory, uint256);
}
