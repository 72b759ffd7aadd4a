// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBackingSeries} from "../interfaces/series/IBackingSeries.sol";
import {SeriesBooks} from "./SeriesBooks.sol";

/// @title SeriesPositions
/// @notice A BackingSeries' position books: capital added by a deposit, removed by a withdrawal, moved by a
///         transfer (each owner's fee tier, hence his positions' cohort weights, follow his total). An external
///         library (linked, called by DELEGATECALL on the series' own storage) so that the series has room under
///         the code-size limit. The series makes every check first; nothing here calls the token.
library SeriesPositions {
    using SeriesBooks for SeriesBooks.State;

    /// @notice Add fresh capital (mark 0 until the lock) to the owner's position with this commitment key.
    /// @param s The series' state.
    /// @param index The open agreement.
    /// @param owner The depositor.
    /// @param endPlusOne The commitment's last agreement plus one (0: none).
    /// @param share The commitment's profit share (BPS if none).
    /// @param econ The committed economics (0 if none).
    /// @param amount Wei of capital.
    /// @return positionId The position (created if the owner had none with this key).
    function deposit(
        SeriesBooks.State storage s,
        uint256 index,
        address owner,
        uint32 endPlusOne,
        uint16 share,
        bytes32 econ,
        uint256 amount
    ) external returns (uint256 positionId) {
        positionId = s.findOrCreate(index, owner, 0, endPlusOne, share, econ);
        s.addCapital(index, positionId, amount);
    }

    /// @notice Take `amount` of a position's capital out of its agreement (the position goes when it reaches 0).
    /// @param s The series' state.
    /// @param index The position's agreement.
    /// @param positionId The position.
    /// @param amount Wei of capital, at most the position's.
    function withdraw(SeriesBooks.State storage s, uint256 index, uint256 positionId, uint256 amount) external {
        s.removeCapital(index, positionId, amount);
    }

    /// @notice Move `amount` wei of a locked position's capital to `to`: its mark and commitment move whole, its
    ///         held fees and accrued discount pro rata.
    /// @param s The series' state.
    /// @param positionId The position (checked by the series: locked, caller allowed, receiver allowed, amount).
    /// @param to The receiver.
    /// @param amount Wei of capital.
    /// @return toPositionId The receiver's position (created if he had none with this mark and commitment).
    function transfer(SeriesBooks.State storage s, uint256 positionId, address to, uint256 amount)
        external
        returns (uint256 toPositionId)
    {
        SeriesBooks.Position storage p = s.positions[positionId];
        uint256 index = p.agreement;
        toPositionId = _receiver(s, index, to, p);
        SeriesBooks.Position storage q = s.positions[toPositionId];
        uint256 capital = p.capital;
        for (uint256 i = 0; i < SeriesBooks.WINDOWS; ++i) {
            uint256 held = p.held[i];
            if (held == 0) continue;
            uint256 moved = (held * amount) / capital;
            p.held[i] = uint128(held - moved);
            q.held[i] = SafeCast.toUint128(q.held[i] + moved);
        }
        uint256 discount = p.discount;
        if (discount != 0) {
            uint256 movedDiscount = (discount * amount) / capital;
            p.discount = uint128(discount - movedDiscount);
            q.discount = SafeCast.toUint128(q.discount + movedDiscount);
        }
        s.removeCapital(index, positionId, amount);
        s.addCapital(index, toPositionId, amount);
        emit IBackingSeries.PositionTransferred(positionId, toPositionId, to, amount);
    }

    /// @dev The receiver's position for `p`'s mark and commitment, created if he has none. In a locked agreement a
    ///      mark can be held under three keys: its own, 0 (fresh capital, if it is P_start) and the cap's lifted
    ///      mark; the receiver's oldest matching position takes the transfer.
    function _receiver(SeriesBooks.State storage s, uint256 index, address to, SeriesBooks.Position storage p)
        private
        returns (uint256 found)
    {
        SeriesBooks.Agreement storage a = s.agreements[index];
        uint256 mark = SeriesBooks.effectiveMark(a, p.mark);
        found = _oldest(s, a, s.owned[index][to], p, mark);
        if (found == 0) {
            uint32 endPlusOne = p.commitEndPlusOne;
            bytes32 econ = endPlusOne == 0 ? bytes32(0) : p.commitEconomics; // an uncommitted position has none
            // with the sender's stored mark, whose effective mark (the cohort, what every view shows, the new mark
            // at settlement) is `mark`: fresh capital keeps 0 and its mark slot is not written
            found = s.create(index, to, p.mark, endPlusOne, p.commitShareBps, econ);
        }
    }

    /// @dev The oldest of `ids` (an owner's positions in agreement `a`) with `p`'s commitment key and the effective
    ///      mark `mark` (0: none).
    function _oldest(
        SeriesBooks.State storage s,
        SeriesBooks.Agreement storage a,
        uint256 ids,
        SeriesBooks.Position storage p,
        uint256 mark
    ) private view returns (uint256 found) {
        uint32 endPlusOne = p.commitEndPlusOne;
        uint16 share = p.commitShareBps;
        for (uint256 i = 0; i < SeriesBooks.MAX_OWNER_POSITIONS; ++i) {
            uint256 id = uint32(ids >> (32 * i));
            if (id == 0) break;
            SeriesBooks.Position storage r = s.positions[id];
            if (r.commitEndPlusOne != endPlusOne || r.commitShareBps != share) continue;
            if (SeriesBooks.effectiveMark(a, r.mark) != mark) continue;
            if (endPlusOne != 0 && r.commitEconomics != p.commitEconomics) continue;
            if (found == 0 || id < found) found = id;
        }
}
}
