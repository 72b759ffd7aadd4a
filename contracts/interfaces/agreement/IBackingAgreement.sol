// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title A backing agreement: backers fund a modeller's NMR stake on terms he offers.
interface IBackingAgreement {
    enum Phase {
        Open, //      backers deposit and withdraw, the modeller posts his reserve
        Locked, //    capital is staked; the oracle posts the lockup's rounds
        Matured, //   the amount due is known; the modeller repays within the wind-down
        Settled, //   fully repaid: backers claim what the terms give them
        Defaulted, // not repaid in time: backers share the repayment and the reserve
        Cancelled //  never locked: everyone gets back exactly what they put in
    }

    /// @notice The terms a modeller offers. Amounts in token wei, shares in basis points (10000 = 100%).
    struct Terms {
        bytes32 modelId; //          the Numerai model, as registered in the score oracle
        uint256 unitSize; //         NMR per unit
        uint256 minUnits; //         units needed to lock
        uint256 maxUnits; //         capacity
        uint256 profitShareBps; //   modeller's share of gains (base tier)
        uint256 burnShareBps; //     modeller's share of losses, paid from the reserve
        uint256 reserveRatioBps; //  reserve required at lock, relative to the staked capital (may exceed 100%)
        uint256 upfrontFeeBps; //    paid to the modeller at lock, out of the backers' capital
        uint256 lockupRounds; //     resolved rounds the agreement runs for
        uint256 openUntil; //        deposits close (unix time); lock by then or anyone may cancel
        uint256 windDown; //         seconds the modeller has to repay after maturity
        address stakingAddress; //   where the staked capital goes at lock (the modeller's Numerai wallet)
    }

    /// @notice A fee tier: a backer holding at least `minUnits` units pays `profitShareBps` on gains.
    struct FeeTier {
        uint256 minUnits;
        uint256 profitShareBps;
    }

    // ---------------------------------------------------------------- errors: terms
    error UnitSizeOutOfRange(uint256 unitSize);
    error MinUnitsZero();
    error MaxUnitsBelowMinUnits(uint256 minUnits, uint256 maxUnits);
    error MaxUnitsTooLarge(uint256 maxUnits, uint256 limit);
    error ProfitShareTooHigh(uint256 bps);
    error BurnShareTooHigh(uint256 bps);
    error ReserveRatioTooHigh(uint256 bps, uint256 limit);
    error UpfrontFeeTooHigh(uint256 bps, uint256 limit);
    error LockupRoundsOutOfRange(uint256 rounds, uint256 limit);
    error OpenUntilNotInFuture(uint256 openUntil);
    error OpenUntilTooFar(uint256 openUntil, uint256 limit);
    error WindDownOutOfRange(uint256 windDown, uint256 minimum, uint256 maximum);
    error StakingAddressZero();
    error ModellerZero();
    error FeeLadderTooLong(uint256 length, uint256 limit);
    error FeeTierMinUnitsNotAscending(uint256 index);
    error FeeTierShareTooHigh(uint256 index, uint256 bps);

    // ---------------------------------------------------------------- errors: actions
    error AlreadyInitialized();
    error NotFactory(address caller);
    error NotModeller(address caller);
    error WrongPhase(Phase actual);
    error ReentrantCall();
    error ZeroAmount();
    error DepositWindowClosed(uint256 openUntil);
    error CapacityExceeded(uint256 requested, uint256 available);
    error InsufficientUnits(uint256 requested, uint256 held);
    error OpenWindowNotOver(uint256 openUntil);
    error BelowMinUnits(uint256 totalUnits, uint256 minUnits);
    error ReserveTooSmall(uint256 reserve, uint256 required);
    /// @notice Once a reserve is posted, a deposit may not take the stake beyond what it covers (issue 12 L-1: a
    ///      deposit front-running `lock` cannot make the posted reserve insufficient). `required` is the reserve
    ///      the deposit would need, `reserve` the one posted; the modeller tops it up to take more.
    error DepositBeyondReserve(uint256 required, uint256 reserve);
    error ModelNotStarted(uint256 startRound, uint256 firstRound);
    error RoundsOutstanding(uint256 lastPosted, uint256 endRound);
    error RepaymentExceedsDue(uint256 amount, uint256 outstanding);
    error WindDownNotOver(uint256 deadline);
    error NothingToClaim(address backer);
    error AlreadyClaimed(address backer);
    error ClaimsOutstanding(uint256 remaining);

    // ---------------------------------------------------------------- events
    event Initialized(address indexed modeller, bytes32 indexed modelId, Terms terms, FeeTier[] feeLadder);
    event Deposited(address indexed backer, uint256 units, uint256 backerUnits, uint256 totalUnits);
    event Withdrawn(address indexed backer, uint256 units, uint256 backerUnits, uint256 totalUnits);
    event ReservePosted(address indexed modeller, uint256 amount, uint256 reserve);
    event Locked(uint256 startRound, uint256 endRound, uint256 stakedCapital, uint256 upfrontFee, uint256 reserve);
    event Matured(uint256 finalValue, uint256 amountDue, uint256 owedTotal, uint256 coverBound, uint256 deadline);
    /// @dev Emitted with Matured when the oracle was overdue: rounds after `lastFinal` counted as zero return.
    event MaturedOnFallback(uint256 lastFinal, uint256 endRound);
    event Repaid(address indexed payer, uint256 amount, uint256 totalRepaid);
    event Settled(uint256 repaid, uint256 reserveUsed, uint256 reserveReturned);
    event Defaulted(address indexed caller, uint256 repaid, uint256 reserveUsed, uint256 reserveReturned, uint256 pool);
    event Cancelled(address indexed caller, uint256 reserveReturned);
    event Claimed(address indexed backer, uint256 amount);
    event DustSwept(address indexed to, uint256 amount);
}
