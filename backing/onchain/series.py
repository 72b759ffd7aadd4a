"""Drive a BackingSeries on chain next to the reference model (``backing.model.series``) and compare them to the wei.

``deploy_series_factory`` deploys a ModellerRecord, the series' libraries (SeriesTerms, SeriesSettlement,
SeriesPositions), the BackingSeries implementation and the SeriesFactory (the record and the implementation must
know the factory's address, which is predicted from the deployer's nonce: ``backing.onchain.factories``).
``SeriesMirror`` performs every action on both the model and the chain: the same error when one refuses, the same
amounts when both accept; ``check()`` compares every agreement, position and token flow. The contract settles a
position lazily (when it is next touched); the model eagerly. After the model's eager steps (settlement, lock,
default, cancel) the mirror ``poke``s the positions the model touched, so their books match at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backing.errors import revert_error
from backing.model.agreement import ONE, ContractError, Phase
from backing.model.series import Series, SeriesTerms

ALL = 2**256 - 1


def deploy_series_factory(deployer, token, oracle, silent: bool = True):
    """A SeriesFactory of its own (with its ModellerRecord, no agreement factory): the series' external libraries
    (once per chain: brownie links BackingSeries to the last deployed), a BackingSeries implementation bound to the
    factory's future address, then the factory (``backing.onchain.factories.deploy_factories``)."""
    from backing.onchain.factories import deploy_factories

    return deploy_factories(deployer, token, oracle, silent=silent, agreements=False).series


def create_series(factory, model_id, modeller, clone: bool = True, silent: bool = True):
    """A new series for `model_id` (the modeller must own it at the oracle): a clone, or a full deployment."""
    from brownie import BackingSeries

    if clone:
        tx = factory.createSeries(model_id, {"from": modeller}, silent=silent)
        return BackingSeries.at(tx.events["SeriesCreated"]["series"])
    series = BackingSeries.deploy(factory.token(), factory.oracle(), factory, {"from": modeller}, silent=silent)
    factory.adoptSeries(series, model_id, {"from": modeller}, silent=silent)
    return series


def terms_args(terms: SeriesTerms):
    """openAgreement's arguments for `terms`."""
    return (
        terms.base.as_tuple(),
        terms.base.ladder_tuples(),
        terms.clawback_bps,
        terms.clawback_agreements,
        [(c.agreements, c.profit_share_bps) for c in terms.commitments],
    )


