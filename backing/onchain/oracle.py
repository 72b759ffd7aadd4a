"""Drive a ScoreOracle from brownie with local signer keys: register, attest, announce, post, finalize, resolve.

Used by the tests, the simulator and the deployment script; the oracle *service* (package ``oracle``) does the
same through web3 for real operators. Statements are signed off-chain by `keys` and relayed by `sender`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account

from oracle import typed_data as td
from oracle.typed_data import Report
from oracle.units import ONE

TOURNAMENT = 8
RET = td.to_bytes32("RET")
DAY = 86400


@dataclass(frozen=True)
class OracleParams:
    """ScoreOracle deployment parameters (``OracleConfig`` minus the bond token), with test-friendly defaults."""

    tournament: int = TOURNAMENT
    max_clip: int = ONE
    max_multiplier: int = 100 * ONE
    min_round_spacing: int = 22 * 3600
    challenge_window: int = 3600
    resolution_delay: int = 30 * DAY
    max_report_delay: int = 3 * DAY
    dispute_bond: int = 100 * ONE
    dispute_timeout: int = 7 * DAY
    signer_set_delay: int = 2 * DAY

    def config(self, bond_token) -> tuple:
        return (
            str(bond_token),
            self.tournament,
            self.max_clip,
            self.max_multiplier,
            self.min_round_spacing,
            self.challenge_window,
            self.resolution_delay,
            self.max_report_delay,
            self.dispute_bond,
            self.dispute_timeout,
            self.signer_set_delay,
        )


def signer_keys(count: int, seed: str = "backing-oracle-signer") -> list:
    """Deterministic signer accounts for local chains (they sign only; a funded sender relays)."""
    from eth_utils import keccak

    return [Account.from_key(keccak(text=f"{seed}-{i}")) for i in range(count)]


def sorted_addresses(keys) -> list[str]:
    return sorted((k.address for k in keys), key=lambda a: int(a, 16))


def oracle_container(deployer, silent=True):
    """brownie's ScoreOracle, with the library it links (RoundReports) deployed on this chain first if it is not."""
    from brownie import RoundReports, ScoreOracle

    if not len(RoundReports):
        RoundReports.deploy({"from": deployer}, silent=silent)
    return ScoreOracle


def deploy_oracle(
    deployer,
    bond_token,
    keys,
    quorum: int,
    dispute_quorum: int,
    params: OracleParams = OracleParams(),
    owner=None,
    silent=True,
):
    return oracle_container(deployer, silent).deploy(
        owner or deployer,
        params.config(bond_token),
        sorted_addresses(keys),
        quorum,
        dispute_quorum,
        {"from": deployer},
        silent=silent,
    )


def return_report(
    model_id: bytes, round_: int, value: int | None, clip: int = ONE, tournament: int = TOURNAMENT
) -> Report:
    """A report whose round return is exactly `value` (one score, multiplier 1, payout factor 1); None: missed."""
    if value is None:
        return Report(model_id, tournament, round_, missed=True)
    return Report(model_id, tournament, round_, False, (RET,), (value,), (ONE,), ONE, clip)


