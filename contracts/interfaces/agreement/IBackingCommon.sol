// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title What a single agreement and every agreement of a series share: phases, terms, fee tiers and errors.
/// @notice `IBackingAgreement` (one agreement) and `IBackingSeries` (a modeller's successive agreements) both
///         extend it, so the same terms are checked with the same errors in both (`TermsRules`).
interface IBackingCommon {
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
        bool requireAttestedModel; // the oracle must attest the model (checked at creation or opening and at lock)
    }

    /// @notice A fee tier: a backer holding at least `minUnits` units pays `profitShareBps` on gains.
    struct FeeTier {
        uint256 minUnits;
        uint256 profitShareBps;
    }

    // ---------------------------------------------------------------- errors: terms
    /**
     * @dev The terms' unit size is zero or above `MAX_UNIT_SIZE`.
     * @param unitSize The unit size given (token wei).
     */
    error UnitSizeOutOfRange(uint256 unitSize);
    /**
     * @dev The terms need zero units to lock: `minUnits` must be at least 1.
     */
    error MinUnitsZero();
    /**
     * @dev The capacity is below the units needed to lock.
     * @param minUnits The terms' minUnits.
     * @param maxUnits The terms' maxUnits.
     */
    error MaxUnitsBelowMinUnits(uint256 minUnits, uint256 maxUnits);
    /**
     * @dev The capacity is above what the contract can count.
     * @param maxUnits The terms' maxUnits.
     * @param limit The largest allowed (`MAX_UNITS`).
     */
    error MaxUnitsTooLarge(uint256 maxUnits, uint256 limit);
    /**
     * @dev The modeller's base share of gains is above 100%.
     * @param bps The share given, in basis points.
     */
    error ProfitShareTooHigh(uint256 bps);
    /**
     * @dev The modeller's share of losses is above 100%.
     * @param bps The share given, in basis points.
     */
    error BurnShareTooHigh(uint256 bps);
    /**
     * @dev The reserve ratio is above `MAX_RESERVE_RATIO_BPS`.
     * @param bps The ratio given, in basis points of the staked capital.
     * @param limit The largest allowed.
     */
    error ReserveRatioTooHigh(uint256 bps, uint256 limit);
    /**
     * @dev The upfront fee is above `MAX_UPFRONT_FEE_BPS`.
     * @param bps The fee given, in basis points of the pooled capital.
     * @param limit The largest allowed.
     */
    error UpfrontFeeTooHigh(uint256 bps, uint256 limit);
    /**
     * @dev The lockup is zero rounds or longer than `MAX_LOCKUP_ROUNDS`.
     * @param rounds The lockup given.
     * @param limit The longest allowed.
     */
    error LockupRoundsOutOfRange(uint256 rounds, uint256 limit);
    /**
     * @dev The deposit window would close now or in the past.
     * @param openUntil The closing time given (unix seconds).
     */
    error OpenUntilNotInFuture(uint256 openUntil);
    /**
     * @dev The deposit window would close more than `MAX_OPEN_PERIOD` from now.
     * @param openUntil The closing time given.
     * @param limit The latest allowed closing time.
     */
    error OpenUntilTooFar(uint256 openUntil, uint256 limit);
    /**
     * @dev The wind-down (the time to repay after maturity) is outside its bounds.
     * @param windDown The wind-down given (seconds).
     * @param minimum The shortest allowed (`MIN_WIND_DOWN`).
     * @param maximum The longest allowed (`MAX_WIND_DOWN`).
     */
    error WindDownOutOfRange(uint256 windDown, uint256 minimum, uint256 maximum);
    /**
     * @dev The staking address is zero or the contract itself: the staked capital would be lost or never leave.
     */
    error StakingAddressZero();
    /**
     * @dev The terms require an attested model and the oracle does not attest this one (never attested, the
     * attestation withdrawn, or cleared by a change of modeller): the modeller asks the oracle's signers to attest
     * it; an agreement that cannot lock is cancelled and every deposit comes back.
     * @param modelId The model.
     */
    error ModelNotAttested(bytes32 modelId);
    /**
     * @dev The modeller given at initialisation is the zero address.
     */
    error ModellerZero();
    /**
     * @dev The fee ladder has more than `MAX_FEE_TIERS` tiers.
     * @param length Tiers given.
     * @param limit The most allowed.
     */
    error FeeLadderTooLong(uint256 length, uint256 limit);
    /**
     * @dev A fee tier's minUnits is not above the previous tier's, is zero, or is above the capacity.
     * @param index The tier's position in the ladder.
     */
    error FeeTierMinUnitsNotAscending(uint256 index);
    /**
     * @dev A fee tier's share of gains is above 100%.
     * @param index The tier's position in the ladder.
     * @param bps The share given, in basis points.
     */
    error FeeTierShareTooHigh(uint256 index, uint256 bps);

    // ---------------------------------------------------------------- errors: actions
    /**
     * @dev `initialize` was called a second time: a contract is initialised once, by its factory.
     */
    error AlreadyInitialized();
    /**
     * @dev Only the factory may initialise the contract.
     * @param caller The caller.
     */
    error NotFactory(address caller);
    /**
     * @dev Only the modeller may take this step (post a reserve, lock, open an agreement of a series).
     * @param caller The caller.
     */
    error NotModeller(address caller);
    /**
     * @dev The step is not allowed in the agreement's current phase.
     * @param actual The phase the agreement is in.
     */
    error WrongPhase(Phase actual);
    /**
     * @dev A call re-entered the contract while one of its token transfers was running.
     */
    error ReentrantCall();
    /**
     * @dev An amount (units, reserve, repayment, capital) of zero was given.
     */
    error ZeroAmount();
    /**
     * @dev The deposit window has closed: no deposit, and no lock (anyone may cancel instead).
     * @param openUntil When it closed (unix seconds).
     */
    error DepositWindowClosed(uint256 openUntil);
    /**
     * @dev A deposit would take the agreement beyond its capacity.
     * @param requested Units asked for (a series: token wei).
     * @param available Units still available (a series: token wei).
     */
    error CapacityExceeded(uint256 requested, uint256 available);
    /**
     * @dev A withdrawal asks for more units than the backer holds.
     * @param requested Units asked for.
     * @param held Units the backer holds.
     */
    error InsufficientUnits(uint256 requested, uint256 held);
    /**
     * @dev Only the modeller may cancel while the deposit window is open; anyone may once it has closed.
     * @param openUntil When the window closes.
     */
    error OpenWindowNotOver(uint256 openUntil);
    /**
     * @dev The agreement pools fewer units than the terms need to lock.
     * @param totalUnits Units pooled.
     * @param minUnits Units needed.
     */
    error BelowMinUnits(uint256 totalUnits, uint256 minUnits);
    /**
     * @dev The modeller's reserve is below what the terms require to lock the pooled capital.
     * @param reserve The reserve posted.
     * @param required The reserve required (`requiredReserveFor` of the staked capital).
     */
    error ReserveTooSmall(uint256 reserve, uint256 required);
    /**
     * @dev Once a reserve is posted, a deposit may not take the stake beyond what it covers (issue 12 L-1: a
     * deposit front-running `lock` cannot make the posted reserve insufficient); the modeller tops it up to take
     * more.
     * @param required The reserve the deposit would need.
     * @param reserve The reserve posted.
     */
    error DepositBeyondReserve(uint256 required, uint256 reserve);
    /**
     * @dev The agreement would start before the model's first round at the oracle. The oracle raises it (the
     * lock's `startRoundFor`); declared here too so that the lock's revert decodes with this ABI.
     * @param startRound The round the agreement would start at.
     * @param firstRound The model's first round.
     */
    error ModelNotStarted(uint256 startRound, uint256 firstRound);
    /**
     * @dev Maturity waits for rounds of the lockup that are not final at the oracle (and not overdue yet).
     * @param lastPosted The last final round.
     * @param endRound The lockup's last round.
     */
    error RoundsOutstanding(uint256 lastPosted, uint256 endRound);
    /**
     * @dev A repayment is larger than what is still due.
     * @param amount The repayment.
     * @param outstanding What is still due.
     */
    error RepaymentExceedsDue(uint256 amount, uint256 outstanding);
    /**
     * @dev A default can be declared only after the wind-down deadline.
     * @param deadline The deadline (unix seconds) until which the modeller may repay.
     */
    error WindDownNotOver(uint256 deadline);
    /**
     * @dev The backer holds no units in the agreement.
     * @param backer The backer.
     */
    error NothingToClaim(address backer);
    /**
     * @dev The backer has claimed already.
     * @param backer The backer.
     */
    error AlreadyClaimed(address backer);
    /**
     * @dev The sweep waits until every backer has claimed.
     * @param remaining Backers who have not claimed.
     */
    error ClaimsOutstanding(uint256 remaining);
}
