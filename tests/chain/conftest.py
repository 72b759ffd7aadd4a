"""Shared fixtures for the on-chain tests.

Every test that uses ``agreement``/``make_agreement`` runs four times: against the quirk-faithful NMR mock and a
plain OpenZeppelin ERC-20, each through a clone and through a direct deployment (yearn-vaults style).
"""

import pytest
from brownie import (
    BackingAgreement,
    MockNMR,
    PlainToken,
    accounts,
    chain,
    web3,
)
from brownie.network.rpc import anvil as _anvil_backend

from backing.model.agreement import ONE, FeeTier, Terms
from backing.onchain.factories import deploy_factories
from backing.onchain.oracle import SignedOracle, deploy_oracle, signer_keys
from backing.onchain.series import create_series, deploy_series_factory
from support.chain import (  # noqa: F401  (re-exported for the fixtures below)
    DAY,
    DISPUTE_QUORUM,
    MAX_CLIP,
    MAX_MULTIPLIER,
    MIN_ROUND_SPACING,
    MODEL_ID,
    NMR,
    ORACLE_PARAMS,
    QUORUM,
    expect_event,
    reverts_with,
    set_allowance,
)


def _anvil_mine(timestamp=None):
    """brownie 1.22's anvil backend sends ``chain.mine(timestamp=t)`` as ``evm_mine`` with a bare number for its
    params, which anvil rejects ("Invalid request"). Mine at `t` as brownie does on ganache 7: the block at `t`,
    then the clock at t + 1, so a transaction sent at once lands one second later on either node."""
    if timestamp is None:
        _anvil_backend._request("evm_mine", [])
    else:
        # anvil refuses a block older than the last one (ganache takes it): the chain may have passed `t` already
        timestamp = max(timestamp, web3.eth.get_block("latest").timestamp)
        _anvil_backend._request("evm_mine", [timestamp])
        _anvil_backend._request("evm_setTime", [timestamp + 1])


_anvil_backend.mine = _anvil_mine


