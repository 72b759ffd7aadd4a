"""Stateful test: random sequences of every user action, on chain and on the reference model side by side.

Each rule first applies the action to ``backing.model.agreement.Agreement``. When the model raises, the chain must
revert with the same custom error; otherwise the chain call must succeed and move the same NMR. Invariants
then compare the whole chain state with the model after every step:

- the agreement's NMR balance equals the model's, and covers everything it still owes;
- NMR is conserved: every party's balance is its start balance plus what the model says it received or paid
  (plus what the test minted to it, standing in for Numerai payouts);
- no backer receives more than owed_b; no double claim;
- the modeller never loses more than his reserve plus what he repaid;
- phases only move forward.
"""

from brownie import chain
from brownie.test import strategy

from backing.model.agreement import ONE, Agreement, ContractError, Phase, index_path, lock_amounts
from support import fuzz
from support.chain import MIN_ROUND_SPACING, reverts_with, set_allowance
from support.reads import read_many

DAY = 86400
# phases reachable from each phase (one step may cross several, e.g. maturing straight into Settled)
NEXT_PHASES = {
    Phase.Open: set(Phase),
    Phase.Locked: {Phase.Locked, Phase.Matured, Phase.Settled, Phase.Defaulted},
    Phase.Matured: {Phase.Matured, Phase.Settled, Phase.Defaulted},
    Phase.Settled: {Phase.Settled},
    Phase.Defaulted: {Phase.Defaulted},
    Phase.Cancelled: {Phase.Cancelled},
}
PHASES_REACHED = []  # the phase each run ended in: shows the machine explores past Open


