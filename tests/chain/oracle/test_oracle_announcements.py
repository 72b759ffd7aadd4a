"""Round announcements: signed round close times, their spacing and order."""

from brownie import chain

from support.chain import DAY, MIN_ROUND_SPACING, expect_event, reverts_with
from support.oracle import MAX_UINT64, RESOLUTION_DELAY, events, latest


def test_first_announcement_any_round(bare):
    o = bare.oracle
    close = chain.time() + 3600
    tx = bare.announce(500, [close])
    expect_event(tx, "RoundAnnounced", round=500, closeTime=close)
    assert (o.currentRound(), o.currentRoundCloseTime(), o.firstAnnouncedRound()) == (500, close, 500)
    assert (o.roundCloseTime(500), o.roundCloseTime(499), o.roundCloseTime(501)) == (close, 0, 0)
    assert o.nextStartRound() == 501


def test_announcement_sequence(bare, dry_bare):
    o = bare.oracle
    with reverts_with("RoundNotNextAnnouncement", 0, 1):
        bare.announce(0, [chain.time()])
    close = chain.time() + 3600
    bare.announce(500, [close])
    for wrong in (502, 500, 499, 1):
        with reverts_with("RoundNotNextAnnouncement", wrong, 501):
            dry_bare.announce(wrong, [close + MIN_ROUND_SPACING])
    with reverts_with("NoCloseTimes"):
        bare.announce(501, [])
    tx = bare.announce(501, [close + MIN_ROUND_SPACING])
    expect_event(tx, "RoundAnnounced", round=501, closeTime=close + MIN_ROUND_SPACING)
    assert o.firstAnnouncedRound() == 500


def test_close_time_spacing(bare, dry_bare):
    o = bare.oracle
    with reverts_with("CloseTimeTooEarly", 0, 1):  # the very first deadline only has to be positive
        bare.announce(1, [0])
    first = chain.time() + 3600
    bare.announce(1, [first])
    earliest = first + MIN_ROUND_SPACING
    with reverts_with("CloseTimeTooEarly", earliest - 1, earliest):
        bare.announce(2, [earliest - 1])
    with reverts_with("CloseTimeTooEarly", first, earliest):
        dry_bare.announce(2, [first])
    # inside a batch too, and nothing of a failed batch is kept
    with reverts_with("CloseTimeTooEarly", earliest + MIN_ROUND_SPACING - 1, earliest + MIN_ROUND_SPACING):
        bare.announce(2, [earliest, earliest + MIN_ROUND_SPACING - 1])
    assert (o.currentRound(), o.roundCloseTime(2)) == (1, 0)
    tx = bare.announce(2, [earliest])  # exactly the spacing is fine
    expect_event(tx, "RoundAnnounced", round=2, closeTime=earliest)


def test_announce_batch(bare):
    o = bare.oracle
    base = chain.time() + 3600
    times = [base, base + MIN_ROUND_SPACING, base + 3 * MIN_ROUND_SPACING, base + 3 * MIN_ROUND_SPACING + 86400]
    tx = bare.announce(10, times)
    assert [(e["round"], e["closeTime"]) for e in events(tx, "RoundAnnounced")] == list(zip(range(10, 14), times))
    assert [o.roundCloseTime(r) for r in range(9, 15)] == [0] + times + [0]
    assert (o.currentRound(), o.currentRoundCloseTime(), o.firstAnnouncedRound()) == (13, times[-1], 10)


def test_announce_uint64_bounds(bare, dry_bare):
    o = bare.oracle
    with reverts_with("BoundOutOfRange", "round"):
        bare.announce(2**64, [1000])
    with reverts_with("BoundOutOfRange", "round"):
        dry_bare.announce(1, [2**64])
    with reverts_with("BoundOutOfRange", "round"):
        dry_bare.announce(MAX_UINT64, [1000, 1000 + MIN_ROUND_SPACING])  # the second round would be 2^64
    bare.announce(MAX_UINT64, [1000])
    assert (o.currentRound(), o.currentRoundCloseTime()) == (MAX_UINT64, 1000)
    with reverts_with("BoundOutOfRange", "round"):
        bare.announce(2**64, [1000 + MIN_ROUND_SPACING])


def test_no_round_announced(bare):
    with reverts_with("NoRoundAnnounced"):
        bare.oracle.nextStartRound()
    with reverts_with("NoRoundAnnounced"):
        bare.oracle.roundDueTime(1)


def test_round_due_time(bare):
    o = bare.oracle
    base = chain.time() + 3600
    times = [base, base + 2 * MIN_ROUND_SPACING, base + 5 * MIN_ROUND_SPACING]
    bare.announce(10, times)
    for round_, close in zip(range(10, 13), times):
        assert o.roundDueTime(round_) == close + RESOLUTION_DELAY
    # rounds before the first announcement closed before it did
    assert o.roundDueTime(9) == o.roundDueTime(1) == times[0] + RESOLUTION_DELAY
    # rounds not announced yet: the earliest they can close
    assert o.roundDueTime(13) == times[-1] + MIN_ROUND_SPACING + RESOLUTION_DELAY
    assert o.roundDueTime(20) == times[-1] + 8 * MIN_ROUND_SPACING + RESOLUTION_DELAY


def test_next_start_round_boundary(signed, oracle, model_id):
    """Valid strictly before closeTime + minRoundSpacing; stale from that very second on (views run on the
    latest block's timestamp, which chain.mine(timestamp=...) sets exactly)."""
    close = oracle.currentRoundCloseTime()
    stale_at = close + MIN_ROUND_SPACING
    assert oracle.nextStartRound() == 2
    chain.mine(timestamp=close)  # round 1 has closed: round 2 cannot have
    assert oracle.nextStartRound() == 2
    chain.mine(timestamp=stale_at - 1)
    assert latest() == stale_at - 1
    assert oracle.nextStartRound() == 2
    chain.mine(timestamp=stale_at)
    with reverts_with("RoundScheduleStale", 1, close, stale_at):
        oracle.nextStartRound()
    chain.sleep(30 * DAY)
    chain.mine()
    with reverts_with("RoundScheduleStale", 1, close, stale_at):
        oracle.nextStartRound()
    # announcing the next round makes it fresh again
    signed.announce(2, [latest() + 600])
    assert oracle.nextStartRound() == 3
