"""Who reports the rounds of a simulation to the score oracle: the simulator's own signer keys
(``SignedReporter``) or the oracle service in-process against a fake Numerai (``ServiceReporter``)."""

from __future__ import annotations

from decimal import Decimal

from backing.simulate.scenario import MODEL_BYTES, MODEL_ID, Round, Scenario, ScenarioError
from oracle.typed_data import Report, to_bytes32

# ---------------------------------------------------------------------------------------------- reporting rounds


class SignedReporter:
    """Reports rounds by having the oracle's local signer keys sign them directly (the default)."""

    def __init__(self, scenario: Scenario, oracle, signed, modeller: str):
        self.oracle, self.signed = oracle, signed
        if scenario.attested:
            signed.attest(MODEL_ID, modeller, True, to_bytes32(b"simulated profile"))

    def open_round(self, announced: int) -> list[int]:
        """Announce rounds through `announced` (open now); post the rounds not posted yet as missed.
        @return The rounds posted as fillers."""
        self.signed.announce_through(announced)
        last = self.oracle.lastPostedRound(MODEL_ID)
        if last < announced:
            self.signed.post_returns(MODEL_ID, [None] * (announced - last))
        return list(range(last + 1, announced + 1))

    def report(self, planned: list) -> None:
        """Announce, post (one batch) and, after the challenge window, finalize [(round, Round)]."""
        from brownie import chain

        tournament = self.oracle.tournament()
        reports = []
        for round_, plan_round in planned:
            if plan_round.missed:
                reports.append(Report(MODEL_BYTES, tournament, round_, missed=True))
            else:
                reports.append(
                    Report(
                        MODEL_BYTES,
                        tournament,
                        round_,
                        False,
                        tuple(to_bytes32(n) for n in plan_round.names),
                        tuple(plan_round.scores),
                        tuple(plan_round.multipliers),
                        plan_round.payout_factor,
                        plan_round.clip,
                    )
                )
        self.signed.announce_through(planned[-1][0])
        self.signed.post(reports)
        chain.sleep(self.oracle.challengeWindow())
        chain.mine()
        self.signed.finalize(MODEL_ID)

    def close(self) -> None:
        pass


#: The Numerai model UUID that MODEL_ID encodes, and the name the fake Numerai serves it under.
MODEL_UUID = "5c1b2f3a-8d4e-4b6a-9f7c-2a1e3d4c5b6a"
MODEL_NAME = "simulated_model"


def oracle_service_problem(scenario: Scenario) -> str | None:
    """Why the scenario's rounds cannot be served through Numerai's API shape (None: they can).

    Numerai gives per round a payout factor and per payout score a display name, a multiplier and a clip, so
    everything a scenario round holds goes through, except score names that differ only in case: the oracle
    service matches Numerai's score rows to the round's score configs case-insensitively."""
    for number, round_ in enumerate(scenario.rounds, start=1):
        folded: dict[str, str] = {}
        for name_ in round_.names:
            if name_.casefold() in folded:
                return (
                    f"round {number} has scores {folded[name_.casefold()]!r} and {name_!r}: Numerai's API (as "
                    f"the oracle service reads it) cannot tell score names apart that differ only in case"
                )
            folded[name_.casefold()] = name_
    return None


def _decimal(value: int) -> Decimal:
    """1e18 fixed point as the exact decimal Numerai would serve."""
    return Decimal(value).scaleb(-18)


class ServiceReporter:
    """Reports rounds through the oracle service (``backing oracle run --once``, in-process): the scenario's
    rounds are served by a local fake Numerai GraphQL server (``oracle.fake_numerai``); an operator holding two
    of the three signer keys in keystores, with its own funded sender account (``oracle.operator``), announces,
    posts and finalizes them, and attests the model when the modeller's Numerai profile names his address."""

    def __init__(self, scenario: Scenario, oracle, signed, modeller: str):
        from brownie import chain

        from oracle.testing.fake_numerai import FakeNumerai
        from oracle.testing.operator import OracleOperator, start_fake_numerai

        problem = oracle_service_problem(scenario)
        if problem:
            raise ScenarioError(f"--oracle-service: {problem}")
        self.oracle, self.chain = oracle, chain
        self.spacing = oracle.minRoundSpacing()
        self.last_close = 0
        self.fake = FakeNumerai(now=chain.time)
        bio = f"My Backing Vaults address: {modeller}" if scenario.attested else "A simulated model."
        self.fake.add_model(MODEL_UUID, MODEL_NAME, bio=bio)
        self.server, url = start_fake_numerai(self.fake)
        self.operator = OracleOperator(
            oracle, signed, url, {MODEL_UUID: MODEL_NAME}, attest=scenario.attested, prefix="backing-simulate-oracle-"
        )
        if scenario.attested:
            self._pass()

    @property
    def sender(self) -> str:
        """The account the service sends its transactions from."""
        return self.operator.sender

    def _pass(self) -> None:
        try:
            self.operator.run()
        except AssertionError as error:
            raise ScenarioError(f"--oracle-service: {error}") from None

    def _add(self, number: int, plan_round: Round | None) -> None:
        """Serve round `number`, resolved, with the model's scores (None or missed: the model has none)."""
        now = self.chain.time()
        close = max(now + 3600, self.last_close + self.spacing) if self.last_close else now + 3600
        self.last_close = close
        if plan_round is None or plan_round.missed:
            self.fake.add_round(number, open_time=min(now - 60, close - 3600), close_staking_time=close, resolved=True)
            return
        configs = [
            {"displayName": name_, "defaultMultiplier": _decimal(m), "clipThreshold": _decimal(plan_round.clip)}
            for name_, m in zip(plan_round.names, plan_round.multipliers)
        ]
        self.fake.add_round(
            number,
            open_time=min(now - 60, close - 3600),
            close_staking_time=close,
            resolved=True,
            payout_factor=_decimal(plan_round.payout_factor),
            score_configs=configs,
        )
        self.fake.set_scores(MODEL_UUID, number, {n: _decimal(v) for n, v in zip(plan_round.names, plan_round.scores)})

    def _through(self, end: int) -> None:
        """Run the service until it has announced and posted every round through `end`."""
        for _ in range(2 + end // 32):
            if self.oracle.currentRound() >= end and self.oracle.lastPostedRound(MODEL_ID) >= end:
                return
            self._pass()
        raise ScenarioError(
            f"--oracle-service: the oracle service did not announce and post the rounds through "
            f"{end} (round {self.oracle.currentRound()} announced, "
            f"{self.oracle.lastPostedRound(MODEL_ID)} posted); its log: {self.operator.log_path}"
        )

    def open_round(self, announced: int) -> list[int]:
        for number in range(max(self.fake.rounds, default=0) + 1, announced + 1):
            self._add(number, None)
        last = self.oracle.lastPostedRound(MODEL_ID)
        self._through(announced)
        return list(range(last + 1, announced + 1))

    def report(self, planned: list) -> None:
        for number, plan_round in planned:
            self._add(number, plan_round)
        self._through(planned[-1][0])
        self.chain.sleep(self.oracle.challengeWindow())
        self.chain.mine()
        self._pass()  # the service's next pass finalizes the rounds past their challenge window

    def close(self) -> None:
        self.server.stop()


def make_reporter(scenario: Scenario, oracle, signed, modeller: str, oracle_service: bool):
    return (ServiceReporter if oracle_service else SignedReporter)(scenario, oracle, signed, modeller)
