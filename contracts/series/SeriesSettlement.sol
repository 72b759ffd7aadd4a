// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBackingCommon} from "../interfaces/agreement/IBackingCommon.sol";
import {IBackingSeries} from "../interfaces/series/IBackingSeries.sol";
import {SeriesBooks} from "./SeriesBooks.sol";

/// @title SeriesSettlement
/// @notice A BackingSeries' settlement math: the cohorts at lock, V and the fee lower bound at maturity, a
///         position's outcome and its roll into the next agreement. An external library (linked, called by
///         DELEGATECALL on the series' own storage) so that the series has room under the code-size limit; each
///         call costs a few thousand gas (the library's cold address, the arguments).
/// @dev Nothing here calls the token. docs/series.md states the rules, `backing/model/series.py` is the reference.
library SeriesSettlement {
    using SeriesBooks for SeriesBooks.State;

    uint256 private constant BPS = SeriesBooks.BPS;
    uint256 private constant WINDOWS = SeriesBooks.WINDOWS;
    // SeriesBooks.MARK_SLOTS: an array length must be a literal here, so the marks arrays below say 16

    // ======================================================================================== lifecycle

    /// @notice At lock: fresh capital (cohort 0) joins the cohort at P_start, then the cap rule merges at most
    ///         once (the closest pair of marks by ratio).
    /// @param a The agreement being locked (its P_start already set).
    /// @param index Its index (for the event).
    /// @param priceStart P_start.
    /// @return count The cohorts after the lock.
    function lockCohorts(SeriesBooks.Agreement storage a, uint256 index, uint256 priceStart)
        external
        returns (uint256 count)
    {
        uint256[16] storage marks = a.marks;
        uint256 length = a.cohortCount;
        for (uint256 i = 0; i < length; ++i) {
            if (marks[i] != 0) continue;
            SeriesBooks.Cohort storage fresh = a.cohorts[0];
            SeriesBooks.Cohort storage target = a.cohorts[priceStart];
            bool existed = target.count != 0;
            target.weight += fresh.weight;
            target.count += fresh.count;
            delete a.cohorts[0];
            if (existed) {
                marks[i] = marks[length - 1];
                --length;
                a.cohortCount = uint8(length);
            } else {
                marks[i] = priceStart;
            }
            break;
        }
        uint256[] memory sorted = _sorted(marks, length);
        if (sorted.length > SeriesBooks.MAX_COHORTS + 1) revert IBackingSeries.TooManyCohorts(sorted.length);
        if (sorted.length == SeriesBooks.MAX_COHORTS + 1) {
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
            a.lifted = true;
            for (uint256 i = best; i + 1 < sorted.length; ++i) {
                sorted[i] = sorted[i + 1];
            }
            assembly ("memory-safe") {
                mstore(sorted, sub(mload(sorted), 1))
            }
            emit IBackingSeries.CohortsMerged(index, lower, upper);
        }
        count = sorted.length;
        for (uint256 i = 0; i < count; ++i) {
            if (marks[i] != sorted[i]) marks[i] = sorted[i];
        }
        a.cohortCount = uint8(count);
    }

    /// @notice At maturity: V, P_end and the aggregates: gain, the fee lower bound L; loss, the reserve's cover
    ///         bound.
    /// @param a The locked agreement.
    /// @param startIndex The oracle's index at the lockup's start.
    /// @param endIndex The oracle's index at its end (or at the fallback's last final round).
    function fixAmounts(SeriesBooks.Agreement storage a, uint256 startIndex, uint256 endIndex) external {
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

    // ======================================================================================== positions

    /// @notice Apply the agreement's outcome to the position once (Settled, Defaulted or Cancelled): its fee,
    ///         held fee, clawback, cover, claim and new mark.
    /// @param s The series' state.
    /// @param positionId The position (its agreement has ended).
    function evaluate(SeriesBooks.State storage s, uint256 positionId) public {
        SeriesBooks.Position storage p = s.positions[positionId];
        if (p.evaluated != 0) return;
        p.evaluated = 1;
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = s.agreements[index];
        if (a.phase == IBackingCommon.Phase.Cancelled) {
            // capital back; a position rolled in keeps its held fees and discount: it may roll on (issue 21 F2)
            p.claimable = p.capital;
            emit IBackingSeries.PositionSettled(positionId, 0, 0, 0, 0, p.capital, p.mark);
            return;
        }
        IBackingSeries.Outcome memory o = _outcome(s, p, a);
        if (a.phase == IBackingCommon.Phase.Defaulted) {
            uint256 forfeited = 0;
            for (uint256 i = 0; i < WINDOWS; ++i) {
                uint256 held = p.held[i];
                if (held == 0) continue;
                forfeited += held;
                p.held[i] = 0;
            }
            if (p.discount != 0) p.discount = 0; // the series ended: no commitment is left to leave early
            if (forfeited != 0) {
                s.escrow -= forfeited;
                a.balance = SafeCast.toUint128(a.balance + forfeited);
                emit IBackingSeries.HeldFeeForfeited(positionId, forfeited);
            }
            o.claimable += forfeited;
        } else {
            // its windows end at the settlements after the agreement it rolled from: first + 0..3
            uint256 first = s.previousPlusOne(index);
            if (o.clawback != 0) {
                uint256 left = o.clawback;
                for (uint256 k = 0; k < WINDOWS && left != 0; ++k) {
                    uint256 slot = (first + k) % WINDOWS; // oldest window first
                    uint256 held = p.held[slot];
                    uint256 take = Math.min(held, left);
                    if (take != 0) p.held[slot] = uint128(held - take);
                    left -= take;
                }
                s.escrow -= o.clawback;
                a.balance = SafeCast.toUint128(a.balance + o.clawback);
                emit IBackingSeries.HeldFeeClawedBack(positionId, o.clawback);
            }
            // the windows that ended at this settlement, or at cancelled agreements since the one it rolled from
            uint256 ended = Math.min(index + 1 - first, WINDOWS);
            for (uint256 k = 0; k < ended; ++k) {
                s.release(positionId, (first + k) % WINDOWS);
            }
            if (o.heldFee != 0) {
                uint256 releaseAt = index + a.config.clawbackAgreements;
                p.held[releaseAt % WINDOWS] = SafeCast.toUint128(p.held[releaseAt % WINDOWS] + o.heldFee);
                a.balance = uint128(a.balance - o.heldFee);
                s.escrow += o.heldFee;
                emit IBackingSeries.HeldFeeAdded(positionId, releaseAt, o.heldFee);
            }
            if (o.discountAccrued != 0) p.discount = SafeCast.toUint128(p.discount + o.discountAccrued);
        }
        // its new mark: the effective mark it had (evaluated stays 1) or P_end (2); none is written
        if (o.mark != SeriesBooks.effectiveMark(a, p.mark)) p.evaluated = 2;
        p.claimable = SafeCast.toUint128(o.claimable);
        emit IBackingSeries.PositionSettled(positionId, o.fee, o.heldFee, o.clawback, o.cover, o.claimable, o.mark);
    }

    /// @notice What a position's agreement gives it (from maturity on), without applying it.
    /// @param s The series' state.
    /// @param positionId The position.
    /// @return The outcome.
    function outcome(SeriesBooks.State storage s, uint256 positionId)
        external
        view
        returns (IBackingSeries.Outcome memory)
    {
        SeriesBooks.Position storage p = s.positions[positionId];
        return _outcome(s, p, s.agreements[p.agreement]);
    }

    /// @notice Roll the position's consented amount (`intent`) of its claim into a position of the next agreement
    ///         with the same mark; its held fees and (if its commitment continues) its discount move pro rata, the
    ///         part that leaves pays the charge-back. No token moves.
    /// @param s The series' state.
    /// @param positionId The settled position.
    /// @param index Its agreement (settled, or cancelled after the position rolled into it).
    /// @param next The agreement it rolls into (open; `SeriesBooks.rollTarget`).
    /// @return newPositionId Its position in the next agreement.
    function executeRoll(SeriesBooks.State storage s, uint256 positionId, uint256 index, uint256 next)
        external
        returns (uint256 newPositionId)
    {
        evaluate(s, positionId);
        SeriesBooks.Position storage p = s.positions[positionId];
        (uint256 amount, uint256 keptDiscount, uint256 charge, bool continuing) = _rollAmounts(s, p, positionId, next);
        newPositionId = _rollTarget(s, p, next, continuing);
        _moveHeld(p, s.positions[newPositionId], amount, p.claimable);
        s.releaseAll(positionId); // the part that leaves takes nothing: its share of held fees goes to the modeller
        s.addCapital(next, newPositionId, amount);
        if (keptDiscount != 0) {
            SeriesBooks.Position storage q = s.positions[newPositionId];
            q.discount = SafeCast.toUint128(q.discount + keptDiscount);
        }
        if (p.discount != 0) p.discount = 0;
        SeriesBooks.Agreement storage a = s.agreements[index];
        a.balance = uint128(a.balance - (amount + charge));
        s.agreements[next].balance = SafeCast.toUint128(s.agreements[next].balance + amount);
        p.rolled = uint128(amount); // <= the claim, a uint128
        if (charge != 0) {
            p.chargedBack = uint128(charge);
            s.credit(charge);
        }
        uint256 left = p.claimable - amount - charge;
        p.claimable = uint128(left);
        p.intent = 0;
        emit IBackingSeries.PositionRolled(positionId, newPositionId, amount, charge);
        if (left == 0) {
            SeriesBooks.markDone(a, p);
            s.maybeSweep(index);
        }
    }

    /// @notice The books of a claim (the series has checked the agreement ended and the position is not done):
    ///         evaluate it, charge back its discount if it leaves a commitment early, release its held fees (it
    ///         leaves the series) and mark it done. The series then pays the owner.
    /// @param s The series' state.
    /// @param positionId The position.
    /// @return amount NMR the owner is paid.
    function claim(SeriesBooks.State storage s, uint256 positionId) external returns (uint256 amount) {
        evaluate(s, positionId);
        SeriesBooks.Position storage p = s.positions[positionId];
        uint256 index = p.agreement;
        SeriesBooks.Agreement storage a = s.agreements[index];
        uint256 charge = 0;
        if (a.phase == IBackingCommon.Phase.Settled && p.rolled == 0 && _early(s, p, index)) {
            charge = Math.min(p.discount, p.claimable);
            if (charge != 0) {
                p.chargedBack = uint128(charge); // <= the claim
                p.claimable -= uint128(charge);
                a.balance = uint128(a.balance - charge);
                s.credit(charge);
            }
        }
        if (p.discount != 0) p.discount = 0;
        s.releaseAll(positionId);
        amount = p.claimable;
        p.claimable = 0;
        if (p.intent != 0) p.intent = 0;
        SeriesBooks.markDone(a, p);
        a.balance = uint128(a.balance - amount);
        emit IBackingSeries.PositionClaimedFrom(positionId, p.owner, amount, charge);
        s.maybeSweep(index);
    }

    // ======================================================================================== internals

    /// @dev Leaving now is early: settled, committed past this agreement, and the next agreement is open with the
    ///      committed economics (its standing roll could still be executed: it is never refused for capacity).
    function _early(SeriesBooks.State storage s, SeriesBooks.Position storage p, uint256 index)
        private
        view
        returns (bool)
    {
        if (s.agreements[index].phase != IBackingCommon.Phase.Settled) return false;
        uint256 next = s.agreementCount - 1; // the agreement it could roll into: the latest, if it is its target
        return next != index && s.agreements[next].phase == IBackingCommon.Phase.Open
            && s.previousPlusOne(next) == index + 1 && s.continues(p, next);
    }

    /// @dev What a roll moves (the consented amount, capped by the claim), the discount it keeps (the commitment
    ///      continues) and the charge-back on the part that leaves; whether the commitment continues.
    function _rollAmounts(SeriesBooks.State storage s, SeriesBooks.Position storage p, uint256 positionId, uint256 next)
        private
        view
        returns (uint256 amount, uint256 keptDiscount, uint256 charge, bool continuing)
    {
        uint256 claimable = p.claimable;
        if (claimable == 0) revert IBackingSeries.NothingToRoll(positionId);
        amount = p.intent == SeriesBooks.ALL ? claimable : Math.min(p.intent, claimable);
        continuing = s.continues(p, next);
        // a roll that continues a commitment is never refused for capacity (issue 12 M-3): the modeller offered the
        // commitment, and nobody can make the roll fail (by filling the agreement) while the backer stays bound
        uint256 available = SeriesBooks.room(s.agreements[next]);
        if (amount > available && !continuing) revert IBackingCommon.CapacityExceeded(amount, available);
        uint256 leaving = claimable - amount;
        keptDiscount = continuing ? (p.discount * amount) / claimable : 0;
        charge = (continuing && leaving != 0) ? Math.min(p.discount - keptDiscount, leaving) : 0;
    }

    /// @dev `amount` of `total` leaves `p` for `q`: each escrow window moves pro rata (rounded down).
    function _moveHeld(SeriesBooks.Position storage p, SeriesBooks.Position storage q, uint256 amount, uint256 total)
        private
    {
        for (uint256 i = 0; i < WINDOWS; ++i) {
            uint256 held = p.held[i];
            if (held == 0) continue;
            uint256 moved = (held * amount) / total;
            p.held[i] = uint128(held - moved);
            q.held[i] = SafeCast.toUint128(q.held[i] + moved);
        }
    }

    /// @dev The next agreement's position a roll adds to: same owner and mark; the commitment continues (same
    ///      economics) or is the one consented to with the roll, if any.
    function _rollTarget(SeriesBooks.State storage s, SeriesBooks.Position storage p, uint256 next, bool continuing)
        private
        returns (uint256)
    {
        if (continuing) {
            return s.findOrCreate(
                next, p.owner, SeriesBooks.markOf(s.agreements[p.agreement], p), p.commitEndPlusOne,
                p.commitShareBps, p.commitEconomics
            );
        }
        (uint32 endPlusOne, uint16 share, bytes32 econ) =
            SeriesBooks.commitmentKey(next, s.agreements[next].config, p.intentCommit);
        return s.findOrCreate(next, p.owner, SeriesBooks.markOf(s.agreements[p.agreement], p), endPlusOne, share, econ);
    }

    /// @dev The position's outcome: gain (fee above its mark), loss (clawback, then the reserve's cover) or its
    ///      weight in a default pool. Only its own record and the agreement's aggregates are read.
    function _outcome(SeriesBooks.State storage s, SeriesBooks.Position storage p, SeriesBooks.Agreement storage a)
        private
        view
        returns (IBackingSeries.Outcome memory o)
    {
        uint256 capital = p.capital;
        uint256 total = a.capital;
        uint256 stakedShare = (a.staked * capital) / total;
        uint256 valueShare = Math.mulDiv(a.finalValue, capital, total);
        uint256 mark = SeriesBooks.effectiveMark(a, SeriesBooks.markOf(a, p));
        uint256 owed;
        if (a.finalValue >= a.staked) {
            o = _gainOutcome(s, p, a, stakedShare, valueShare, mark);
            owed = o.claimable;
        } else {
            (o, owed) = _lossOutcome(p, a, stakedShare, valueShare);
            o.mark = mark;
        }
        if (a.phase == IBackingCommon.Phase.Defaulted) {
            uint256 owedTotal = a.owedTotal;
            o = IBackingSeries.Outcome(
                0, 0, 0, 0, 0, owedTotal == 0 ? 0 : Math.mulDiv(a.defaultPool, owed, owedTotal), mark
            );
        }
    }

    /// @dev A fee on the gain above the position's mark value M_p = ceil(S_p m / P_start), if the price passed m.
    function _gainOutcome(
        SeriesBooks.State storage s,
        SeriesBooks.Position storage p,
        SeriesBooks.Agreement storage a,
        uint256 stakedShare,
        uint256 valueShare,
        uint256 mark
    ) private view returns (IBackingSeries.Outcome memory o) {
        o.mark = mark;
        uint256 priceEnd = a.priceEnd;
        if (priceEnd > mark) {
            uint256 index = p.agreement;
            // tier by the owner's total units in the agreement; the rate charged is the commitment's if lower
            uint256 tier = s.tierOf(index, p.owner);
            uint256 rate = p.commitEndPlusOne > index ? Math.min(tier, p.commitShareBps) : tier;
            uint256 markValue = Math.mulDiv(stakedShare, mark, a.priceStart, Math.Rounding.Ceil);
            uint256 gain = valueShare > markValue ? valueShare - markValue : 0;
            // slither-disable-next-line divide-before-multiply -- the held part is a share of the fee as charged
            uint256 fee = (gain * rate) / BPS;
            o.fee = fee;
            o.heldFee = (fee * a.config.clawbackBps) / BPS;
            if (p.commitEndPlusOne > index) o.discountAccrued = (gain * tier) / BPS - fee;
            o.mark = priceEnd;
        }
        o.claimable = valueShare - o.fee;
    }

    /// @dev The position's own held fees first (oldest window first), then the burn share of the rest from the
    ///      reserve. Also returns what it is owed in a default (the cover without clawback).
    function _lossOutcome(
        SeriesBooks.Position storage p,
        SeriesBooks.Agreement storage a,
        uint256 stakedShare,
        uint256 valueShare
    ) private view returns (IBackingSeries.Outcome memory o, uint256 owed) {
        uint256 loss = stakedShare - valueShare;
        uint256 clawback = 0;
        for (uint256 k = 0; k < WINDOWS && clawback < loss; ++k) {
            clawback += Math.min(p.held[(p.agreement + k) % WINDOWS], loss - clawback);
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

    /// @dev L = sum over cohorts above their mark of max(0, floor((V P_start - S m_c) W_c / (C P_start 1e4)) - 3 n_c):
    ///      a lower bound of the sum of the positions' fees (docs/series.md).
    function _feeLowerBound(SeriesBooks.Agreement storage a, uint256 value, uint256 staked, uint256 priceEnd)
        private
        view
        returns (uint256 lower)
    {
        uint256 priceStart = a.priceStart;
        uint256 denominator = a.capital * priceStart * BPS;
        uint256 length = a.cohortCount;
        for (uint256 i = 0; i < length; ++i) {
            uint256 mark = a.marks[i];
            if (priceEnd <= mark) continue;
            uint256 valueSide = value * priceStart;
            uint256 markSide = staked * mark;
            if (valueSide <= markSide) continue;
            SeriesBooks.Cohort storage c = a.cohorts[mark];
            uint256 share = Math.mulDiv(valueSide - markSide, c.weight, denominator);
            uint256 slack = 3 * c.count;
            if (share > slack) lower += share - slack;
        }
    }

    function _sorted(uint256[16] storage marks, uint256 length) private view returns (uint256[] memory out) {
        out = new uint256[](length);
        for (uint256 i = 0; i < length; ++i) {
            out[i] = marks[i];
        }
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