@dataclass
class SeriesMirror:
    """The model and one deployed series, driven together. `accounts` maps the model's party names to brownie
    accounts (the modeller under ``"modeller"``); ``"staking"`` is the agreements' staking address."""

    series: object  # BackingSeries
    token: object
    accounts: dict
    staking: str
    model: Series = field(init=False)
    from_block: int = 0
    minted: dict = field(default_factory=dict)
    funder: object = None  # gives NMR (``fund(account, amount)``); None: the mock's faucet (a fork has none)

    def __post_init__(self):
        from brownie import web3

        self.model = Series("modeller")
        self.from_block = web3.eth.block_number

    # ------------------------------------------------------------------ helpers
    def _acct(self, name):
        return self.accounts[name]

    def _both(self, model_call, chain_call):
        """Run the model, then the chain; both must accept or both refuse with the same error name."""
        from brownie.exceptions import VirtualMachineError

        try:
            result = model_call()
        except ContractError as e:
            try:
                chain_call()
            except VirtualMachineError as exc:
                got = revert_error(exc)
                assert got is not None and got[0] == e.name, f"model refused with {e.name}, chain with {exc}"
                return e
            raise AssertionError(f"model refused with {e.name} {e.args}, the chain accepted")
        tx = chain_call()
        return result, tx

    def _fund(self, name, amount):
        from backing.onchain.agreement import set_allowance

        account = self._acct(name)
        if self.funder is not None:
            self.funder.fund(account, amount)
        else:
            self.token.mintTo(account, amount, {"from": account}, silent=True)
        self.minted[name] = self.minted.get(name, 0) + amount
        set_allowance(self.token, account, self.series, amount, silent=True)

    def now(self) -> int:
        from brownie import chain

        return chain.time()

    def _poke_all(self, *indices):
        for index in indices:
            if 0 <= index < len(self.model.agreements):
                for pid in sorted(self.model.agreements[index].positions):
                    self.series.poke(pid, {"from": self._acct("modeller")}, silent=True)

    # ------------------------------------------------------------------ actions
    def open(self, terms: SeriesTerms):
        return self._both(
            lambda: self.model.open_agreement("modeller", terms, self.now()),
            lambda: self.series.openAgreement(*terms_args(terms), {"from": self._acct("modeller")}, silent=True),
        )

    def post_reserve(self, amount: int, index: int | None = None):
        index = len(self.model.agreements) - 1 if index is None else index
        self._fund("modeller", amount)
        return self._both(
            lambda: self.model.post_reserve("modeller", amount, index),
            lambda: self.series.postReserve(index, amount, {"from": self._acct("modeller")}, silent=True),
        )

    def deposit(self, name: str, units: int, commit: int | None = None):
        unit = self.model.agreements[-1].terms.base.unit_size if self.model.agreements else 0
        self._fund(name, units * unit)
        return self._both(
            lambda: self.model.deposit(name, units, self.now(), commit=commit),
            lambda: self.series.deposit(units, commit or 0, {"from": self._acct(name)}, silent=True),
        )

    def withdraw(self, name: str, units: int, commit: int | None = None):
        return self._both(
            lambda: self.model.withdraw(name, units, commit=commit),
            lambda: self.series.withdraw(units, commit or 0, {"from": self._acct(name)}, silent=True),
        )

    def lock(self, wait: bool = True):
        """Lock the open agreement; with `wait`, first let the rolls' window pass (issue 12 M-2)."""
        if wait:
            wait_for_rolls(self.series)
        out = self._both(
            lambda: self.model.lock("modeller", self.now()),
            lambda: self.series.lock({"from": self._acct("modeller")}, silent=True),
        )
        if not isinstance(out, ContractError):
            # the agreement it follows and the cancelled ones between: their positions that did not roll left
            a = self.model.agreements[-1]
            self._poke_all(*range(max(0, a.index - a.cancelled_before - 1), a.index))
        return out

    def cancel(self, caller: str = "modeller"):
        out = self._both(
            lambda: self.model.cancel(caller, self.now()),
            lambda: self.series.cancel({"from": self._acct(caller)}, silent=True),
        )
        if not isinstance(out, ContractError):
            self._poke_all(len(self.model.agreements) - 1)
        return out

    def mature(self, index: int):
        """Mature agreement `index` with the indices the oracle gives the chain."""
        a = self.series.agreement(index)
        oracle = self._oracle()
        rounds = self.model.agreements[index].terms.base.lockup_rounds
        start, end = a["startRound"], a["startRound"] + rounds - 1
        si, ei, last, complete = oracle.settlementIndices(self.series.modelId(), start, end)
        out = self._both(
            lambda: self.model.mature(self.now(), si, ei),
            lambda: self.series.mature(index, {"from": self._acct("modeller")}, silent=True),
        )
        if not isinstance(out, ContractError):
            self._poke_all(*self._settled_and_open(index))
        return out

    def _oracle(self):
        from brownie import ScoreOracle

        return ScoreOracle.at(self.series.oracle())

    def repay(self, index: int, amount: int | None = None, payer: str = "modeller"):
        a = self.model.agreements[index]
        amount = a.due - a.repaid if amount is None else amount
        self._fund(payer, amount)
        out = self._both(
            lambda: self.model.repay(payer, amount, self.now()),
            lambda: self.series.repay(index, amount, {"from": self._acct(payer)}, silent=True),
        )
        if not isinstance(out, ContractError):
            self._poke_all(*self._settled_and_open(index))
        return out

    def declare_default(self, index: int, caller: str = "modeller"):
        out = self._both(
            lambda: self.model.declare_default(self.now()),
            lambda: self.series.declareDefault(index, {"from": self._acct(caller)}, silent=True),
        )
        if not isinstance(out, ContractError):
            self._poke_all(*self._settled_and_open(index))
        return out

    def _settled_and_open(self, index: int) -> tuple:
        """The agreement that just matured, settled or defaulted, and the latest one if it is another: an ended
        series (default, or a price of 0) cancels the agreement still open."""
        latest = len(self.model.agreements) - 1
        return (index,) if latest == index else (index, latest)

    def roll(
        self, pid: int, name: str, amount: int | None = None, commit: int | None = None, consent_terms: bool = False
    ):
        p, a = self.model.position(pid) if self._known(pid) else (None, None)
        terms_hash = b"\x00" * 32
        terms = None
        latest = len(self.model.agreements) - 1
        if consent_terms and a is not None and a.index < latest:  # the agreement a roll goes into: the latest
            terms = self.model.agreements[latest].terms
            terms_hash = self.series.agreement(latest)["termsHash"]
        return self._both(
            lambda: self.model.roll(pid, name, amount=amount, commit=commit, terms=terms),
            lambda: self.series.roll(
                pid, ALL if amount is None else amount, commit or 0, terms_hash, {"from": self._acct(name)}, silent=True
            ),
        )

    def execute_roll(self, pid: int, caller: str = "modeller"):
        return self._both(
            lambda: self.model.execute_roll(pid),
            lambda: self.series.executeRoll(pid, {"from": self._acct(caller)}, silent=True),
        )

    def claim(self, pid: int, caller: str | None = None):
        """Claim position `pid`, by its owner (`caller` None) or by `caller`."""
        if caller is None:
            caller = self.model.position(pid)[0].owner if self._known(pid) else "modeller"
        return self._both(
            lambda: self.model.claim(pid, caller),
            lambda: self.series.claim(pid, {"from": self._acct(caller)}, silent=True),
        )

    def transfer(self, pid: int, name: str, to: str, amount: int):
        target = self.staking if to == "staking" else (self.series.address if to == "series" else self._acct(to))
        return self._both(
            lambda: self.model.transfer(pid, name, to, amount),
            lambda: self.series.transfer(pid, target, amount, {"from": self._acct(name)}, silent=True),
        )

    def set_operator(self, owner: str, operator: str, approved: bool = True):
        return self._both(
            lambda: self.model.set_operator(owner, operator, approved),
            lambda: self.series.setOperator(self._acct(operator), approved, {"from": self._acct(owner)}, silent=True),
        )

    def accept_transfers(self, receiver: str, caller: str, accepted: bool = True):
        return self._both(
            lambda: self.model.accept_transfers(receiver, caller, accepted),
            lambda: self.series.acceptTransfers(
                self._acct(caller), accepted, {"from": self._acct(receiver)}, silent=True
            ),
        )

    def _known(self, pid: int) -> bool:
        try:
            self.model.position(pid)
            return True
        except ContractError:
            return False

    # ------------------------------------------------------------------ comparison
    def address_of(self, name: str) -> str:
        return self.staking if name == "staking" else self._acct(name).address

    def flows(self) -> dict:
        """Net NMR each party received from the series on chain (modeller: collected + credited)."""
        from backing.onchain.agreement import token_flows

        raw = token_flows(self.token, self.series.address, self.from_block)
        out = {}
        for name in set(self.model.transfers) | {"modeller"}:
            out[name] = raw.get(self.address_of(name), 0)
        out["modeller"] += self.series.modellerCredit()
        return out

    def check(self) -> None:
        """Every agreement's aggregates, every live position's books and every party's token flow, to the wei."""
        m, s = self.model, self.series
        assert s.agreementCount() == len(m.agreements)
        assert s.price() == m.price, ("price", s.price(), m.price)
        assert s.ended() == m.ended
        held = self.token.balanceOf(s)  # the modeller's credit stays here until he collects it
        assert held == m.balance + s.modellerCredit(), ("series balance", held, m.balance, s.modellerCredit())
        assert s.escrow() == m.escrow, ("escrow", s.escrow(), m.escrow)
        for a in m.agreements:
            v = s.agreement(a.index)
            assert Phase(v["phase"]) == a.phase, (a.index, v["phase"], a.phase)
            assert v["reserve"] == a.reserve and v["repaid"] == a.repaid, a.index
            assert v["balance"] == a.balance, ("agreement balance", a.index, v["balance"], a.balance)
            live = [p for p in a.positions.values() if p.capital > 0]
            assert v["positions"] == len(live), (a.index, v["positions"], len(live))
            if a.locked is not None:
                assert (v["capital"], v["upfrontFee"], v["staked"]) == (
                    a.locked.capital,
                    a.locked.upfront_fee,
                    a.locked.staked,
                ), a.index
                assert v["priceStart"] == a.p_start
            if a.phase in (Phase.Matured, Phase.Settled, Phase.Defaulted):
                assert (
                    v["finalValue"],
                    v["priceEnd"],
                    v["amountDue"],
                    v["owedTotal"],
                    v["coverBound"],
                    v["feeLowerBound"],
                ) == (a.value, a.p_end, a.due, a.owed_total, a.cover_bound, a.fee_lower_bound), (a.index, v)
            if a.phase == Phase.Defaulted:
                assert v["defaultPool"] == a.default_pool
            for p in live:
                q = s.positionOf(p.id)
                assert q["owner"] == self._acct(p.owner).address, (p.id, q["owner"], p.owner)
                assert q["agreement"] == a.index and q["capital"] == p.capital, (p.id, q, p)
                assert q["mark"] == (p.mark or 0), ("mark", p.id, q["mark"], p.mark)
                assert q["commitEnd"] == p.commit_end and (p.commit_end < 0 or q["commitShareBps"] == p.commit_share)
                assert q["held"] == sum(p.held.values()), ("held", p.id, q["held"], p.held)
                assert q["done"] == p.done, ("done", p.id)
                assert q["rolled"] == p.rolled and q["chargedBack"] == p.charged_back, ("rolled", p.id, q, p)
                if q["evaluated"]:
                    assert q["claimable"] == p.claimable, ("claimable", p.id, q["claimable"], p.claimable)
                    assert q["discount"] == p.discount, ("discount", p.id, q["discount"], p.discount)
                elif a.phase in (Phase.Open, Phase.Locked):  # the model accrues discounts at maturity
                    assert q["discount"] == p.discount, ("discount", p.id, q["discount"], p.discount)
        flows = self.flows()
        for name, amount in m.transfers.items():
            assert flows.get(name, 0) == amount, ("flow", name, flows.get(name, 0), amount)


