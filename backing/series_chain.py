"""Drive a BackingSeries on chain next to the reference model (``backing.series``) and compare them to the wei.

``deploy_series_factory`` deploys the SeriesTerms library, the BackingSeries implementation and the SeriesFactory
(the implementation must know the factory's address, which is predicted from the deployer's nonce).
``SeriesMirror`` performs every action on both the model and the chain: the same error when one refuses, the same
amounts when both accept; ``check()`` compares every agreement, position and token flow. The contract settles a
position lazily (when it is next touched); the model eagerly. After the model's eager steps (settlement, lock,
default, cancel) the mirror ``poke``s the positions the model touched, so their books match at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backing.reference import ContractError, Phase
from backing.series import Series, SeriesTerms

ALL = 2**256 - 1


def deploy_series_factory(deployer, token, oracle, silent: bool = True):
    """SeriesTerms, a BackingSeries implementation bound to the factory's future address, then the factory."""
    from brownie import BackingSeries, SeriesFactory, SeriesTerms as SeriesTermsLibrary

    if not len(SeriesTermsLibrary):
        SeriesTermsLibrary.deploy({"from": deployer}, silent=silent)
    factory_address = deployer.get_deployment_address(deployer.nonce + 1)
    implementation = BackingSeries.deploy(token, oracle, factory_address, {"from": deployer}, silent=silent)
    factory = SeriesFactory.deploy(token, oracle, implementation, {"from": deployer}, silent=silent)
    assert factory.address == factory_address, "the factory was not deployed where the implementation expects"
    return factory


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
    return (terms.base.as_tuple(), terms.base.ladder_tuples(), terms.clawback_bps, terms.clawback_agreements,
            [(c.agreements, c.profit_share_bps) for c in terms.commitments])


