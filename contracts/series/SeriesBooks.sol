// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBackingCommon} from "../interfaces/agreement/IBackingCommon.sol";
import {IBackingSeries} from "../interfaces/series/IBackingSeries.sol";
import {SeriesTerms} from "./SeriesTerms.sol";

/// @title SeriesBooks
/// @notice The storage layout of a BackingSeries and the bookkeeping every part of it shares (positions, cohorts,
///         escrow windows, the modeller's credit). Internal functions only: each contract or external library
///         that uses them gets its own copy, so the series' code can be split without a call between the parts.
/// @dev The state lives in one struct (`State`) so that the external libraries (SeriesSettlement) receive it as
///      one storage pointer.
library SeriesBooks {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_COHORTS = 8;
    uint256 internal constant MAX_OWNER_POSITIONS = 8; //  an owner's positions in one agreement
    uint256 internal constant ALL = type(uint256).max;
    /// @dev Room for an open agreement's cohorts: fresh capital (0) and the marks rolled in, all from the last
    ///      agreement that was not cancelled, which has at most MAX_COHORTS after its lock, each position's new mark
    ///      its cohort's or that agreement's P_end: at most MAX_COHORTS + 2 = 10 (the lock refuses more than 9).
    uint256 internal constant MARK_SLOTS = 16;
    uint256 internal constant WINDOWS = 4; //              escrow windows per position (= MAX_CLAWBACK_AGREEMENTS)

    /// @dev O(1) state of one agreement.
    struct Agreement {
        SeriesTerms.Config config;
        IBackingCommon.Phase phase;
        uint64 startRound;
        uint40 deadline;
        uint32 positions; //     live positions (capital > 0)
        uint32 positionsDone; // of which done (claimed, or wholly rolled)
        // agreements cancelled in a row just before this one (0 almost always): positions of the agreement before
        // them, and those rolled into them, roll on into this one (issue 21 F2)
        uint32 cancelledBefore;
        bool lifted; //          the lock lifted a cohort (liftedFrom, liftedTo are set): read before them
        // the lockup's rounds (>= 1, so this slot is non-zero from the opening: the first position's counter
        // write is not a fresh-slot write)
        uint32 lockupRounds;
        uint8 cohortCount; //    marks in use (a count in this slot, not an array length in a slot of its own)
        // NMR amounts, each at most the token's supply (NMR: 11M * 1e18 < 2^84): two to a slot, SafeCast on sums
        uint128 capital;
        uint128 balance; //      what this agreement holds here (escrow is counted apart)
        uint256 reserve;
        uint256 repaid;
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
        uint256[MARK_SLOTS] marks; // distinct cohort marks, the first cohortCount (0: fresh capital, until the lock)
        mapping(uint256 => Cohort) cohorts; // by mark
    }

    /// @dev W_c = sum of capital * fee rate, n_c = positions, per cohort (kept incrementally), in one slot.
    ///      W_c <= (the token's supply) * BPS < 2^128 * 2^14 and n_c < 2^32 (position ids are uint32): both fit,
    ///      and checked arithmetic reverts if they did not.
    struct Cohort {
        uint192 weight;
        uint64 count;
    }

    /// @dev A position in as few slots as its fields allow, the fields each transaction writes together side by
    ///      side. Every amount (capital, claim, discount, rolled, charged back, held) is NMR the series holds or
    ///      held, at most the token's total supply (NMR: 11M * 1e18 < 2^84), stored as uint128 through SafeCast
    ///      wherever a sum could grow. The mark (a price that compounds over agreements) and the consented roll
    ///      (any wei amount the owner names) keep 256 bits. A position's weight in its cohort is not stored: it is
    ///      capital * rate, the rate fixed by its commitment and its owner's tier (recomputed from his positions).
    struct Position {
        // slot 0: who, where, which commitment, which stage (read by every transaction on the position)
        address owner;
        uint32 agreement;
        uint32 commitEndPlusOne; // 0: not committed; else the last agreement of the commitment, plus one
        uint16 commitShareBps;
        // 0: not evaluated; 1: evaluated, its new mark is the effective mark of `mark`; 2: evaluated, its new mark
        // is the agreement's P_end (a fee was charged above its mark). Evaluating writes no mark.
        uint8 evaluated;
        bool done;
        // slot 1: the capital and the claim fixed from it when the agreement ends
        uint128 capital;
        uint128 claimable;
        // slot 2
        uint256 mark; //            0: fresh capital (its mark is the agreement's P_start)
        // slot 3: read together by a claim and a roll (whether it rolled; the discount it may be charged back)
        uint128 rolled;
        uint128 discount;
        // slot 4
        uint128 chargedBack;
        uint8 intentCommit;
        // slot 5
        uint256 intent; //          consented roll: 0 none, ALL all, else wei
        // slot 6 (only a committed position writes it)
        bytes32 commitEconomics;
        // slots 7, 8: escrow windows, by the agreement index at whose settlement each is released, mod 4
        uint128[4] held;
    }

    /// @dev Everything a series stores but its identity (modeller, model) and price.
    struct State {
        uint64 agreementCount; //   agreements opened so far
        // the agreement that is Locked or Matured, plus one (0: none): at most one at a time, `lock` waits for it
        // (in the agreement count's slot, which is non-zero by then, so setting it costs no fresh-slot write)
        uint32 livePlusOne;
        // when the positions waiting to roll could last start rolling into the open agreement: its predecessor's
        // settlement, or its own opening if later; `lock` waits ROLL_WINDOW after it (issue 12 M-2)
        uint40 rollsOpenSince;
        // positions created so far (ids start at 1); uint32, so that an owner's ids pack eight to a slot: checked
        // arithmetic reverts on the 2^32nd position (each costs tens of thousands of gas: never reached)
        uint32 positionCount;
        bool entered; //            the series' reentrancy guard (BackingSeries.nonReentrant)
        uint256 escrow; //          held fees in escrow (all positions)
        uint256 modellerCredit; //  NMR credited to the modeller, not yet collected
        mapping(uint256 => Agreement) agreements;
        mapping(uint256 => Position) positions;
        // an owner's live positions in one agreement, in order: up to MAX_OWNER_POSITIONS uint32 ids packed in one
        // word (lane i at bits 32 i; the first zero lane ends the list). His capital there (his fee tier is by it)
        // is the sum of theirs; the position a deposit, roll or transfer adds to is the one of them with its mark
        // and commitment key.
        mapping(uint256 => mapping(address => uint256)) owned;
    }

    // ======================================================================================== credit and escrow

    function credit(State storage s, uint256 amount) internal {
        if (amount == 0) return;
        uint256 total = s.modellerCredit + amount;
        s.modellerCredit = total;
        emit IBackingSeries.ModellerCredited(amount, total);
    }

    function release(State storage s, uint256 positionId, uint256 slot) internal {
        Position storage p = s.positions[positionId];
        uint256 amount = p.held[slot];
        if (amount == 0) return;
        p.held[slot] = 0;
        s.escrow -= amount;
        emit IBackingSeries.HeldFeeReleased(positionId, amount);
        credit(s, amount);
    }

    function releaseAll(State storage s, uint256 positionId) internal {
        // its windows end at the settlements after the agreement it rolls on from: oldest first, as the reference
        // model logs them
        uint256 start = homePlusOne(s, s.positions[positionId].agreement);
        for (uint256 k = 0; k < WINDOWS; ++k) {
            release(s, positionId, (start + k) % WINDOWS);
        }
    }

    function markDone(Agreement storage a, Position storage p) internal {
        p.done = true;
        ++a.positionsDone;
    }

    /// @dev Once every position of a finished agreement is done, what it still holds is rounding dust.
    function maybeSweep(State storage s, uint256 index) internal {
        Agreement storage a = s.agreements[index];
        if (a.positionsDone != a.positions) return;
        IBackingCommon.Phase phase = a.phase;
        if (
            phase != IBackingCommon.Phase.Settled && phase != IBackingCommon.Phase.Defaulted
                && phase != IBackingCommon.Phase.Cancelled
        ) return;
        uint256 dust = a.balance;
        if (dust == 0) return;
        a.balance = 0;
        emit IBackingSeries.AgreementDustSwept(index, dust);
        credit(s, dust);
    }

    // ======================================================================================== positions

    /// @dev The owner's position in agreement `index` with this mark and commitment key (0: none).
    function find(
        State storage s,
        uint256 index,
        address owner,
        uint256 mark,
        uint32 endPlusOne,
        uint16 share,
        bytes32 econ
    ) internal view returns (uint256) {
        uint256 ids = s.owned[index][owner];
        for (uint256 i = 0; i < MAX_OWNER_POSITIONS; ++i) {
            uint256 id = uint32(ids >> (32 * i));
            if (id == 0) break;
            Position storage p = s.positions[id];
            // an uncommitted position's economics are 0, as is the key's (slot 6 is read only for a commitment)
            if (
                p.commitEndPlusOne == endPlusOne && p.commitShareBps == share && p.mark == mark
                    && (endPlusOne == 0 || p.commitEconomics == econ)
            ) return id;
        }
        return 0;
    }

    /// @dev The ids of an owner's positions in one agreement, in order.
    function ownedIds(State storage s, uint256 index, address owner) internal view returns (uint256[] memory out) {
        uint256 ids = s.owned[index][owner];
        uint256 n = 0;
        while (n < MAX_OWNER_POSITIONS && uint32(ids >> (32 * n)) != 0) ++n;
        out = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            out[i] = uint32(ids >> (32 * i));
        }
    }

    /// @dev An owner's capital in one agreement: the sum of his positions' there.
    function ownerCapital(State storage s, uint256 index, address owner) internal view returns (uint256 total) {
        uint256 ids = s.owned[index][owner];
        for (uint256 i = 0; i < MAX_OWNER_POSITIONS; ++i) {
            uint256 id = uint32(ids >> (32 * i));
            if (id == 0) break;
            total += s.positions[id].capital;
        }
    }

    /// @dev The owner's fee tier in agreement `index` (without a fee ladder, the profit share: no sum needed).
    function tierOf(State storage s, uint256 index, address owner) internal view returns (uint256) {
        SeriesTerms.Config storage config = s.agreements[index].config;
        if (config.ladderLength == 0) return config.profitShareBps;
        return shareFor(config, ownerCapital(s, index, owner) / config.unitSize);
    }

    function findOrCreate(
        State storage s,
        uint256 index,
        address owner,
        uint256 mark,
        uint32 endPlusOne,
        uint16 share,
        bytes32 econ
    ) internal returns (uint256 positionId) {
        positionId = find(s, index, owner, mark, endPlusOne, share, econ);
        if (positionId == 0) positionId = create(s, index, owner, mark, endPlusOne, share, econ);
    }

    function create(
        State storage s,
        uint256 index,
        address owner,
        uint256 mark,
        uint32 endPlusOne,
        uint16 share,
        bytes32 econ
    ) internal returns (uint256 positionId) {
        uint256 ids = s.owned[index][owner];
        uint256 n = 0;
        while (n < MAX_OWNER_POSITIONS && uint32(ids >> (32 * n)) != 0) ++n;
        if (n >= MAX_OWNER_POSITIONS) revert IBackingSeries.TooManyPositions(owner, MAX_OWNER_POSITIONS);
        positionId = ++s.positionCount;
        Position storage p = s.positions[positionId];
        p.owner = owner;
        p.agreement = uint32(index);
        p.commitEndPlusOne = endPlusOne;
        p.commitShareBps = share;
        if (mark != 0) p.mark = mark;
        if (econ != bytes32(0)) p.commitEconomics = econ;
        s.owned[index][owner] = ids | (positionId << (32 * n));
        Agreement storage a = s.agreements[index];
        ++a.positions;
        uint256 cohort = cohortKey(a, mark);
        if (a.cohorts[cohort].count++ == 0) a.marks[a.cohortCount++] = cohort;
    }

    /// @dev A position whose capital reaches zero is removed (its id is never reused, as in the model).
    function destroy(State storage s, uint256 index, uint256 positionId) internal {
        Position storage p = s.positions[positionId];
        Agreement storage a = s.agreements[index];
        address owner = p.owner;
        uint256 ids = s.owned[index][owner];
        uint256 n = 0;
        uint256 at = MAX_OWNER_POSITIONS;
        while (n < MAX_OWNER_POSITIONS) {
            uint256 id = uint32(ids >> (32 * n));
            if (id == 0) break;
            if (id == positionId) at = n;
            ++n;
        }
        if (at < n) {
            // the last id takes its lane, as an array's swap-and-pop
            uint256 lastShift = 32 * (n - 1);
            uint256 last = uint32(ids >> lastShift);
            ids &= ~(uint256(type(uint32).max) << lastShift);
            if (at != n - 1) ids = (ids & ~(uint256(type(uint32).max) << (32 * at))) | (last << (32 * at));
            s.owned[index][owner] = ids;
        }
        --a.positions;
        uint256 cohort = cohortKey(a, p.mark);
        delete s.positions[positionId];
        if (--a.cohorts[cohort].count == 0) {
            uint256 cohorts = a.cohortCount;
            for (uint256 i = 0; i < cohorts; ++i) {
                if (a.marks[i] == cohort) {
                    if (i != cohorts - 1) a.marks[i] = a.marks[cohorts - 1];
                    a.cohortCount = uint8(cohorts - 1);
                    break;
                }
            }
        }
    }

    function addCapital(State storage s, uint256 index, uint256 positionId, uint256 amount) internal {
        Agreement storage a = s.agreements[index];
        a.capital = SafeCast.toUint128(a.capital + amount);
        setCapital(s, index, positionId, s.positions[positionId].capital + amount);
    }

    /// @dev Also used by transfers while Locked, where the receiver's `addCapital` gives C back.
    function removeCapital(State storage s, uint256 index, uint256 positionId, uint256 amount) internal {
        Agreement storage a = s.agreements[index];
        uint256 left = s.positions[positionId].capital - amount;
        a.capital = uint128(a.capital - amount);
        setCapital(s, index, positionId, left);
        if (left == 0) destroy(s, index, positionId);
    }

    /// @dev The position's capital becomes `capital`: its weight (capital * rate) in its cohort follows, and if the
    ///      owner's total crossed a fee tier, so do his other positions' weights there.
    function setCapital(State storage s, uint256 index, uint256 positionId, uint256 capital) internal {
        Agreement storage a = s.agreements[index];
        Position storage p = s.positions[positionId];
        uint256 before = p.capital;
        (uint256 oldTier, uint256 newTier) = _tiers(s, index, p.owner, before, capital);
        p.capital = SafeCast.toUint128(capital);
        _reweigh(a, p, index, before, capital, oldTier, newTier);
        if (oldTier != newTier) _reweighOthers(s, index, positionId, oldTier, newTier);
    }

    /// @dev The owner's fee tier before and after one of his positions' capital goes from `before` to `capital`.
    function _tiers(State storage s, uint256 index, address owner, uint256 before, uint256 capital)
        private
        view
        returns (uint256 oldTier, uint256 newTier)
    {
        SeriesTerms.Config storage config = s.agreements[index].config;
        if (config.ladderLength == 0) {
            oldTier = config.profitShareBps;
            return (oldTier, oldTier);
        }
        uint256 total = ownerCapital(s, index, owner);
        oldTier = shareFor(config, total / config.unitSize);
        newTier = shareFor(config, (total - before + capital) / config.unitSize);
    }

    /// @dev The owner's tier changed: his other positions' weights there follow.
    function _reweighOthers(State storage s, uint256 index, uint256 positionId, uint256 oldTier, uint256 newTier)
        private
    {
        Agreement storage a = s.agreements[index];
        uint256 ids = s.owned[index][s.positions[positionId].owner];
        for (uint256 i = 0; i < MAX_OWNER_POSITIONS; ++i) {
            uint256 id = uint32(ids >> (32 * i));
            if (id == 0) break;
            if (id == positionId) continue;
            Position storage q = s.positions[id];
            uint256 c = q.capital;
            _reweigh(a, q, index, c, c, oldTier, newTier);
        }
    }

    /// @dev The fee rate of a position of agreement `index` whose owner is at `tier`: its commitment's if lower.
    function rateOf(Position storage p, uint256 index, uint256 tier) internal view returns (uint256) {
        return p.commitEndPlusOne > index ? Math.min(tier, p.commitShareBps) : tier;
    }

    /// @dev A position's cohort weight goes from `before` * its rate at `oldTier` to `capital` * its rate at `newTier`.
    function _reweigh(
        Agreement storage a,
        Position storage p,
        uint256 index,
        uint256 before,
        uint256 capital,
        uint256 oldTier,
        uint256 newTier
    ) private {
        uint256 oldWeight = before * rateOf(p, index, oldTier);
        uint256 newWeight = capital * rateOf(p, index, newTier);
        if (oldWeight == newWeight) return;
        Cohort storage c = a.cohorts[cohortKey(a, p.mark)];
        c.weight = SafeCast.toUint192(uint256(c.weight) + newWeight - oldWeight);
    }

    /// @dev The cohort a stored mark belongs to: before the lock fresh capital is cohort 0; after it, P_start,
    ///      and the cap's lifted mark is its upper neighbour.
    function cohortKey(Agreement storage a, uint256 mark) internal view returns (uint256) {
        return a.phase == IBackingCommon.Phase.Open ? mark : effectiveMark(a, mark);
    }

    function effectiveMark(Agreement storage a, uint256 mark) internal view returns (uint256) {
        if (mark == 0) mark = a.priceStart;
        if (mark != 0 && a.lifted && mark == a.liftedFrom) mark = a.liftedTo;
        return mark;
    }

    /// @dev A position's mark: as stored until it is evaluated, then its new mark (see Position.evaluated).
    function markOf(Agreement storage a, Position storage p) internal view returns (uint256) {
        uint8 evaluated = p.evaluated;
        if (evaluated == 0) return p.mark;
        if (evaluated == 2) return a.priceEnd;
        return effectiveMark(a, p.mark);
    }

    /// @dev Capital the agreement still takes: committed rolls may have filled it past its cap (then 0).
    function room(Agreement storage a) internal view returns (uint256) {
        uint256 cap = uint256(a.config.maxUnits) * a.config.unitSize;
        uint256 capital = a.capital;
        return cap > capital ? cap - capital : 0;
    }

    // ======================================================================================== roll targets

    /// @dev The latest agreement before `index` that was not cancelled, plus one (0: none). Fixed when `index`
    ///      opens: only the latest agreement can be cancelled, and `index` opens after it is no longer open.
    function previousPlusOne(State storage s, uint256 index) internal view returns (uint256) {
        return index - s.agreements[index].cancelledBefore;
    }

    /// @dev The agreement a position of agreement `index` rolls on from, plus one: its own agreement, or, for a
    ///      position rolled into an agreement that was then cancelled, the one it came from (it keeps its mark).
    function homePlusOne(State storage s, uint256 index) internal view returns (uint256) {
        return s.agreements[index].phase == IBackingCommon.Phase.Cancelled ? previousPlusOne(s, index) : index + 1;
    }

    /// @dev The agreement a position of agreement `index` may roll into now: the latest, if it is open and every
    ///      agreement between them was cancelled. A cancel-and-reopen cannot orphan a mark (issue 21 F2).
    function rollTarget(State storage s, uint256 index) internal view returns (uint256 next) {
        next = s.agreementCount - 1;
        if (
            next == index || s.agreements[next].phase != IBackingCommon.Phase.Open
                || previousPlusOne(s, next) != homePlusOne(s, index)
        ) revert IBackingSeries.NoOpenNextAgreement(index);
    }

    /// @dev Whether a position of agreement `index` may still roll: into the open latest agreement, or into the next
    ///      one to open (nothing has locked since its agreement, all later ones were cancelled).
    function canStillRoll(State storage s, uint256 index) internal view returns (bool) {
        uint256 latest = s.agreementCount - 1;
        IBackingCommon.Phase phase = s.agreements[latest].phase;
        uint256 frontier;
        if (phase == IBackingCommon.Phase.Open || phase == IBackingCommon.Phase.Cancelled) {
            frontier = previousPlusOne(s, latest);
        } else {
            frontier = latest + 1;
        }
        return frontier == homePlusOne(s, index);
    }

    /// @dev The position's commitment runs past `next - 1` into agreement `next` and `next` has its economics.
    function continues(State storage s, Position storage p, uint256 next) internal view returns (bool) {
        return p.commitEndPlusOne > next && s.agreements[next].config.economics == p.commitEconomics;
    }

    // ======================================================================================== terms

    function commitmentKey(uint256 index, SeriesTerms.Config storage config, uint256 commit)
        internal
        view
        returns (uint32 endPlusOne, uint16 share, bytes32 econ)
    {
        if (commit == 0) return (0, uint16(BPS), bytes32(0));
        uint256 count = config.commitmentCount;
        for (uint256 i = 0; i < count; ++i) {
            uint256 packed = config.commitments >> (24 * i);
            if (uint8(packed) == commit) return (uint32(index + commit), uint16(packed >> 8), config.economics);
        }
        revert IBackingSeries.NoSuchCommitment(commit);
    }

    function hasCommitment(SeriesTerms.Config storage config, uint256 commit) internal view returns (bool) {
        uint256 count = config.commitmentCount;
        for (uint256 i = 0; i < count; ++i) {
            if (uint8(config.commitments >> (24 * i)) == commit) return true;
        }
        return false;
    }

    function shareFor(SeriesTerms.Config storage config, uint256 units) internal view returns (uint256 share) {
        share = config.profitShareBps;
        uint256 length = config.ladderLength;
        for (uint256 i = 0; i < length; ++i) {
            uint256 packed = (i < 6 ? config.ladder : config.ladderHigh) >> ((i % 6) * 40);
            if (units < uint24(packed)) break;
            share = uint16(packed >> 24);
        }
    }
}