def wait_for_rolls(series) -> None:
    """Let the chain's clock pass the series' rolls window, if its latest agreement has one to wait for (issue 12
    M-2): a few seconds past it, so that the reference model, which reads the clock before each transaction, agrees.
    """
    from brownie import chain

    count = series.agreementCount()
    if count == 0:
        return
    latest = series.agreement(count - 1)
    if latest["phase"] != 0:  # not open: lock will refuse for its own reason
        return
    until = series.rollsOpenUntil()
    if until and chain.time() < until + 5:
        chain.sleep(until + 5 - chain.time())
        chain.mine()


def post_lockup(signed, series, index: int, growth: int, lockup_rounds: int) -> None:
    """Post (and finalize) agreement `index`'s rounds so that its index moves by `growth` (1e18 = x1): the first
    round of the lockup returns growth - 1, the others 0 (rounds before the lockup: 0)."""
    from backing.model.agreement import ONE

    start = series.agreement(index)["startRound"]
    model_id = series.modelId()
    end = start + lockup_rounds - 1
    last = signed.oracle.lastPostedRound(model_id)
    returns = [growth - ONE if r == start else 0 for r in range(last + 1, end + 1)]
    signed.post_returns(model_id, returns)


# ---------------------------------------------------------------------------------------------- the worked example