class AgreementMachine:
    st_backer = strategy("uint", max_value=3)
    st_units = strategy("uint", max_value=9)
    st_bps = strategy("uint", max_value=10_500)
    st_return = strategy("int", min_value=-(ONE * 3) // 10, max_value=(ONE * 3) // 10)
    st_missed = strategy("bool")
    st_sleep = strategy("uint", min_value=1, max_value=6 * DAY)
    st_flag = strategy("bool")

    def __init__(cls, token, oracle, agreement, terms, signed, modeller, staking, backers, outsider, model_id):
        cls.token = token
        cls.oracle = oracle
        cls.agreement = agreement
        cls.terms = terms
        cls.signed = signed
        cls.modeller = modeller
        cls.staking = staking
        cls.backers = list(backers)
        cls.outsider = outsider
        cls.model_id = model_id
        for backer in cls.backers:
            token.mintTo(backer, 10_000 * terms.unit_size, {"from": backer})
            set_allowance(token, backer, agreement, 2**255)
        set_allowance(token, modeller, agreement, 2**255)
        cls.parties = cls.backers + [modeller, staking, agreement]
        cls.start_balances = {str(p): token.balanceOf(p) for p in cls.parties}
        cls.first_round = oracle.modelInfo(model_id)[2]

    def setup(self):
        fuzz.count("agreement", "runs")
        self.model = Agreement(self.terms, str(self.modeller))
        self.minted = {str(p): 0 for p in self.parties}
        self.returns = []  # posted round returns, from first_round on
        self.last_phase = Phase.Open
        self.claimed_amounts = {}
        self._steps, self._viewed = 0, -1  # the chain view of the invariants is read once per step

    # -------------------------------------------------------------------------------- helpers

    def _key(self, account):
        return "staking" if str(account) == str(self.staking) else str(account)

    def _near(self, boundary, margin=3):
        """Skip actions within a few seconds of a time boundary: the block time may differ by a second."""
        return abs(chain.time() - boundary) <= margin

    def _mint(self, account, amount):
        self.token.mintTo(account, amount, {"from": account})
        self.minted[str(account)] += amount

    def _indices(self):
        return index_path(ONE, self.returns)  # index after round first_round-1+i is at position i

    def _index_at(self, round_):
        return self._indices()[round_ - (self.first_round - 1)]

    def _ensure_fresh_schedule(self):
        """Keep round announcements current, as a live reporter would, so locks are not refused as stale."""
        close = self.oracle.currentRoundCloseTime()
        if chain.time() + 60 >= close + MIN_ROUND_SPACING:
            self.signed.announce(self.oracle.currentRound() + 1, [chain.time() + 3600])

    # -------------------------------------------------------------------------------- rules

    def initialize_positions(self, st_units, st_backer, st_flag, st_bps):
        """Start runs with deposits and a reserve near the requirement, and usually the lock, so that short runs
        (hypothesis starts with few steps) still reach maturity, repayment, default and claims."""
        self.rule_deposit(0, max(st_units, 2))
        self.rule_deposit(st_backer, st_units)
        staked = lock_amounts(self.terms, self.model.total_units).staked
        required = self.terms.required_reserve(staked)
        amount = required - 1 if st_flag else required  # sometimes one wei short: lock must refuse it
        if amount > 0:
            self._mint(self.modeller, amount)
            self.model.post_reserve(str(self.modeller), amount)
            self.agreement.postReserve(amount, {"from": self.modeller})
        if st_bps < 8000:
            self.rule_lock()
        if st_bps < 6000 and self.model.phase == Phase.Locked:
            while self.first_round - 1 + len(self.returns) < self.model.end_round:
                self.rule_post_rounds(st_bps * 10**14 - ONE // 4, False, 3)
            if st_bps < 4000:
                self.rule_mature()
            if st_bps < 2500 and st_units % 2 == 0:
                self.rule_repay(0, False)  # in full
            elif st_bps < 2500:
                self.rule_repay(4000 + st_bps, False)  # in part, then default
                self.rule_default(True)

    def rule_deposit(self, st_backer, st_units):
        backer = self.backers[st_backer]
        if self._near(self.terms.open_until):
            return
        try:
            self.model.deposit(str(backer), st_units, chain.time())
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.deposit(st_units, {"from": backer})
            return
        self.agreement.deposit(st_units, {"from": backer})

    def rule_withdraw(self, st_backer, st_units):
        backer = self.backers[st_backer]
        try:
            self.model.withdraw(str(backer), st_units)
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.withdraw(st_units, {"from": backer})
            return
        self.agreement.withdraw(st_units, {"from": backer})

    def rule_post_reserve(self, st_bps):
        amount = self.terms.unit_size * st_bps // 2_000
        self._mint(self.modeller, amount)
        try:
            self.model.post_reserve(str(self.modeller), amount)
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.postReserve(amount, {"from": self.modeller})
            return
        self.agreement.postReserve(amount, {"from": self.modeller})

    def rule_lock(self):
        if self._near(self.terms.open_until):
            return
        self._ensure_fresh_schedule()
        start = self.oracle.currentRound() + 1
        try:
            self.model.lock(str(self.modeller), chain.time(), start, self.first_round)
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.lock({"from": self.modeller})
            return
        self.agreement.lock({"from": self.modeller})
        assert self.agreement.startRound() == start

    def rule_cancel(self, st_flag, st_bps):
        caller = self.modeller if st_flag else self.outsider
        if st_bps > 800 or self._near(self.terms.open_until):
            return  # rare: a cancellation ends the run's interesting part
        try:
            self.model.cancel(str(caller), chain.time())
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.cancel({"from": caller})
            return
        self.agreement.cancel({"from": caller})

    def rule_post_rounds(self, st_return, st_missed, st_units):
        """Post one to four rounds (returns r, -r/2, r/3, ... ; the first one missed when st_missed)."""
        values = []
        for i in range(1 + st_units % 4):
            values.append(None if st_missed and i == 0 else st_return // (i + 1) * (-1 if i % 2 else 1))
        # signed by a quorum, posted as one batch, final after the challenge window
        self.signed.post_returns(self.model_id, values)
        self.returns.extend(v or 0 for v in values)

    def rule_oracle_stalls(self, st_flag):
        """The oracle posts nothing for over a month: once a round the lockup needs is overdue, anyone may
        mature with the missing rounds counted as zero return."""
        if st_flag and self.model.phase == Phase.Locked:
            chain.sleep(34 * DAY)
            chain.mine()

    def rule_mature(self):
        last_final = self.first_round - 1 + len(self.returns)
        overdue = False
        start_index = end_index = ONE  # the model raises before using them unless set below
        if self.model.phase == Phase.Locked:
            start, end = self.model.start_round, self.model.end_round
            if last_final < end:
                # the fallback waits for the lockup's last round to be overdue (issue 20, N-1)
                overdue_at = self.oracle.roundDueTime(end) + self.oracle.maxReportDelay()
                if self._near(overdue_at):
                    return
                overdue = chain.time() >= overdue_at
            counted = min(last_final, end)
            if counted >= start - 1:
                start_index, end_index = self._index_at(start - 1), self._index_at(counted)
        try:
            self.model.mature(chain.time(), start_index, end_index, last_final, overdue)
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.mature({"from": self.outsider})
            return
        tx = self.agreement.mature({"from": self.outsider})
        assert ("MaturedOnFallback" in tx.events) == (last_final < self.model.end_round)
        self.model.deadline = tx.timestamp + self.terms.wind_down  # the model took chain.time() before the block
        assert self.agreement.deadline() == self.model.deadline

    def rule_repay(self, st_bps, st_flag):
        outstanding = (self.model.matured.amount_due - self.model.repaid) if self.model.matured else 0
        if st_flag and st_bps % 4 == 0:
            amount = outstanding + 1  # one wei more than outstanding: must revert
        elif st_bps < 4000:
            amount = max(1, outstanding)  # the whole of it
        else:
            amount = max(1, outstanding * st_bps // 10_500)  # part of it
        self._mint(self.modeller, amount)  # stands in for NMR the modeller takes back from Numerai
        try:
            self.model.repay(str(self.modeller), amount)
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.repay(amount, {"from": self.modeller})
            return
        self.agreement.repay(amount, {"from": self.modeller})

    def rule_default(self, st_flag):
        if st_flag and self.model.phase == Phase.Matured and chain.time() <= self.model.deadline:
            chain.sleep(self.model.deadline - chain.time() + 10)  # wait out the wind-down first
            chain.mine()
        if self.model.phase == Phase.Matured and self._near(self.model.deadline):
            return
        try:
            self.model.declare_default(chain.time())
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.declareDefault({"from": self.outsider})
            return
        self.agreement.declareDefault({"from": self.outsider})

    def rule_claim(self, st_backer, st_flag):
        backer = self.backers[st_backer]
        caller = self.outsider if st_flag else backer
        try:
            expected = self.model.claim(str(backer))
        except ContractError as e:
            with reverts_with(e.name):
                self.agreement.claim(backer, {"from": caller})
            return
        tx = self.agreement.claim(backer, {"from": caller})
        assert tx.events["Claimed"]["amount"] == expected
        if self.model.phase != Phase.Cancelled:
            assert expected <= self.model.owed_to(str(backer))
        self.claimed_amounts[str(backer)] = expected

    def rule_sleep(self, st_sleep):
        # while Open, short naps only, so runs do not all drift past the deposit window
        chain.sleep(st_sleep // 40 if self.model.phase == Phase.Open else st_sleep)
        chain.mine()

    def teardown(self):
        PHASES_REACHED.append(self.model.phase.name)

    # -------------------------------------------------------------------------------- invariants

    def _chain(self):
        """What the invariants read, once per step and in one JSON-RPC batch (support.reads: one brownie call costs
        several round trips), all at the same block."""
        if self._viewed != self._steps:
            calls = [(self.token.balanceOf, (p,)) for p in self.parties]
            calls += [(self.agreement.phase, ()), (self.agreement.claimsRemaining, ())]
            *balances, phase, claims = read_many(calls)
            self._view = {"balances": dict(zip(map(str, self.parties), balances)), "phase": phase, "claims": claims}
            self._viewed = self._steps
        return self._view

    def invariant_balances_match_model(self):
        """NMR conserved and exact: each party holds its start balance plus the model's flows plus mints."""
        balances = self._chain()["balances"]
        for party in self.parties:
            key = str(party)
            flow = self.model.transfers.get(self._key(party), 0)
            if party == self.agreement:
                expected = self.start_balances[key] + self.model.balance
            else:
                expected = self.start_balances[key] + flow + self.minted[key]
            assert balances[key] == expected, key

    def invariant_balance_covers_obligations(self):
        model = self.model
        held = self._chain()["balances"][str(self.agreement)]
        if model.phase in (Phase.Open, Phase.Cancelled):
            owed = sum(u * self.terms.unit_size for b, u in model.units.items() if b not in model.claimed)
            owed += model.reserve if model.phase == Phase.Open else 0
        elif model.phase in (Phase.Locked, Phase.Matured):
            owed = model.reserve + model.repaid
        else:
            owed = sum(model.payout(b) for b, u in model.units.items() if u and b not in model.claimed)
        assert held >= owed

    def invariant_modeller_loss_bounded(self):
        modeller_net = self.model.transfers.get(str(self.modeller), 0)
        assert modeller_net >= -(self.model.reserve + self.model.repaid)

    def invariant_phase_moves_forward(self):
        phase = Phase(self._chain()["phase"])
        assert phase == self.model.phase
        assert phase in NEXT_PHASES[self.last_phase]
        self.last_phase = phase

    def invariant_claims(self):
        expected = self.model.claims_remaining if self.model.phase != Phase.Open else 0
        assert self._chain()["claims"] == expected

    def invariant_zz_counted(self):
        """Counts the step for `make fuzz`'s report (runs last: hypothesis orders invariants by name)."""
        fuzz.count("agreement", "steps")
        self._steps += 1
        fuzz.count(
            "agreement",
            "invariant_checks",
            sum(1 for name in dir(AgreementMachine) if name.startswith("invariant_")) - 1,
        )


def test_agreement_state_machine(
    state_machine, make_agreement, token, oracle, signed, modeller, staking, backers, outsider, model_id
):
    # a fee ladder and odd amounts, so rounding and tier changes are exercised
    agreement, terms = make_agreement(
        unit_size=100 * ONE + 7,
        min_units=2,
        max_units=30,
        profit_share_bps=3000,
        burn_share_bps=6000,
        reserve_ratio_bps=2000,
        upfront_fee_bps=150,
        lockup_rounds=3,
        wind_down=2 * DAY,
        fee_ladder=((5, 2000), (12, 1000)),
    )
    state_machine(
        AgreementMachine,
        token,
        oracle,
        agreement,
        terms,
        signed,
        modeller,
        staking,
        backers,
        outsider,
        model_id,
        settings=fuzz.budget(examples=10, steps=25),  # make test's short profile; make fuzz scales it
    )
    phases = {p: PHASES_REACHED.count(p) for p in set(PHASES_REACHED)}
    print("phases reached:", phases)
    fuzz.report("agreement", phases_reached=phases)  # cumulative over the variants: the last line counts