class SignedOracle:
    """A ScoreOracle plus the keys that sign for it and the account that relays."""

    def __init__(self, oracle, keys, sender, silent=False):
        from brownie import chain

        self.oracle, self.keys, self.sender, self.silent = oracle, list(keys), sender, silent
        self.domain = td.Domain(chain.id, oracle.address)

    # ------------------------------------------------------------------ plumbing
    def _tx(self, **extra):
        return {"from": self.sender, **extra}

    def _call(self, fn, *args, **extra):
        if self.silent:
            return fn(*args, self._tx(**extra), silent=True)
        return fn(*args, self._tx(**extra))

    def deadline(self) -> int:
        from brownie import chain

        return chain.time() + 3600

    def signatures(self, primary: str, message: dict, keys=None) -> list[bytes]:
        return td.ordered(td.sign(self.domain, primary, message, self.keys if keys is None else keys))

    def quorum_keys(self, count=None):
        return self.keys[: self.oracle.quorum() if count is None else count]

    # ------------------------------------------------------------------ statements
    def register(self, model_id, modeller, exposure=ONE, first_round=1, keys=None):
        model_id = td.to_bytes32(model_id)
        deadline = self.deadline()
        msg = td.registration_message(model_id, str(modeller), exposure, first_round, deadline)
        sigs = self.signatures("ModelRegistration", msg, keys or self.quorum_keys())
        return self._call(self.oracle.registerModel, model_id, str(modeller), exposure, first_round, deadline, sigs)

    def propose_modeller_change(self, model_id, to, keys=None, nonce=None, old=None):
        """Sign (by the quorum's keys, or `keys`) and send `to` replacing the model's modeller; `nonce` and `old`
        default to the chain's (give others to test that the contract refuses them)."""
        model_id = td.to_bytes32(model_id)
        deadline = self.deadline()
        if nonce is None:
            nonce = self.oracle.modellerChangeOf(model_id)[2]
        if old is None:
            old = self.oracle.modelInfo(model_id)[0]
        msg = td.modeller_change_message(model_id, str(old), str(to), nonce, deadline)
        sigs = self.signatures("ModellerChange", msg, keys or self.quorum_keys())
        return self._call(self.oracle.proposeModellerChange, model_id, str(to), deadline, sigs)

    def attest(self, model_id, modeller, attested=True, evidence=b"\0" * 32, keys=None):
        model_id = td.to_bytes32(model_id)
        deadline = self.deadline()
        nonce = self.oracle.attestationNonce(model_id)
        msg = td.attestation_message(model_id, str(modeller), attested, evidence, nonce, deadline)
        sigs = self.signatures("ModelAttestation", msg, keys or self.quorum_keys())
        return self._call(self.oracle.attestModel, model_id, str(modeller), attested, evidence, deadline, sigs)

    def announce(self, first_round: int, close_times: Sequence[int], keys=None):
        deadline = self.deadline()
        tournament = self.oracle.tournament()
        msg = td.announcement_message(tournament, first_round, close_times, deadline)
        sigs = self.signatures("RoundAnnouncement", msg, keys or self.quorum_keys())
        return self._call(self.oracle.announceRounds, first_round, list(close_times), deadline, sigs)

    def announce_through(self, round_: int):
        """Announce every round up to `round_`, each closing `minRoundSpacing` after the previous (at the
        earliest one hour from now)."""
        from brownie import chain

        current = self.oracle.currentRound()
        if current >= round_:
            return None
        spacing = self.oracle.minRoundSpacing()
        close = self.oracle.currentRoundCloseTime()
        times = []
        for _ in range(current + 1, round_ + 1):
            close = max(chain.time() + 3600, close + spacing) if close else chain.time() + 3600
            times.append(close)
        return self.announce(current + 1, times)

    def post(self, reports: Sequence[Report], keys=None, deadline=None):
        deadline = self.deadline() if deadline is None else deadline
        sigs = self.signatures("ReportBatch", td.batch_message(reports, deadline), keys or self.quorum_keys())
        return self._call(self.oracle.postReports, [r.as_tuple() for r in reports], deadline, sigs)

    def resolve(self, replacement: Report, keys=None):
        model_id = replacement.model_id
        disputed = bytes(self.oracle.reportOf(model_id, replacement.round)[0])
        deadline = self.deadline()
        msg = td.resolution_message(disputed, replacement, deadline)
        n = self.oracle.disputeQuorum()
        sigs = self.signatures("DisputeResolution", msg, keys or self.keys[:n])
        return self._call(self.oracle.resolveDispute, replacement.as_tuple(), deadline, sigs)

    def finalize(self, model_id, max_rounds=10_000):
        return self._call(self.oracle.finalize, td.to_bytes32(model_id), max_rounds)

    # ------------------------------------------------------------------ conveniences
    def post_returns(self, model_id, returns, final=True, clip=ONE):
        """Post the model's next rounds with the given returns (1e18 = +100%; None: missed), announcing rounds
        as needed; with `final`, wait out the challenge window and finalize them. Returns the post receipt."""
        from brownie import chain

        model_id = td.to_bytes32(model_id)
        returns = list(returns)
        if not returns:
            return None
        last = self.oracle.lastPostedRound(model_id)
        self.announce_through(last + len(returns))
        reports = [
            return_report(model_id, last + 1 + i, v, clip, self.oracle.tournament()) for i, v in enumerate(returns)
        ]
        tx = self.post(reports)
        if final:
            # mine after sleeping so gas is estimated at the new time (ganache estimates on the latest block)
            chain.sleep(self.oracle.challengeWindow())
            chain.mine()
            self.finalize(model_id)
        return tx