@pytest.fixture
def state_machine():
    """brownie's ``state_machine``, from its pure-Python source.

    brownie 1.22 ships ``brownie.test.stateful`` compiled with mypyc, and the compiled ``_BrownieStateMachine``
    refuses the subclass its own ``state_machine`` generates ("_BrownieStateMachine object expected; got
    BrownieStateMachine"). The .py source next to it behaves as documented, so load that instead."""
    import importlib.util
    import pathlib

    import brownie.test

    source = pathlib.Path(brownie.test.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("brownie_stateful_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="session")
def deployer():
    return accounts[0]


@pytest.fixture(scope="session")
def modeller():
    return accounts[1]


@pytest.fixture(scope="session")
def backers():
    return accounts[2:6]


@pytest.fixture(scope="session")
def alice(backers):
    return backers[0]


@pytest.fixture(scope="session")
def bob(backers):
    return backers[1]


@pytest.fixture(scope="session")
def carol(backers):
    return backers[2]


@pytest.fixture(scope="session")
def reporter():
    return accounts[6]


@pytest.fixture(scope="session")
def staking():
    """The modeller's Numerai staking wallet: receives the staked capital at lock."""
    return accounts[7]


@pytest.fixture(scope="session")
def outsider():
    return accounts[8]


@pytest.fixture(scope="module", params=["nmr", "plain"])
def token_kind(request):
    return request.param


@pytest.fixture(scope="module")
def token(token_kind, deployer):
    return (MockNMR if token_kind == "nmr" else PlainToken).deploy({"from": deployer})


@pytest.fixture(scope="session")
def signers():
    """The oracle's three signer keys (k = 2, dispute quorum 3); they only sign, `reporter` relays."""
    return signer_keys(3)


@pytest.fixture(scope="module")
def oracle(deployer, nmr_token, signers):
    """A ScoreOracle whose dispute bonds are paid in ``nmr_token``."""
    return deploy_oracle(deployer, nmr_token, signers, QUORUM, DISPUTE_QUORUM, ORACLE_PARAMS)


@pytest.fixture(scope="module")
def signed(oracle, signers, reporter):
    """The oracle with its signers' keys: ``signed.post_returns(model, [...])`` and friends."""
    return SignedOracle(oracle, signers, reporter)


@pytest.fixture(scope="module")
def factory(token, oracle, deployer):
    """An AgreementFactory (with its ModellerRecord) on `token` and `oracle`."""
    return deploy_factories(deployer, token, oracle, series=False).agreements


@pytest.fixture(scope="module")
def series_factory(token, oracle, deployer):
    """The series factory (SeriesTerms, a BackingSeries implementation, SeriesFactory) on `token` and `oracle`."""
    return deploy_series_factory(deployer, token, oracle)


@pytest.fixture
def series(series_factory, model_id, modeller, deployment):
    """A series on the registered model: a clone or a full deployment, per the ``deployment`` parameter."""
    return create_series(series_factory, model_id, modeller, clone=deployment == "clone")


@pytest.fixture(scope="module")
def model_id(signed, modeller):
    """A registered model whose round 1 is announced, so agreements locking now start at round 2."""
    signed.register(MODEL_ID, modeller, ONE, 1)
    signed.announce(1, [chain.time() + 3600])
    return MODEL_ID


@pytest.fixture(scope="module", params=["clone", "direct"])
def deployment(request):
    return request.param


def default_terms(staking_address, **overrides) -> Terms:
    """The seed proposal's deal: 100 NMR units, 50% profit share, 50% burn share, reserve 50% of stake."""
    values = dict(
        model_id=bytes.fromhex(MODEL_ID[2:]),
        unit_size=100 * NMR,
        min_units=1,
        max_units=100,
        profit_share_bps=5000,
        burn_share_bps=5000,
        reserve_ratio_bps=5000,
        upfront_fee_bps=0,
        lockup_rounds=8,
        open_until=chain.time() + 7 * DAY,
        wind_down=7 * DAY,
        staking_address=str(staking_address),
        fee_ladder=(),
    )
    values.update(overrides)
    if values["fee_ladder"] and not isinstance(values["fee_ladder"][0], FeeTier):
        values["fee_ladder"] = tuple(FeeTier(*t) for t in values["fee_ladder"])
    return Terms(**values)


@pytest.fixture
def terms_for(staking):
    def make(**overrides) -> Terms:
        return default_terms(staking, **overrides)

    return make


@pytest.fixture
def make_agreement(factory, model_id, modeller, deployment, terms_for):
    """Create an agreement through the factory (clone or direct, per the ``deployment`` parameter)."""

    def make(terms: Terms | None = None, sender=None, **overrides):
        terms = terms or terms_for(**overrides)
        create = factory.createAgreement if deployment == "clone" else factory.createAgreementDirect
        tx = create(terms.as_tuple(), terms.ladder_tuples(), {"from": sender or modeller})
        return BackingAgreement.at(tx.events["AgreementCreated"]["agreement"]), terms

    return make


@pytest.fixture
def agreement(make_agreement):
    return make_agreement()[0]


@pytest.fixture
def fund(token):
    """Mint `amount` to `account` and approve `spender` for it."""

    def do(account, amount, spender=None):
        token.mintTo(account, amount, {"from": account})
        if spender is not None:
            set_allowance(token, account, spender, token.allowance(account, spender) + amount)

    return do


@pytest.fixture
def post_returns(signed):
    """Post the model's next rounds with the given returns (1e18 = +100%); None posts a missed round.

    Each round is reported as one score equal to the return with multiplier 1 and payout factor 1, so the
    contract's round return is exactly the value given. Rounds are announced first when needed; the reports are
    signed by a quorum, posted in one batch, and finalized after the challenge window."""

    def post(model_id, returns):
        return signed.post_returns(model_id, returns)

    return post


@pytest.fixture(scope="session")
def burn_sink():
    """Where simulated Numerai burns send NMR."""
    return accounts[9]


@pytest.fixture
def numerai_settles(token, staking, burn_sink):
    """Make the staking wallet hold `value`, as Numerai's payouts (minted) or burns (sent away) would."""

    def settle(value):
        held = token.balanceOf(staking)
        if value > held:
            token.mintTo(staking, value - held, {"from": staking})
        elif value < held:
            token.transfer(burn_sink, held - value, {"from": staking})

    return settle


@pytest.fixture
def repay_due(token, modeller, staking):
    """The modeller repays the whole amount due out of his staking wallet."""

    def repay(agreement, amount=None):
        amount = agreement.amountDue() - agreement.repaid() if amount is None else amount
        token.transfer(modeller, amount, {"from": staking})
        set_allowance(token, modeller, agreement, amount)
        return agreement.repay(amount, {"from": modeller})

    return repay


@pytest.fixture
def run_to_maturity(token, modeller, fund, post_returns, model_id, oracle):
    """Reserve, deposits, lock, post the lockup's returns, mature. Returns the lock and mature receipts."""

    def run(agreement, terms: Terms, deposits: dict, reserve: int, returns):
        if reserve:
            fund(modeller, reserve, agreement)
            agreement.postReserve(reserve, {"from": modeller})
        for backer, units in deposits.items():
            fund(backer, units * terms.unit_size, agreement)
            agreement.deposit(units, {"from": backer})
        lock_tx = agreement.lock({"from": modeller})
        start = agreement.startRound()
        _, _, _, last = oracle.modelInfo(model_id)
        # rounds before the start (already announced, not yet posted) count nothing for this agreement
        filler = [0] * (start - 1 - last)
        post_returns(model_id, filler + list(returns))
        mature_tx = agreement.mature({"from": modeller})
        return lock_tx, mature_tx

    return run


@pytest.fixture(scope="module")
def nmr_token(deployer):  # defined before ``oracle``, which takes its dispute bonds in it
    """A MockNMR of its own, not parametrized: for tests whose subject does not depend on the token, run once."""
    return MockNMR.deploy({"from": deployer})


@pytest.fixture(scope="module")
def nmr_factory(nmr_token, oracle):
    return deploy_factories(accounts[0], nmr_token, oracle, series=False).agreements


@pytest.fixture
def make_nmr_agreement(nmr_factory, model_id, modeller, terms_for):
    """Like ``make_agreement``, but a clone on ``nmr_token`` only: one run instead of four."""

    def make(terms: Terms | None = None, sender=None, **overrides):
        terms = terms or terms_for(**overrides)
        tx = nmr_factory.createAgreement(terms.as_tuple(), terms.ladder_tuples(), {"from": sender or modeller})
        return BackingAgreement.at(tx.events["AgreementCreated"]["agreement"]), terms

    return make


@pytest.fixture
def fund_nmr(nmr_token):
    """``fund`` for ``nmr_token``."""

    def do(account, amount, spender=None):
        nmr_token.mintTo(account, amount, {"from": account})
        if spender is not None:
            set_allowance(nmr_token, account, spender, nmr_token.allowance(account, spender) + amount)

    return do


@pytest.fixture(scope="module")
def agreement_in_phase(nmr_token, nmr_factory, oracle, signed, model_id, modeller, staking, alice):
    """One clone agreement on ``nmr_token`` in each phase, keyed by phase name, built once per module so a
    WrongPhase check costs one call. Each holds alice's single 100-NMR unit and a 50 NMR reserve; the lockup is
    one round returning -10% (V = 90 NMR, so Matured owes something); "Settled" was repaid in full, "Defaulted"
    was declared after its one-hour wind-down (``nmr_factory`` counts one default for the modeller from then on),
    "Cancelled" was cancelled by the modeller. Nobody has claimed anywhere."""
    token = nmr_token
    terms = default_terms(staking, lockup_rounds=1, wind_down=3600)
    names = ["Open", "Locked", "Matured", "Settled", "Defaulted", "Cancelled"]
    token.mintTo(modeller, 6 * 50 * NMR + 90 * NMR, {"from": modeller})
    token.mintTo(alice, 6 * 100 * NMR, {"from": alice})
    built = {}
    for name in names:
        tx = nmr_factory.createAgreement(terms.as_tuple(), [], {"from": modeller})
        agreement = BackingAgreement.at(tx.events["AgreementCreated"]["agreement"])
        set_allowance(token, modeller, agreement, 50 * NMR)
        agreement.postReserve(50 * NMR, {"from": modeller})
        set_allowance(token, alice, agreement, 100 * NMR)
        agreement.deposit(1, {"from": alice})
        built[name] = agreement
    built["Cancelled"].cancel({"from": modeller})
    for name in ("Locked", "Matured", "Settled", "Defaulted"):
        built[name].lock({"from": modeller})
    start = built["Locked"].startRound()
    _, _, _, last = oracle.modelInfo(model_id)
    signed.post_returns(model_id, [0] * (start - 1 - last) + [-ONE // 10])
    for name in ("Matured", "Settled", "Defaulted"):
        built[name].mature({"from": modeller})
    set_allowance(token, modeller, built["Settled"], 90 * NMR)
    built["Settled"].repay(90 * NMR, {"from": modeller})
    chain.sleep(3601)
    built["Defaulted"].declareDefault({"from": modeller})
    for index, name in enumerate(names):
        assert built[name].phase() == index
    return built


@pytest.fixture
def mirror(oracle, model_id, modeller, post_returns):
    """``mirror(agreement, terms, token, fund)`` drives an agreement and a ``reference.Agreement`` through the same
    actions and checks, after every step that moves NMR, that the chain moved exactly what the reference did
    (``donated`` counts NMR sent to the agreement outside its functions, which the reference does not know)."""
    from backing.model.agreement import Agreement as Reference
    from backing.model.agreement import final_value, next_index

    class Mirror:
        def __init__(self, agreement, terms, token, fund):
            self.agreement, self.terms, self.token, self.fund = agreement, terms, token, fund
            self.ref = Reference(terms, str(modeller))
            self.donated = 0

        def check_balance(self):
            assert self.token.balanceOf(self.agreement) == self.ref.balance + self.donated

        def donate(self, amount, sender):
            self.token.mintTo(sender, amount, {"from": sender})
            self.token.transfer(self.agreement, amount, {"from": sender})
            self.donated += amount

        def reserve(self, amount):
            self.fund(modeller, amount, self.agreement)
            tx = self.agreement.postReserve(amount, {"from": modeller})
            self.ref.post_reserve(str(modeller), amount)
            self.check_balance()
            return tx

        def deposit(self, backer, units):
            self.fund(backer, units * self.terms.unit_size, self.agreement)
            tx = self.agreement.deposit(units, {"from": backer})
            self.ref.deposit(str(backer), units, tx.timestamp)
            self.check_balance()
            return tx

        def setup(self, deposits: dict, reserve: int = 0):
            if reserve:
                self.reserve(reserve)
            for backer, units in deposits.items():
                self.deposit(backer, units)

        def lock(self):
            before = self.token.balanceOf(modeller)
            tx = self.agreement.lock({"from": modeller})
            amounts = self.ref.lock(str(modeller), tx.timestamp, self.agreement.startRound())
            assert self.token.balanceOf(modeller) - before == amounts.upfront_fee
            self.check_balance()
            return tx

        @property
        def start(self):
            return self.agreement.startRound()

        @property
        def end(self):
            return self.start + self.terms.lockup_rounds - 1

        def post(self, returns):
            """Post filler rounds up to the start, then `returns` (None: missed); check the oracle's indices."""
            _, _, _, last = oracle.modelInfo(model_id)
            filler = max(0, self.start - 1 - last)
            post_returns(model_id, [0] * filler + list(returns))
            first = max(self.start - 1, last)
            index = oracle.indexAt(model_id, first)
            for offset, value in enumerate(returns):
                index = next_index(index, ONE, value or 0)
                assert oracle.indexAt(model_id, first + 1 + offset) == index

        def mature(self, caller=None):
            start_index = oracle.indexAt(model_id, self.start - 1)
            end_index = oracle.indexAt(model_id, self.end)
            before = self.token.balanceOf(modeller)
            tx = self.agreement.mature({"from": caller or modeller})
            m = self.ref.mature(tx.timestamp, start_index, end_index)
            assert m.final_value == final_value(self.ref.locked.staked, start_index, end_index)
            assert self.agreement.finalValue() == m.final_value
            assert self.agreement.amountDue() == m.amount_due
            assert self.agreement.owedTotal() == m.owed_total
            assert self.agreement.coverBound() == m.cover_bound
            assert self.agreement.deadline() == self.ref.deadline == tx.timestamp + self.terms.wind_down
            assert self.agreement.phase() == self.ref.phase
            assert self.token.balanceOf(modeller) - before == (self.ref.reserve_returned if self.ref.phase == 3 else 0)
            self.check_balance()
            return tx

        def repay(self, payer, amount):
            self.fund(payer, amount, self.agreement)
            before = self.token.balanceOf(modeller)
            tx = self.agreement.repay(amount, {"from": payer})
            self.ref.repay(str(payer), amount)
            assert self.agreement.repaid() == self.ref.repaid
            assert self.agreement.phase() == self.ref.phase
            received = self.ref.reserve_returned if self.ref.phase == 3 else 0
            assert self.token.balanceOf(modeller) - before == received - (amount if payer == modeller else 0)
            self.check_balance()
            return tx

        def cancel(self, caller):
            before = self.token.balanceOf(modeller)
            tx = self.agreement.cancel({"from": caller})
            self.ref.cancel(str(caller), tx.timestamp)
            assert self.token.balanceOf(modeller) - before == self.ref.reserve_returned
            return tx

        def declare_default(self, caller):
            before = self.token.balanceOf(modeller)
            tx = self.agreement.declareDefault({"from": caller})
            self.ref.declare_default(tx.timestamp)
            assert self.agreement.defaultPool() == self.ref.default_pool
            assert self.agreement.reserveReturned() == self.ref.reserve_returned
            assert self.token.balanceOf(modeller) - before == self.ref.reserve_returned
            self.check_balance()
            return tx

        def claim(self, backer, caller=None):
            expected = self.ref.payout(str(backer))
            assert self.agreement.claimable(backer) == expected
            last = self.ref.claims_remaining == 1
            before, modeller_before = self.token.balanceOf(backer), self.token.balanceOf(modeller)
            dust = self.ref.balance - expected
            tx = self.agreement.claim(backer, {"from": caller or backer})
            assert self.ref.claim(str(backer)) == expected
            assert tx.events["Claimed"][0]["backer"] == backer
            assert tx.events["Claimed"][0]["amount"] == expected
            assert self.token.balanceOf(backer) - before == expected
            assert self.agreement.claimable(backer) == 0
            if last:
                swept = dust + self.donated
                assert ("DustSwept" in tx.events) == (swept > 0)
                if swept:
                    assert tx.events["DustSwept"][0]["amount"] == swept
                    assert tx.events["DustSwept"][0]["to"] == modeller
                assert self.token.balanceOf(modeller) - modeller_before == swept
                self.donated = 0
                assert self.token.balanceOf(self.agreement) == 0
            else:
                assert "DustSwept" not in tx.events
                self.check_balance()
            return tx

    return Mirror
