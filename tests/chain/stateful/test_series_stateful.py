"""Stateful test of a series: random sequences of every action over several agreements, on chain and on the
reference model (backing/model/series.py) side by side through ``SeriesMirror``.

Each rule performs one action on both: when the model refuses, the chain must refuse with the same custom error
(``SeriesMirror._both``); when it accepts, the chain must accept. Rules are drawn so that they fail often
(wrong phase, wrong owner, capacity, commitments that do not exist, repayments above what is due, defaults
before the wind-down is over, ...). After every step:

- ``mirror.check()``: every agreement, position and party's token flow on chain equals the model's, to the wei;
- the chain's own lifecycle invariants (``invariant_lifecycle_on_chain``, read from the chain only): at most one
  agreement locked or matured, the price chained from one agreement to the next, no fee without a rise;
- the model's own invariants (tests/support/series.py ``check_invariants``): NMR conserved, nobody charged
  twice for the same gain (each fee event's mark before >= the highest price the capital paid at before), held
  fees only ever paid to the modeller or back to the position that paid them, every cohort's mark the highest
  price at which it paid a fee (or its entry mark), the cohort cap.

Beside these, invariants read from the chain alone (issue 21; the model could share a bug):

- a position with a commitment or a consent loses capital to another owner or ends (``done``) only by its
  owner's (or his operator's) action, or by the execution of the roll he consented to;
- no backer's claim (his NMR plus what his positions are due: capital, or the outcome once his agreement ended)
  falls because of another account's transfer, poke, claim or cancel;
- every roll keeps the mark: the new position's mark is the rolled position's mark.

Runs once, on the NMR mock through a clone (this module overrides the ``token_kind`` and ``deployment``
fixtures): test_series.py covers all four variants.
"""

from dataclasses import replace

import pytest
from brownie import chain
from brownie.test import strategy

from backing.model.agreement import ONE, FeeTier, Phase
from backing.model.series import Commitment, example_terms
from backing.onchain.series import SeriesMirror, create_series, post_lockup
from support import fuzz
from support.chain import MIN_ROUND_SPACING
from support.series import check_invariants

DAY = 86400
NAMES = ["alice", "bob", "carol", "dave"]
FINISHED = (int(Phase.Matured), int(Phase.Settled), int(Phase.Defaulted))
CHECKED = {}  # chain-only invariant checks made, by kind


# growth of the model's index over a lockup (1e18 = flat): gains, losses, flat, a wipe-out
GROWTHS = [
    ONE,
    12 * ONE // 10,
    8 * ONE // 10,
    13 * ONE // 10 + 7,
    9 * ONE // 10 + 3,
    11 * ONE // 10,
    ONE + 1,
    6 * ONE // 10,
    15 * ONE // 10,
    0,
]
STATS = {}
REFUSED = {}
PATHS = {}  # paths taken that the findings are about, by name


def economics(kind: int, staking: str, model_id: str):
    """Three economics: the base one, a changed burn share, and no clawback / no commitments with an upfront fee
    and a fee ladder. Timing (open_until, wind_down) is set when the agreement opens."""
    t = example_terms(0, commitments=(Commitment(2, 1500), Commitment(3, 1000)))
    base = replace(
        t.base,
        unit_size=10 * ONE + 7,
        min_units=2,
        max_units=40,
        lockup_rounds=2,
        wind_down=3600,
        staking_address=staking,
        model_id=bytes.fromhex(model_id[2:]),
    )
    if kind == 1:
        base = replace(base, burn_share_bps=4000)
    if kind == 2:
        base = replace(base, upfront_fee_bps=100, fee_ladder=(FeeTier(8, 1200),))
        return replace(t, base=base, clawback_bps=0, clawback_agreements=0, commitments=())
    return replace(t, base=base)


