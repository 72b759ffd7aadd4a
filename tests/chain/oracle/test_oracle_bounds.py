"""Issue 20 N-2, N-3, I-2: no announced round, close time or index that can trap an agreement."""

from brownie import chain

from support.chain import NMR, reverts_with
from support.oracle import MID, ONE

MAX_ROUND = 2**32 - 1


def test_announced_rounds_are_bounded(bare, dry_bare):
    """Issue 20 N-2: a first round near 2^64 made nextStartRound() return 2^64, which lock() truncated to 0
    (reserve and backers trapped). Rounds above MAX_ROUND (2^32 - 1) are refused with their own error."""
    assert bare.oracle.MAX_ROUND() == MAX_ROUND
    with reverts_with("RoundOutOfRange", MAX_ROUND + 1, MAX_ROUND):
        dry_bare.announce(MAX_ROUND + 1, [chain.time() + 3600])
    with reverts_with("RoundOutOfRange", 2**64 - 1, MAX_ROUND):
        dry_bare.announce(2**64 - 1, [chain.time() + 3600])
    close = chain.time() + 3600
    with reverts_with("RoundOutOfRange", MAX_ROUND + 1, MAX_ROUND):
        dry_bare.announce(MAX_ROUND, [close, close + bare.oracle.minRoundSpacing()])
    bare.announce(MAX_ROUND, [close])
    assert bare.oracle.nextStartRound() == MAX_ROUND + 1  # an agreement's start + lockup fits its uint64


def test_registered_first_round_is_bounded(bare, modeller):
    """Issue 20 N-2: the same bound for a model's first round."""
    with reverts_with("RoundOutOfRange", MAX_ROUND + 1, MAX_ROUND):
        bare.register(b"\x42" * 32, modeller, ONE, MAX_ROUND + 1)
    bare.register(b"\x42" * 32, modeller, ONE, MAX_ROUND)


def test_close_time_horizon(bare, dry_bare):
    """Issue 20 I-2: a close time in milliseconds (or any beyond MAX_CLOSE_HORIZON from now) is refused; it
    used to push every later round and the liveness fallback out by millennia."""
    horizon = bare.oracle.MAX_CLOSE_HORIZON()
    assert horizon == 365 * 86400
    now = chain.time()
    with reverts_with("CloseTimeTooLate"):
        dry_bare.announce(1, [now * 1000])
    bare.announce(1, [now + 3600])
    with reverts_with("CloseTimeTooLate"):
        dry_bare.announce(2, [chain.time() + horizon + 600])
    bare.announce(2, [chain.time() + horizon - 600])


def test_total_loss_keeps_the_index_positive(signed, oracle, model_id, post_returns):
    """Issue 20 N-3: a -100% round (exposure 1) took the index to 0 for good; near zero it lost every digit
    (+10% twice left 1). One round now takes it to no less than MIN_GROWTH (1e-6) of its value."""
    assert oracle.MIN_GROWTH() == 10**12
    post_returns(MID, [-ONE, ONE // 10, ONE // 10])
    i1, i2, i3 = (oracle.indexAt(MID, r) for r in (1, 2, 3))
    assert i1 == 10**12
    assert (i2, i3) == (11 * 10**11, 121 * 10**10)


def test_lock_refuses_a_vanished_index(
    signed, oracle, model_id, make_nmr_agreement, fund_nmr, modeller, alice, post_returns
):
    """Issue 20 N-3: with the model's index below MIN_START_INDEX (two -100% rounds: 1e6) lock reverts with
    IndexTooLow instead of starting an agreement whose value is certain to be 0 or imprecise."""
    post_returns(MID, [-ONE, -ONE])
    assert oracle.indexAt(MID, 2) == 10**6
    signed.announce_through(2)
    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    with reverts_with("IndexTooLow", MID, 2, 10**6, 10**9):
        agreement.lock({"from": modeller})
    with reverts_with("IndexTooLow"):
        oracle.startRoundFor(MID)
    agreement.cancel({"from": modeller})  # backers take their deposit back


def test_loss_before_the_lockup_resolving_after_lock(
    signed, oracle, make_nmr_agreement, fund_nmr, modeller, alice, outsider
):
    """Issue 20 N-3: round 1 closed before the lock, resolves after it at -100%. The agreement's own rounds
    (2..4) all gain 10%: its value is S * 1.1^3 (it counts from I_1, the index after round s-1), not 0."""
    from backing.onchain.oracle import return_report

    agreement, terms = make_nmr_agreement(lockup_rounds=3)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    signed.announce_through(4)
    signed.post([return_report(MID, 1, -ONE)] + [return_report(MID, r, ONE // 10) for r in (2, 3, 4)])
    chain.sleep(7200)
    chain.mine()
    tx = agreement.mature({"from": outsider, "gas_limit": 1_000_000})
    assert "MaturedOnFallback" not in tx.events
    assert oracle.indexAt(MID, 1) == 10**12
    assert agreement.finalValue() == 100 * NMR * 1331 // 1000


def test_start_round_for(oracle, model_id):
    """startRoundFor checks what lock needs in one call (gas: one oracle call at lock instead of two)."""
    assert oracle.startRoundFor(MID) == oracle.nextStartRound() == 2
    with reverts_with("ModelNotRegistered", b"\x11" * 32):
        oracle.startRoundFor(b"\x11" * 32)