def _error_name(exc) -> str:
    """The custom error's name from a brownie VirtualMachineError ("Name: args" or "Name: ")."""
    message = getattr(exc, "revert_msg", None) or str(exc)
    return message.split(":")[0].strip()


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
                assert _error_name(exc) == e.name, f"model refused with {e.name}, chain with {exc}"
                return e
            raise AssertionError(f"model refused with {e.name} {e.args}, the chain accepted")
        tx = chain_call()
        return result, tx

    def _fund(self, name, amount):
        from backing.chain import set_allowance

        account = self._acct(name)
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
        return self._both(lambda: self.model.open_agreement("modeller", terms, self.now()),
                          lambda: self.series.openAgreement(*terms_args(terms), {"from": self._acct("modeller")},
                                                            silent=True))

    def post_reserve(self, amount: int, index: int | None = None):
        index = len(self.model.agreements) - 1 if index is None else index
        self._fund("modeller", amount)
        return self._both(lambda: self.model.post_reserve("modeller", amount, index),
                          lambda: self.series.postReserve(index, amount, {"from": self._acct("modeller")},
                                                          silent=True))

    def deposit(self, name: str, units: int, commit: int | None = None):
        unit = self.model.agreements[-1].terms.base.unit_size if self.model.agreements else 0
        self._fund(name, units * unit)
        return self._both(lambda: self.model.deposit(name, units, self.now(), commit=commit),
                          lambda: self.series.deposit(units, commit or 0, {"from": self._acct(name)}, silent=True))

    def withdraw(self, name: str, units: int, commit: int | None = None):
        return self._both(lambda: self.model.withdraw(name, units, commit=commit),
                          lambda: self.series.withdraw(units, commit or 0, {"from": self._acct(name)}, silent=True))

    def lock(self):
        out = self._both(lambda: self.model.lock("modeller", self.now()),
                         lambda: self.series.lock({"from": self._acct("modeller")}, silent=True))
        if not isinstance(out, ContractError):
            index = len(self.model.agreements) - 1
            self._poke_all(index - 1)
        return out

    def cancel(self, caller: str = "modeller"):
        out = self._both(lambda: self.model.cancel(caller, self.now()),
                         lambda: self.series.cancel({"from": self._acct(caller)}, silent=True))
        if not isinstance(out, ContractError):
            self._poke_all(len(self.model.agreements) - 1)
        return out

    def mature(self, index: int):
        """Mature agreement `index` with the indices the oracle gives the chain."""
        from brownie import interface  # noqa: F401

        a = self.series.agreement(index)
        oracle = self._oracle()
        rounds = self.model.agreements[index].terms.base.lockup_rounds
        start, end = a["startRound"], a["startRound"] + rounds - 1
        si, ei, last, complete = oracle.settlementIndices(self.series.modelId(), start, end)
        out = self._both(lambda: self.model.mature(self.now(), si, ei),
                         lambda: self.series.mature(index, {"from": self._acct("modeller")}, silent=True))
        if not isinstance(out, ContractError):
            self._poke_all(index)
        return out

    def _oracle(self):
        from brownie import ScoreOracle

        return ScoreOracle.at(self.series.oracle())

    def repay(self, index: int, amount: int | None = None, payer: str = "modeller"):
        a = self.model.agreements[index]
        amount = a.due - a.repaid if amount is None else amount
        self._fund(payer, amount)
        out = self._both(lambda: self.model.repay(payer, amount),
                         lambda: self.series.repay(index, amount, {"from": self._acct(payer)}, silent=True))
        if not isinstance(out, ContractError):
            self._poke_all(index)
        return out

    def declare_default(self, index: int, caller: str = "modeller"):
        out = self._both(lambda: self.model.declare_default(self.now()),
                         lambda: self.series.declareDefault(index, {"from": self._acct(caller)}, silent=True))
        if not isinstance(out, ContractError):
            self._poke_all(index, index + 1)
        return out

    def roll(self, pid: int, name: str, amount: int | None = None, commit: int | None = None,
             consent_terms: bool = False):
        p, a = self.model.position(pid) if self._known(pid) else (None, None)
        terms_hash = b"\x00" * 32
        terms = None
        if consent_terms and a is not None and a.index + 1 < len(self.model.agreements):
            terms = self.model.agreements[a.index + 1].terms
            terms_hash = self.series.agreement(a.index + 1)["termsHash"]
        return self._both(lambda: self.model.roll(pid, name, amount=amount, commit=commit, terms=terms),
                          lambda: self.series.roll(pid, ALL if amount is None else amount, commit or 0, terms_hash,
                                                   {"from": self._acct(name)}, silent=True))

    def execute_roll(self, pid: int, caller: str = "modeller"):
        return self._both(lambda: self.model.execute_roll(pid),
                          lambda: self.series.executeRoll(pid, {"from": self._acct(caller)}, silent=True))

    def claim(self, pid: int, caller: str = "modeller"):
        return self._both(lambda: self.model.claim(pid),
                          lambda: self.series.claim(pid, {"from": self._acct(caller)}, silent=True))

    def transfer(self, pid: int, name: str, to: str, amount: int):
        target = self.staking if to == "staking" else (self.series.address if to == "series" else self._acct(to))
        return self._both(lambda: self.model.transfer(pid, name, to, amount),
                          lambda: self.series.transfer(pid, target, amount, {"from": self._acct(name)},
                                                       silent=True))

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
        from backing.chain import token_flows

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
                assert (v["capital"], v["upfrontFee"], v["staked"]) == (a.locked.capital, a.locked.upfront_fee,
                                                                        a.locked.staked), a.index
                assert v["priceStart"] == a.p_start
            if a.phase in (Phase.Matured, Phase.Settled, Phase.Defaulted):
                assert (v["finalValue"], v["priceEnd"], v["amountDue"], v["owedTotal"], v["coverBound"],
                        v["feeLowerBound"]) == (a.value, a.p_end, a.due, a.owed_total, a.cover_bound,
                                                a.fee_lower_bound), (a.index, v)
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


def post_lockup(signed, series, index: int, growth: int, lockup_rounds: int) -> None:
    """Post (and finalize) agreement `index`'s rounds so that its index moves by `growth` (1e18 = x1): the first
    round of the lockup returns growth - 1, the others 0 (rounds before the lockup: 0)."""
    from backing.reference import ONE

    start = series.agreement(index)["startRound"]
    model_id = series.modelId()
    end = start + lockup_rounds - 1
    last = signed.oracle.lastPostedRound(model_id)
    returns = [growth - ONE if r == start else 0 for r in range(last + 1, end + 1)]
    signed.post_returns(model_id, returns)
