// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingAgreement} from "../agreement/IBackingAgreement.sol";

/// @title A series: a modeller's successive backing agreements for one model (docs/series.md).
/// @notice Reuses the single agreement's phases, terms, fee tiers and errors (IBackingAgreement) and adds
///         positions with a high-water mark per cohort, rollover, clawback escrow, commitment discounts and
///         transfers. Every amount is the one `backing/series.py` computes, to the wei.
interface IBackingSeries is IBackingAgreement {
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

    // ---------------------------------------------------------------- errors
    error ModelMismatch(bytes32 modelId, bytes32 seriesModelId);
    error SeriesEnded();
    error SeriesWipedOut();
    error NoAgreement();
    error UnknownAgreement(uint256 index);
    error UnknownPosition(uint256 positionId);
    error NextAlreadyOpen(uint256 index);
    error PreviousNotSettled(uint256 index);
    error BelowMinCapital(uint256 capital, uint256 minimum);
    error ClawbackTooHigh(uint256 bps);
    error ClawbackWindowTooLong(uint256 agreements, uint256 limit);
    error ClawbackHalfSet(uint256 bps, uint256 agreements);
    error TooManyCommitments(uint256 count, uint256 limit);
    error CommitmentNotAscending(uint256 index);
    error CommitmentShareTooHigh(uint256 index, uint256 bps);
    error NoSuchCommitment(uint256 agreements);
    error AlreadyCommitted(uint256 commitEnd);
    error TooManyPositions(address owner, uint256 limit);
    error TooManyCohorts(uint256 count);
    error NotOwner(address caller);
    error TransferToModeller(address to);
    error TransferToAgreement(address to);
    error TransferToSelf(address to);
    error TransferToZero();
    /// @notice `to` has not accepted transfers made by `caller` (`acceptTransfers`): nobody can push a position
    ///         on him. Ask the receiver to accept transfers from you, or let him call `transfer` as your operator.
    error TransferNotAccepted(address to, address caller);
    error InsufficientCapital(uint256 amount, uint256 capital);
    /// @notice A position of agreement `index` cannot roll now: the latest agreement is not open, or an agreement
    ///         that is not cancelled lies between them (it locked without the position). Wait for the modeller to
    ///         open the next agreement, or claim.
    error NoOpenNextAgreement(uint256 index);
    /// @notice The open agreement cannot lock before `until`: the positions of the agreement before it have
    ///         ROLL_WINDOW after its settlement (or after this agreement opened) to roll in. Lock at `until`.
    error RollWindowOpen(uint256 until);
    /// @notice A series agreement takes deposits for at most 30 days after it opens (capital rolled in waits for
    ///         its lock): give an `openUntil` no later than `limit`.
    error OpenTooLong(uint256 openUntil, uint256 limit);
    error TermsMismatch(uint256 index);
    error PositionClaimed(uint256 positionId);
    error NoConsent(uint256 positionId);
    error NothingToRoll(uint256 positionId);
    error NothingToCollect();

    // ---------------------------------------------------------------- events
    event SeriesInitialized(address indexed modeller, bytes32 indexed modelId);
    event AgreementOpened(
        uint256 indexed index, Terms terms, FeeTier[] feeLadder, uint256 clawbackBps, uint256 clawbackAgreements,
        Commitment[] commitments, bytes32 economics, bytes32 termsHash
    );
    event PositionDeposited(
        uint256 indexed index, uint256 indexed positionId, address indexed backer, uint256 amount, int256 commitEnd
    );
    event PositionWithdrawn(uint256 indexed index, uint256 indexed positionId, address indexed backer, uint256 amount);
    event SeriesReservePosted(uint256 indexed index, uint256 amount, uint256 reserve);
    event SeriesLocked(
        uint256 indexed index, uint256 startRound, uint256 capital, uint256 upfrontFee, uint256 staked,
        uint256 reserve, uint256 priceStart, uint256 cohorts
    );
    /// @notice The cohort cap lifted every position with mark `lower` to mark `upper` (docs/series.md).
    event CohortsMerged(uint256 indexed index, uint256 lower, uint256 upper);
    event SeriesMatured(
        uint256 indexed index, uint256 finalValue, uint256 priceEnd, uint256 amountDue, uint256 owedTotal,
        uint256 coverBound, uint256 feeLowerBound, uint256 deadline
    );
    event SeriesMaturedOnFallback(uint256 indexed index, uint256 lastFinal, uint256 endRound);
    event SeriesRepaid(uint256 indexed index, address indexed payer, uint256 amount, uint256 totalRepaid);
    event SeriesSettled(uint256 indexed index, uint256 reserveUsed, uint256 reserveReturned, uint256 price);
    event SeriesDefaulted(
        uint256 indexed index, address indexed caller, uint256 reserveUsed, uint256 reserveReturned, uint256 pool
    );
    event SeriesCancelled(uint256 indexed index, address indexed caller, uint256 reserveReturned);
    /// @notice A position's outcome, computed when it is first touched after its agreement ended.
    event PositionSettled(
        uint256 indexed positionId, uint256 fee, uint256 heldFee, uint256 clawback, uint256 cover,
        uint256 claimable, uint256 mark
    );
    event HeldFeeAdded(uint256 indexed positionId, uint256 releaseAt, uint256 amount);
    event HeldFeeClawedBack(uint256 indexed positionId, uint256 amount);
    event HeldFeeReleased(uint256 indexed positionId, uint256 amount);
    event HeldFeeForfeited(uint256 indexed positionId, uint256 amount);
    event RollConsented(uint256 indexed positionId, uint256 amount, uint256 commitAgreements);
    event PositionRolled(
        uint256 indexed positionId, uint256 indexed newPositionId, uint256 amount, uint256 chargedBack
    );
    event PositionClaimedFrom(uint256 indexed positionId, address indexed owner, uint256 amount, uint256 chargedBack);
    event PositionTransferred(
        uint256 indexed positionId, uint256 indexed toPositionId, address indexed to, uint256 amount
    );
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    /// @notice `receiver` accepts (or no longer accepts) positions transferred to him by `caller`.
    event TransfersAccepted(address indexed receiver, address indexed caller, bool accepted);
    event ModellerCredited(uint256 amount, uint256 credit);
    event ModellerCollected(address indexed modeller, uint256 amount);
    event AgreementDustSwept(uint256 indexed index, uint256 amount);
}
