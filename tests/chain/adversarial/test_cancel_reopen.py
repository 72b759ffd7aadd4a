"""The modeller cancels the next agreement and reopens one with the same terms, to orphan the positions waiting
to roll (so they re-enter as fresh capital and pay fees again, and their held fees are released to him)."""

from backing.model.agreement import ONE
from backing.onchain.series import ALL
from support.chain import expect_event, reverts_with


def test_cancel_and_reopen_does_not_orphan_waiting_rolls(h, series, token, modeller, alice, bob, outsider):
    """Attack (issue 21 F2): after agreement 0 settles at x1.2, Bob's consented roll and Alice's standing
    commitment have rolled into agreement 1; the modeller cancels 1 and opens 2. Rule: a cancel keeps rolled
    positions' mark, held fees and commitment in escrow, and they roll on into the next agreement that is not
    cancelled; the modeller's credit does not grow by their held fees."""
    a, b = h.locked(0, deposits=((0, 5, 3), (1, 5, 0)))
    h.open()
    series.roll(b, ALL, 0, series.agreement(1)["termsHash"], {"from": bob})
    h.settle(0, 12 * ONE // 10)
    a1 = series.executeRoll(a, {"from": outsider}).return_value
    b1 = series.executeRoll(b, {"from": outsider}).return_value
    waiting = {pid: series.positionOf(pid) for pid in (a1, b1)}
    assert all(p["held"] > 0 and p["mark"] == 12 * ONE // 10 for p in waiting.values())
    escrow, credit, balance = series.escrow(), series.modellerCredit(), token.balanceOf(series)
    tx = series.cancel({"from": modeller})
    expect_event(tx, "SeriesCancelled", index=1, caller=modeller, reserveReturned=0)
    assert "HeldFeeReleased" not in tx.events
    assert series.escrow() == escrow and series.modellerCredit() == credit and token.balanceOf(series) == balance
    h.open()  # agreement 2, same terms
    with reverts_with("NotOwner", outsider):  # nobody but the owner ends it meanwhile
        series.claim(b1, {"from": outsider})
    a2 = series.executeRoll(a1, {"from": outsider}).return_value  # the commitment is a standing roll
    b2 = series.roll(b1, ALL, 0, series.agreement(2)["termsHash"], {"from": bob}).return_value
    for old, new, owner in ((a1, a2, alice), (b1, b2, bob)):
        p = series.positionOf(new)
        assert (p["owner"], p["agreement"]) == (owner, 2)
        assert p["mark"] == waiting[old]["mark"] and p["held"] == waiting[old]["held"]
        assert p["capital"] == waiting[old]["capital"]
    # agreement 0's three-agreement commitment (0..2) carried over as it was, not extended past the cancel
    assert series.positionOf(a2)["commitEnd"] == waiting[a1]["commitEnd"] == 2
    assert series.agreement(2)["capital"] == sum(waiting[p]["capital"] for p in waiting)
    assert series.escrow() == escrow and series.modellerCredit() == credit