#: The worked example's parties, in the order of the settlement table.
EXAMPLE_PARTIES = ("alice", "bob", "carol", "dave", "erin", "modeller", "staking")


def example_terms_on_chain(staking_address: str, model_id, open_until: int | None = None) -> SeriesTerms:
    """The worked example's terms (``backing.model.series.example_terms``) for this chain: open for 30 days from now
    (or until `open_until`), staking to `staking_address`, for `model_id` (0x-prefixed hex or bytes)."""
    from dataclasses import replace

    from brownie import chain

    from backing.model.series import example_terms

    now = chain.time()
    model = bytes.fromhex(model_id[2:]) if isinstance(model_id, str) else bytes(model_id)
    t = example_terms(now)
    base = replace(
        t.base,
        open_until=now + 29 * 86400 if open_until is None else open_until,
        staking_address=str(staking_address),
        model_id=model,
    )
    return replace(t, base=base)


def play_worked_example(mirror: SeriesMirror, signed, staking_address, model_id, say=print) -> dict:
    """Play the four-agreement worked example of docs/series.md on chain through `mirror` (rollover with consent,
    Erin leaving a commitment early with a charge-back, a clawback covering Alice's loss in agreement 1, Carol the
    underwater late entrant, Carol selling half to Dave mid-lockup, everyone rolling into agreement 3 and
    claiming), narrating each step through `say` with the amounts read from the chain.

    ``mirror.check()`` runs after every step; a mismatch (or a refusal) raises AssertionError. Returns
    ``{"checks": number of checks passed, "claims": {party: NMR claimed from agreement 3}}``."""
    from brownie import chain, web3

    from backing.model.series import EXAMPLE_GROWTH, nmr

    m, s = mirror, mirror.series
    modeller = m.accounts["modeller"]
    done = {"checks": 0, "claims": {}}

    def checked(out, what):
        if isinstance(out, ContractError):
            raise AssertionError(f"{what}: refused with {out.name} {out.args}")
        m.check()
        done["checks"] += 1
        return out[0] if isinstance(out, tuple) else out

    def step(text):
        say("")
        say(f"> {text}")

    def line(text):
        say(f"    {text}")

    def pct(bps):
        return f"{bps / 100:g}%"

    def terms():
        open_until = m.model.agreements[0].terms.base.open_until if m.model.agreements else None
        return example_terms_on_chain(staking_address, model_id, open_until)

    def show_lock(index):
        a = s.agreement(index)
        line(
            f"price at the start P_start = {nmr(a['priceStart'])}; capital {nmr(a['capital'])} NMR goes to the "
            f"staking wallet, reserve {nmr(a['reserve'])} NMR, {a['cohorts']} cohort(s) (distinct marks)"
        )
        for pid in sorted(m.model.agreements[index].positions):
            p = s.positionOf(pid)
            if p["capital"] == 0:
                continue
            extra = ""
            if p["commitEnd"] >= index:
                extra += f", committed through agreement {p['commitEnd']} ({pct(p['commitShareBps'])} profit share)"
            if p["held"]:
                extra += f", {nmr(p['held'])} NMR of past fees still held in escrow"
            line(
                f"  #{pid} {m.model.position(pid)[0].owner}: capital {nmr(p['capital'])} NMR, "
                f"high-water mark {nmr(p['mark'])}{extra}"
            )

    def settle(index):
        growth = EXAMPLE_GROWTH[index]
        lockup = m.model.agreements[index].terms.base.lockup_rounds
        step(
            f"Agreement {index}'s {lockup} rounds resolve: the model's index moves x{nmr(growth)}; "
            f"the oracle posts and finalizes them, and anyone may mature the agreement"
        )
        post_lockup(signed, s, index, growth, lockup)
        chain.mine()
        first_block = web3.eth.block_number + 1
        checked(m.mature(index), f"mature {index}")
        a = s.agreement(index)
        gain = a["finalValue"] >= a["staked"]
        line(
            f"staked S = {nmr(a['staked'])} NMR is now worth V = {nmr(a['finalValue'])} NMR "
            f"({'a gain' if gain else 'a loss'}); price P_end = {nmr(a['priceEnd'])}"
        )
        if gain:
            line(
                f"the modeller owes {nmr(a['amountDue'])} NMR: V less the fees he keeps now "
                f"({nmr(a['finalValue'] - a['amountDue'])} NMR, 75% of the fee lower bound "
                f"{nmr(a['feeLowerBound'])}; the other 25% is repaid into escrow)"
            )
        else:
            line(
                f"the modeller owes {nmr(a['amountDue'])} NMR (all of V); the reserve covers up to "
                f"{nmr(a['coverBound'])} NMR of the backers' loss"
            )
        due = a["amountDue"] - a["repaid"]
        checked(m.repay(index), f"repay {index}")
        a = s.agreement(index)
        line(
            f"the modeller repays {nmr(due)} NMR; agreement {index} is settled: reserve used "
            f"{nmr(a['reserve'] - a['reserveReturned'])} NMR, returned {nmr(a['reserveReturned'])} NMR"
        )
        settled = {
            e["args"]["positionId"]: e["args"]
            for e in s.events.get_sequence(from_block=first_block, event_type="PositionSettled")
        }
        for pid in sorted(m.model.agreements[index].positions):
            o = settled.get(pid)
            if o is None:
                continue
            who = m.model.position(pid)[0].owner
            if gain:
                disc = s.positionOf(pid)["discount"]
                line(
                    f"  #{pid} {who}: profit fee {nmr(o['fee'])} NMR, of which {nmr(o['heldFee'])} held in "
                    f"escrow; claim {nmr(o['claimable'])} NMR; mark now {nmr(o['mark'])}"
                    + (f"; commitment discount so far {nmr(disc)} NMR" if disc else "")
                )
            else:
                loss = s.positionOf(pid)["capital"] - (o["claimable"] - o["clawback"] - o["cover"])
                line(
                    f"  #{pid} {who}: loss {nmr(loss)} NMR, covered first by clawing back the position's held fees "
                    f"({nmr(o['clawback'])} NMR), then by the reserve ({nmr(o['cover'])} NMR, half the rest); "
                    f"claim {nmr(o['claimable'])} NMR; mark stays {nmr(o['mark'])}"
                )
        line(
            f"series price is now {nmr(s.price())}; fees held in escrow {nmr(s.escrow())} NMR; owed to the "
            f"modeller, not yet collected (returned reserve, released fees) {nmr(s.modellerCredit())} NMR"
        )

    def lock(index):
        step(f"Agreement {index} locks")
        a = m.model.agreements[index]
        reserve = a.terms.base.required_reserve(a.capital) - a.reserve
        if reserve > 0:
            checked(m.post_reserve(reserve, index), f"reserve {index}")
            line(f"the modeller posts a reserve of {nmr(reserve)} NMR (50% of the capital)")
        checked(m.lock(), f"lock {index}")
        show_lock(index)

    # ---- agreement 0
    step(
        "The modeller opens agreement 0: 100 NMR units, 20% profit share (15% for backers committing to "
        "3 agreements), 50% burn share, reserve 50% of the capital, 12-round lockup; 25% of each fee is held "
        "in escrow for 2 agreements to claw back later losses"
    )
    checked(m.open(terms()), "open 0")
    alice = checked(m.deposit("alice", 10, commit=3), "alice deposits")
    line(f"Alice deposits 10 units (1000 NMR), committing to 3 agreements (#{alice})")
    bob = checked(m.deposit("bob", 5), "bob deposits")
    line(f"Bob deposits 5 units (500 NMR), no commitment (#{bob})")
    erin = checked(m.deposit("erin", 2, commit=3), "erin deposits")
    line(f"Erin deposits 2 units (200 NMR), committing to 3 agreements (#{erin})")
    lock(0)

    # ---- agreement 1 opens during 0's lockup; Bob consents to roll 60 NMR
    step("The modeller opens agreement 1 with the same terms while agreement 0 is locked")
    checked(m.open(terms()), "open 1")
    checked(m.roll(bob, "bob", amount=60 * ONE, consent_terms=True), "bob consents")
    line("Bob consents (to these exact terms) to roll 60 NMR of his coming claim into agreement 1")
    settle(0)
    step("After settlement the modeller executes the consented rolls; Bob and Erin claim")
    a1_alice = checked(m.execute_roll(alice), "roll alice")
    line(
        f"Alice's commitment rolls her whole claim into agreement 1 (#{a1_alice}, "
        f"{nmr(s.positionOf(a1_alice)['capital'])} NMR)"
    )
    a1_bob = checked(m.execute_roll(bob), "roll bob")
    line(f"Bob's 60 NMR rolls into agreement 1 (#{a1_bob})")
    out = checked(m.claim(bob), "claim bob")
    line(f"Bob claims the rest of his position: {nmr(out)} NMR")
    out = checked(m.claim(erin), "claim erin")
    charge = s.positionOf(erin)["chargedBack"]
    line(
        f"Erin leaves although committed through agreement 2: the discount her commitment earned, "
        f"{nmr(charge)} NMR, is charged back to the modeller; she receives {nmr(out)} NMR"
    )
    lock(1)

    # ---- agreement 2 opens during 1's lockup; Carol enters late
    step("The modeller opens agreement 2 while agreement 1 is locked")
    checked(m.open(terms()), "open 2")
    carol = checked(m.deposit("carol", 10), "carol deposits")
    line(f"Carol, a late entrant, deposits 10 units (1000 NMR) (#{carol})")
    settle(1)
    step("Alice's commitment rolls again; Bob rolls his whole claim")
    a2_alice = checked(m.execute_roll(a1_alice), "roll alice")
    line(
        f"Alice -> #{a2_alice}: {nmr(s.positionOf(a2_alice)['capital'])} NMR at mark "
        f"{nmr(s.positionOf(a2_alice)['mark'])} (underwater: below her mark, she pays no fee until it is regained)"
    )
    a2_bob = checked(m.roll(a1_bob, "bob"), "roll bob")
    line(f"Bob -> #{a2_bob}: {nmr(s.positionOf(a2_bob)['capital'])} NMR")
    lock(2)
    line(
        "Carol entered under water: she pays fees on any gain above 1.05, while Alice and Bob (mark 1.2) "
        "recover fee-free up to 1.2"
    )
    step("Mid-lockup Carol sells half her position (500 NMR of capital) to Dave")
    checked(m.accept_transfers("dave", "carol"), "dave accepts")
    dave = checked(m.transfer(carol, "carol", "dave", 500 * ONE), "transfer to dave")
    q = s.positionOf(dave)
    line(
        f"Dave's position #{dave}: {nmr(q['capital'])} NMR at Carol's mark {nmr(q['mark'])} "
        f"(what Dave paid Carol is between them, off chain)"
    )

    # ---- agreement 3
    step("The modeller opens agreement 3 while agreement 2 is locked")
    checked(m.open(terms()), "open 3")
    settle(2)
    step(
        "Everyone rolls whole claims into agreement 3 (Alice's commitment is fulfilled: her discount can no "
        "longer be charged back, and she rolls at the base tier)"
    )
    nxt = {}
    for pid, who in ((a2_alice, "alice"), (a2_bob, "bob"), (carol, "carol"), (dave, "dave")):
        nxt[who] = checked(m.roll(pid, who), f"roll {who}")
        line(f"{who} -> #{nxt[who]}: {nmr(s.positionOf(nxt[who])['capital'])} NMR")
    lock(3)
    settle(3)
    step("Everyone claims; the modeller collects his credit")
    for who, pid in nxt.items():
        done["claims"][who] = checked(m.claim(pid), f"claim {who}")
        line(f"{who} claims {nmr(done['claims'][who])} NMR")
    credit = s.modellerCredit()
    s.collect({"from": modeller}, silent=True)
    m.check()
    done["checks"] += 1
    line(f"the modeller collects {nmr(credit)} NMR (returned reserves, released held fees, rounding dust)")
    line(f"everyone now shares the mark {nmr(s.price())}")
    if m.token.balanceOf(s) != 0:
        raise AssertionError(f"the series still holds {m.token.balanceOf(s)} wei")
    line("the series contract now holds 0 NMR")
    return done


def settlement_rows(mirror: SeriesMirror) -> list[tuple[str, int, int, int, int]]:
    """(party, put in, took out, net, the model's net) per party, from the chain's token flows."""
    flows = mirror.flows()
    rows = []
    for name in EXAMPLE_PARTIES:
        net = flows.get(name, 0)
        put_in = mirror.minted.get(name, 0)
        rows.append((name, put_in, net + put_in, net, mirror.model.transfers.get(name, 0)))
    return rows