class SeriesMachine:
    st_who = strategy("uint", max_value=3)
    st_units = strategy("uint", max_value=12)
    st_commit = strategy("uint", max_value=5)
    st_pick = strategy("uint", max_value=63)
    st_mode = strategy("uint", max_value=7)
    st_growth = strategy("uint", max_value=len(GROWTHS) - 1)
    st_econ = strategy("uint", max_value=3)
    st_flag = strategy("bool")

    def __init__(cls, series, token, signed, accounts, staking, model_id):
        cls.series = series
        cls.token = token
        cls.signed = signed
        cls.oracle = signed.oracle
        cls.accounts = accounts
        cls.staking = staking
        cls.model_id = model_id

    def setup(self):
        fuzz.count("series", "runs")
        self.m = SeriesMirror(self.series, self.token, self.accounts, self.staking)
        self.econ = 0
        self.steps = 0
        self.rule_open(0)

    def teardown(self):
        key = tuple(a.phase.name for a in self.m.model.agreements) + (f"{self.steps} steps",)
        STATS[key] = STATS.get(key, 0) + 1

    # ------------------------------------------------------------------ helpers
    @property
    def model(self):
        return self.m.model

    def _terms(self, kind):
        t = economics(kind, self.staking, self.model_id)
        return replace(t, base=replace(t.base, open_until=chain.time() + 29 * DAY))  # a series allows at most 30 days

    def _positions(self, locked_only=False):
        out = []
        for a in self.model.agreements:
            if locked_only and a.phase != Phase.Locked:
                continue
            out.extend(sorted(a.positions.values(), key=lambda p: p.id))
        return out

    def _pick(self, st_pick, locked_only=False):
        ps = self._positions(locked_only) or self._positions()
        return ps[st_pick % len(ps)] if ps else None

    def _in_phase(self, phase):
        for a in self.model.agreements:
            if a.phase == phase:
                return a
        return None

    def _commit(self, st_commit):
        return [None, None, None, 2, 3, 4][st_commit]  # 4: no such commitment

    def _fresh_schedule(self):
        close = self.oracle.currentRoundCloseTime()
        if chain.time() + 120 >= close + MIN_ROUND_SPACING:
            self.signed.announce(self.oracle.currentRound() + 1, [chain.time() + 3600])

    def _books(self):
        """Every position on chain: (owner, agreement, capital, done, bound, value); `bound`: it has a commitment
        or a consent; `value`: what it is due now (0 once done; capital before its agreement ended)."""
        s = self.series
        phases = {}
        out = {}
        for pid in range(1, s.positionCount() + 1):
            try:
                v = s.positionOf(pid)
            except Exception:  # withdrawn to zero: the position no longer exists
                continue
            index = v["agreement"]
            if index not in phases:
                phases[index] = s.agreement(index)["phase"]
            if v["done"]:
                value = 0
            elif v["evaluated"]:
                value = v["claimable"]
            elif phases[index] in FINISHED:
                value = s.outcomeOf(pid)["claimable"]
            else:
                value = v["capital"]
            bound = v["commitEnd"] >= index or v["intent"] != 0
            out[pid] = (v["owner"], index, v["capital"], v["done"], bound, value)
        return out

    def _wealth(self, books):
        """Per backer: his NMR plus what his positions are due."""
        out = {}
        for name in NAMES:
            address = self.accounts[name].address
            out[name] = self.token.balanceOf(address) + sum(b[5] for b in books.values() if b[0] == address)
        return out

    def _act(self, kind, actor, action):
        """Run `action` by `actor` and check the chain-only invariants against the books before it."""
        before = self._books()
        wealth = self._wealth(before)
        out = action()
        after = self._books()
        actor_address = self.accounts[actor].address
        for pid, (owner, _, capital, done, bound, _) in before.items():
            now = after.get(pid)
            moved = now is None or now[2] < capital or (now[3] and not done)
            if bound and moved and kind != "execute_roll":
                assert actor_address == owner, (kind, actor, pid, "a bound position moved without its owner")
                CHECKED["bound"] = CHECKED.get("bound", 0) + 1
        if kind in ("transfer", "poke", "claim", "cancel"):
            for name, amount in self._wealth(after).items():
                if name != actor:
                    assert amount >= wealth[name], (kind, actor, name, amount, wealth[name])
            CHECKED["claims"] = CHECKED.get("claims", 0) + 1
        if kind in ("roll", "execute_roll") and isinstance(out, tuple) and out[0] is not None:
            old, new = self._rolled
            assert self.series.positionOf(out[0])["mark"] == self.series.positionOf(old)["mark"], (old, out[0])
            CHECKED["mark"] = CHECKED.get("mark", 0) + 1
        return out

    def _count(self, out):
        if isinstance(out, tuple) or out is None:
            return out
        REFUSED[out.name] = REFUSED.get(out.name, 0) + 1
        return out

    # ------------------------------------------------------------------ rules
    def initialize_series(self, st_who, st_units, st_mode, st_growth, st_flag):
        """Start most runs further along, so short runs still reach rolls, settlements, defaults and claims:
        two deposits, the reserve, the lock; then (mostly) the next agreement opens, some consent to roll into it,
        the first matures and is repaid (in full, in part or not at all)."""
        self.rule_deposit_more(0, st_units)
        self.rule_deposit(st_who, 1 + st_units, st_mode % 6)
        self.rule_post_reserve(1, False)
        self.rule_lock(True)
        if st_mode == 7 or self.model.agreements[0].phase != Phase.Locked:
            return
        self.rule_open(st_mode % 4)
        if st_flag:
            for p in self._positions(locked_only=True):
                self.rule_roll(p.id - 1, st_mode, st_units % 6, True)
        if st_mode < 6:
            self.rule_mature(st_growth)
            self.rule_repay(0 if st_mode < 4 else 4 + st_mode % 3)

    def rule_open(self, st_econ):
        """The next agreement: the same economics (new timing) or changed ones."""
        kind = self.econ if st_econ == 0 else st_econ - 1
        out = self._count(self.m.open(self._terms(kind)))
        if isinstance(out, tuple):
            self.econ = kind

    def rule_deposit(self, st_who, st_units, st_commit):
        self._count(self.m.deposit(NAMES[st_who], st_units, commit=self._commit(st_commit)))

    def rule_deposit_more(self, st_who, st_units):
        """Deposits dominate, so agreements have capital to lock."""
        self._count(self.m.deposit(NAMES[st_who], 2 + st_units, commit=[None, 2, 3][st_units % 3]))

    def rule_withdraw(self, st_who, st_units, st_commit):
        self._count(self.m.withdraw(NAMES[st_who], st_units % 5, commit=self._commit(st_commit)))

    def rule_post_reserve(self, st_mode, st_flag):
        """The reserve the open agreement needs (less one wei sometimes), or a top-up of the locked one."""
        a = self.model.agreements[-1]
        if st_flag and self._in_phase(Phase.Locked) is not None:
            a = self._in_phase(Phase.Locked)
            amount = ONE + st_mode
        else:
            t = a.terms.base
            capital = a.capital
            need = t.required_reserve(capital - capital * t.upfront_fee_bps // 10_000) - a.reserve
            amount = max(1, need - (1 if st_mode == 0 else 0) + st_mode * ONE // 7)
        self._count(self.m.post_reserve(amount, a.index))

    def rule_lock(self, st_flag):
        """Lock after the rolls' window (st_flag), or at once: refused (RollWindowOpen) inside a settlement's window
        (issue 12 M-2), unless nothing before it ran."""
        until = self.series.rollsOpenUntil()
        if not st_flag and until and abs(chain.time() - until) < 30:
            return  # too close to the window's end: the model's clock and the block's may differ by a second
        self._fresh_schedule()
        self._count(self.m.lock(wait=st_flag))

    def rule_mature(self, st_growth):
        """Post the locked agreement's rounds (the index moving by a random growth) and mature it."""
        a = self._in_phase(Phase.Locked)
        if a is None:  # nothing locked: maturing the latest agreement must be refused
            index = len(self.model.agreements) - 1
            self.m._both(
                lambda: self.model.mature(self.m.now(), ONE, ONE),
                lambda: self.series.mature(index, {"from": self.accounts["modeller"]}, silent=True),
            )
            return
        post_lockup(self.signed, self.series, a.index, GROWTHS[st_growth], a.terms.base.lockup_rounds)
        chain.mine()
        self._count(self.m.mature(a.index))

    def rule_repay(self, st_mode):
        """Repay in full (most often), in part, one wei too much, or nothing."""
        a = self._in_phase(Phase.Matured)
        if a is None:
            self._count(self.m.repay(len(self.model.agreements) - 1, ONE))
            return
        outstanding = a.due - a.repaid
        if st_mode < 4:
            amount = outstanding
        elif st_mode < 6:
            amount = max(1, outstanding * st_mode // 9)
        elif st_mode == 6:
            amount = outstanding + 1
        else:
            return
        self._count(self.m.repay(a.index, amount))

    def rule_default(self, st_flag):
        """Declare a default: after waiting out the wind-down (st_flag), or at once (refused while it runs)."""
        a = self._in_phase(Phase.Matured)
        if a is not None:
            if st_flag and chain.time() <= a.deadline + 30:
                chain.sleep(a.deadline - chain.time() + 60)
                chain.mine()
            elif abs(chain.time() - a.deadline) < 30:
                return  # too close to the deadline: the model's clock and the block's may differ by a second
        index = a.index if a is not None else len(self.model.agreements) - 1
        self._count(self.m.declare_default(index))

    def rule_roll(self, st_pick, st_mode, st_commit, st_flag):
        """Consent to roll (before settlement) or roll at once (after it): all, part, one wei, nothing; sometimes
        with a commitment, sometimes by someone who does not own the position."""
        p = self._pick(st_pick)
        if p is None:
            return
        who = p.owner if st_mode != 7 else NAMES[(NAMES.index(p.owner) + 1) % 4]
        base = p.claimable or p.capital
        amount = [None, None, None, base // 2 or 1, base // 3 or 1, 1, 0, None][st_mode]  # 0: revoke
        self._rolled = (p.id, None)
        self._count(
            self._act(
                "roll",
                who,
                lambda: self.m.roll(p.id, who, amount=amount, commit=self._commit(st_commit), consent_terms=st_flag),
            )
        )

    def rule_execute_roll(self, st_pick):
        p = self._pick(st_pick)
        if p is not None:
            self._rolled = (p.id, None)
            self._count(self._act("execute_roll", "modeller", lambda: self.m.execute_roll(p.id)))

    def rule_claim(self, st_pick, st_flag, st_who):
        """The owner claims, or someone else tries (refused: NotOwner)."""
        p = self._pick(st_pick)
        if p is not None:
            who = p.owner if not st_flag else (NAMES + ["outsider", "modeller"])[(st_who + 1) % 6]
            self._count(self._act("claim", who, lambda: self.m.claim(p.id, caller=who)))

    def rule_poke(self, st_pick, st_who):
        """Anyone settles a position's books (the mirror compares them with the model's at the next check)."""
        p = self._pick(st_pick)
        if p is not None:
            who = (NAMES + ["outsider"])[st_who]
            self._act("poke", who, lambda: self.series.poke(p.id, {"from": self.accounts[who]}, silent=True))

    def rule_accept(self, st_who, st_mode, st_flag):
        """A backer accepts (or stops accepting) transfers from another."""
        receiver, caller = NAMES[st_who], NAMES[st_mode % 4]
        if receiver != caller:
            self._count(self.m.accept_transfers(receiver, caller, st_mode < 6 or st_flag))

    def rule_transfer(self, st_pick, st_who, st_mode):
        """Sell part or all of a locked position mid-lockup (or try: to the modeller, the series, the staking
        wallet, oneself, more than the capital)."""
        p = self._pick(st_pick, locked_only=True)
        if p is None:
            return
        to = (
            (NAMES + ["modeller", "series", "staking", p.owner])[(st_who + st_mode) % 8]
            if st_mode > 3
            else NAMES[st_who]
        )
        amount = [p.capital, p.capital // 2, p.capital // 3 + 1, p.capital + 1][st_mode % 4]
        self._count(self._act("transfer", p.owner, lambda: self.m.transfer(p.id, p.owner, to, amount)))

    def rule_cancel(self, st_mode):
        if st_mode == 0:  # rare: a cancellation ends the open agreement's part of the run
            self._count(self._act("cancel", "modeller", lambda: self.m.cancel()))

    def rule_cancel_and_reopen(self, st_mode):
        """Issue 21 F2: the modeller cancels the open agreement and opens another with the same economics. The
        positions waiting to roll out of the agreement before it, and those rolled into it, roll on into the new
        one with their marks (the model's rules; the mirror checks the chain keeps the same books)."""
        if st_mode < 3 and self.model.agreements and self.model.agreements[-1].phase == Phase.Open:
            out = self._count(self._act("cancel", "modeller", lambda: self.m.cancel()))
            if isinstance(out, tuple):
                PATHS["cancel-and-reopen"] = PATHS.get("cancel-and-reopen", 0) + 1
                self.rule_open(0)

    def rule_collect(self, st_mode):
        if st_mode == 0 and self.series.modellerCredit():
            self.series.collect({"from": self.accounts["outsider"]}, silent=True)

    # ------------------------------------------------------------------ invariants
    def invariant_chain_matches_model(self):
        self.m.check()

    def invariant_model(self):
        check_invariants(self.model)
        self.steps += 1
        invariants = sum(1 for name in dir(SeriesMachine) if name.startswith("invariant_"))
        fuzz.count("series", "steps")
        fuzz.count("series", "invariant_checks", invariants)

    def invariant_lifecycle_on_chain(self):
        """Read from the chain alone (the model can share a bug, as it did H-1's): at most one agreement locked or
        matured; each agreement that ran starts at the price the previous one that ran (cancelled ones did not)
        settled at; every locked position's mark is at least its agreement's start price and no position pays a
        profit fee in an agreement whose price did not rise; an ended series has no open agreement."""
        series = self.series
        views = [series.agreement(i) for i in range(series.agreementCount())]
        phases = [int(v["phase"]) for v in views]
        live = [i for i, phase in enumerate(phases) if phase in (Phase.Locked, Phase.Matured)]
        assert len(live) <= 1, f"two live agreements: {live}"
        ran = [v for v in views if int(v["phase"]) not in (Phase.Open, Phase.Cancelled)]
        for before, after in zip(ran, ran[1:]):
            assert int(before["phase"]) == Phase.Settled
            assert after["priceStart"] == before["priceEnd"]
        for a in self.model.agreements:
            v = views[a.index]
            for pid in a.positions:
                if int(v["phase"]) == Phase.Locked:
                    assert series.positionOf(pid)["mark"] >= v["priceStart"] > 0
                if int(v["phase"]) in (Phase.Matured, Phase.Settled) and v["priceEnd"] <= v["priceStart"]:
                    assert series.outcomeOf(pid)["fee"] == 0, (pid, a.index)
        if series.ended():
            assert Phase.Open not in phases


@pytest.fixture(scope="module", params=["nmr"])
def token_kind(request):  # overrides conftest's: this module runs on the NMR mock only
    return request.param


@pytest.fixture(scope="module", params=["clone"])
def deployment(request):  # and through a clone only
    return request.param


def test_series_state_machine(
    state_machine, series_factory, token, signed, model_id, modeller, backers, outsider, staking
):
    series = create_series(series_factory, model_id, modeller, clone=True)
    names = {"modeller": modeller, "outsider": outsider, **dict(zip(NAMES, backers))}
    state_machine(
        SeriesMachine,
        series,
        token,
        signed,
        names,
        staking.address,
        model_id,
        settings=fuzz.budget(examples=10, steps=30),
    )  # make test's short profile; make fuzz scales it
    print("final phases per run:", STATS)
    print("refusals:", REFUSED)
    print("paths:", PATHS)
    fuzz.report("series", paths=PATHS, refusals=REFUSED, chain_only_checks=CHECKED)
    print("chain-only invariant checks:", CHECKED)
    assert CHECKED, "no chain-only invariant was checked"
