"""The oracle service end to end on ganache: a source, the service (web3 only, talking to ganache's RPC like it
would to any node), the ScoreOracle and an agreement on it. Brownie only sets the scene (deploys, registers
models, moves time) and checks the outcome.

Every test ends by checking, from the RoundPosted events, that each model's rounds were posted exactly once
and in sequence: nothing lost, doubled or skipped, whatever failed on the way."""

import contextlib
import json
import threading
from decimal import Decimal

import pytest
import requests
from brownie import accounts, chain
from brownie import web3 as brownie_web3
from eth_account import Account
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from backing.model.agreement import next_index
from backing.onchain.oracle import SignedOracle
from oracle import cli as oracle_cli
from oracle import typed_data as td
from oracle.abi import RevertDecoder, load_abi
from oracle.errors import EXIT_OK, EXIT_QUORUM, EXIT_RPC, EXIT_SOURCE, ChainRejected
from oracle.exchange import Statement
from oracle.keys import new_keystore
from oracle.log import JsonLog
from oracle.model import RoundInfo, RoundResult, Source, SourceError
from oracle.service import OracleService, ServiceConfig
from oracle.store import ProgressStore
from oracle.testing.fake_numerai import FakeNumerai
from oracle.testing.fake_numerai import start as start_fake_numerai
from oracle.tx import TxSender
from support.chain import MODEL_ID, NMR, expect_event, reverts_with

ONE = 10**18
DAY = 86400
CONFTEST_UUID = "abababab-abab-abab-abab-abababababab"  # conftest's MODEL_ID as a Numerai UUID
UUID_A = "11111111-2222-4333-8444-555555555555"
UUID_B = "66666666-7777-4888-8999-aaaaaaaaaaaa"
FAST_KDF = {"kdf": "pbkdf2", "iterations": 1000}


class Killed(BaseException):
    """Stands for the process dying (kill -9): not an Exception, so nothing in the service catches it."""


# ============================================================================================ helpers


def result(uuid, round_, corr="0.02", mmc="0.01"):
    return RoundResult(
        uuid,
        round_,
        {"CORR20": Decimal(corr), "MMC": Decimal(mmc)},
        {"CORR20": Decimal("0.5"), "MMC": Decimal(2)},
        Decimal(1),
        Decimal("0.05"),
    )


class ListSource(Source):
    """Numerai as the tests want it: a schedule, per-model results, models that fail or answer garbage."""

    name = "list"

    def __init__(self, rounds, results, failing=(), garbage=()):
        self.rounds, self.results = list(rounds), dict(results)
        self.failing, self.garbage = set(failing), set(garbage)
        self.profiles = {}

    def schedule(self, after_round):
        return [r for r in self.rounds if r.round > after_round]

    def profile_text(self, model_id):
        if model_id in self.failing:
            raise SourceError(f"model {model_id}: Numerai answered HTTP 502")
        return "owner", self.profiles.get(model_id, "")

    def resolved_results(self, model_id, after_round):
        if model_id in self.failing:
            raise SourceError(f"model {model_id}: Numerai answered HTTP 502")
        found = [r for r in self.results.get(model_id, []) if r.round > after_round]
        if model_id in self.garbage:  # a NaN score, as a broken API answer would carry
            found = [
                RoundResult(
                    model_id, r.round, {"CORR20": Decimal("NaN")}, {"CORR20": Decimal(1)}, Decimal(1), Decimal("0.05")
                )
                for r in found
            ]
        return found


class FlakyProvider(HTTPProvider):
    """An HTTP provider whose node can be switched off (connection refused) from a test hook."""

    down = False

    def make_request(self, method, params):
        if self.down:
            raise requests.exceptions.ConnectionError("connection refused (node down in the test)")
        return super().make_request(method, params)


class LogLines:
    """A JsonLog stream that keeps the records, for asserting on events."""

    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.extend(line for line in text.splitlines() if line)

    def flush(self):
        pass

    def events(self, name=None):
        records = [json.loads(line) for line in self.lines]
        return [r for r in records if name is None or r["event"] == name]


@contextlib.contextmanager
def cosigning(cosigner, poll=0.05):
    """Run a co-signer's passes in a background thread (as its own process would) while the body runs."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            cosigner.run_once()
            stop.wait(poll)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def rpc_url():
    return brownie_web3.provider.endpoint_uri


#: The nodes' account mnemonics: ganache's as the brownie config sets it, anvil's default (anvil refuses "brownie").
GANACHE_MNEMONIC = "brownie"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"


def local(account):
    """A node account (unlocked on the node; brownie holds no key for it) as an eth-account key the service can
    sign with, derived from the node's mnemonic."""
    import hashlib

    from eth_account.hdaccount import key_from_seed

    # ganache takes "brownie" as a BIP-39 mnemonic without checking its words; eth-account would refuse it,
    # so derive the BIP-39 seed by hand (PBKDF2-HMAC-SHA512, salt "mnemonic", 2048 rounds)
    anvil = brownie_web3.client_version.lower().startswith("anvil")
    phrase = ANVIL_MNEMONIC if anvil else GANACHE_MNEMONIC
    seed = hashlib.pbkdf2_hmac("sha512", phrase.encode(), b"mnemonic", 2048)
    index = list(accounts).index(account)
    key = Account.from_key(key_from_seed(seed, f"m/44'/60'/0'/0/{index}"))
    assert key.address == account.address
    return key


@pytest.fixture(scope="module", autouse=True)
def scene(model_id):
    """Every test starts from the same state: conftest's model registered, round 1 announced."""
    return model_id


@pytest.fixture(scope="module")
def abi():
    return load_abi()


@pytest.fixture
def schedule(oracle):
    """Rounds 1..12: round 1 as conftest announced it, then one a day."""
    first = oracle.roundCloseTime(1)
    return [RoundInfo(r, first + (r - 1) * DAY) for r in range(1, 13)]


@pytest.fixture
def register(signed, modeller):
    def do(uuid, first_round=1):
        signed.register(td.model_id_from_uuid(uuid), modeller, ONE, first_round)
        return td.model_id_from_uuid(uuid)

    return do


@pytest.fixture
def make_service(oracle, abi, signers, tmp_path):
    """An OracleService on ganache's RPC: two signer keys (k = 2) and a funded sender by default."""

    def make(source, keys=None, sender=accounts[8], db="progress.sqlite", provider=None, log=None, **config):
        w3 = Web3(provider or HTTPProvider(rpc_url()))
        return OracleService(
            w3,
            oracle.address,
            abi,
            source,
            signers[:2] if keys is None else keys,
            sender=None if sender is None else local(sender),
            config=ServiceConfig(**config),
            log=JsonLog(log if log is not None else LogLines()),
            db_path=str(tmp_path / db) if db else None,
            hooks={},
        )

    return make


@pytest.fixture
def oracle_w3(oracle, abi):
    return Web3(HTTPProvider(rpc_url())).eth.contract(address=oracle.address, abi=abi)


def posted_rounds(oracle_w3, model_id):
    return [
        e["args"]["round"]
        for e in oracle_w3.events.RoundPosted.get_logs(from_block=0)
        if bytes(e["args"]["modelId"]) == td.to_bytes32(model_id)
    ]


def assert_posted_once(oracle, oracle_w3, model_id, first, last):
    """Rounds first..last posted exactly once each, in order, and nothing else for the model."""
    assert posted_rounds(oracle_w3, model_id) == list(range(first, last + 1))
    assert oracle.lastPostedRound(model_id) == last


def finish_window(oracle):
    chain.sleep(oracle.challengeWindow() + 1)
    chain.mine()  # ganache estimates gas on the latest block: let it carry the new time


def expected_index(reports):
    index = ONE
    for report in reports:
        index = next_index(index, ONE, report.round_return())
    return index


# ============================================================================================ end to end


def test_end_to_end_cli_two_signers_agreement_matures_and_settles(
    oracle, oracle_w3, signers, schedule, make_nmr_agreement, fund_nmr, modeller, alice, tmp_path, request, capsys
):
    """The fake Numerai API -> `backing oracle run` with two signer keystores (k = 2) and a sender keystore -> chain:
    rounds
    announced, posted, finalized; the agreement locked before matures on them and settles."""
    agreement, terms = make_nmr_agreement(lockup_rounds=2, reserve_ratio_bps=5000)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 2  # round 1 is announced: the lockup is rounds 2 and 3

    results = [
        result(CONFTEST_UUID, 1, "0.01", "0"),
        result(CONFTEST_UUID, 2, "0.04", "0.01"),
        result(CONFTEST_UUID, 3, "-0.03", "0.005"),
    ]
    # Numerai, as the fake API serves it: rounds 1-3 opened in the past, closing on the oracle's schedule
    fake = FakeNumerai()
    for info in schedule[:3]:
        fake.add_round(
            info.round,
            open_time=schedule[0].close_time - 10 * DAY + info.round * 3600,
            close_staking_time=info.close_time,
            resolved=True,
        )
    fake.add_model(CONFTEST_UUID, "conftest-model")
    for info, round_result in zip(schedule[:3], results):
        fake.set_scores(CONFTEST_UUID, info.round, {k: str(v) for k, v in round_result.scores.items()})
    server, numerai_url = start_fake_numerai(fake)
    request.addfinalizer(server.stop)
    (tmp_path / "pw").write_text("operator password\n")
    (tmp_path / "pw").chmod(0o600)
    keystores = []
    for i, key in enumerate(signers[:2]):
        keystores += ["--keystore", str(tmp_path / f"signer{i}.json")]
        new_keystore(keystores[-1], "operator password", private_key=key.key, **FAST_KDF)
    new_keystore(str(tmp_path / "sender.json"), "operator password", private_key=local(accounts[8]).key, **FAST_KDF)
    common = ["--rpc", rpc_url(), "--oracle", oracle.address, "--source", "numerai", "--numerai-url", numerai_url]
    run = [
        "run",
        "--once",
        *common,
        *keystores,
        "--password-file",
        str(tmp_path / "pw"),
        "--sender-keystore",
        str(tmp_path / "sender.json"),
        "--db",
        str(tmp_path / "p.sqlite"),
        "--status-file",
        str(tmp_path / "status.json"),
    ]

    # the dry run shows what would be posted, exactly, and posts nothing
    capsys.readouterr()  # (brownie's transaction lines so far)
    assert oracle_cli.main(["run", "--dry-run", "--json", *common]) == 0
    planned = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(p["model_uuid"], p["round"], p["round_return"]) for p in planned] == [
        (CONFTEST_UUID, 1, "0.005"),
        (CONFTEST_UUID, 2, "0.04"),
        (CONFTEST_UUID, 3, "-0.005"),
    ]
    assert oracle.lastPostedRound(MODEL_ID) == 0

    assert oracle_cli.main(run) == EXIT_OK
    assert oracle.currentRound() == 3
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["role"] == "sender" and status["last_exit_code"] == 0
    assert status["models"][CONFTEST_UUID]["posted"] == 3 and status["models"][CONFTEST_UUID]["final"] == 0
    assert [oracle.roundCloseTime(r) for r in (2, 3)] == [schedule[1].close_time, schedule[2].close_time]
    assert_posted_once(oracle, oracle_w3, MODEL_ID, 1, 3)
    assert oracle.modelInfo(MODEL_ID)[3] == 0  # pending: the challenge window is not over
    reports = [r.to_report(8) for r in results]
    for report in reports:
        assert bytes(oracle.reportOf(MODEL_ID, report.round)[0]) == report.struct_hash()

    finish_window(oracle)
    assert oracle_cli.main(run) == EXIT_OK  # finalizes; posts nothing new
    assert oracle.modelInfo(MODEL_ID)[3] == 3
    assert_posted_once(oracle, oracle_w3, MODEL_ID, 1, 3)
    assert oracle.indexAt(MODEL_ID, 3) == expected_index(reports)

    tx = agreement.mature({"from": alice})
    assert "MaturedOnFallback" not in tx.events
    staked = agreement.stakedCapital()
    start_index, end_index = oracle.indexAt(MODEL_ID, 1), oracle.indexAt(MODEL_ID, 3)
    assert agreement.finalValue() == staked * end_index // start_index
    due = agreement.amountDue()
    if due:
        fund_nmr(modeller, due, agreement)
        agreement.repay(due, {"from": modeller})
    assert agreement.phase() == 3  # Settled
    store = ProgressStore(str(tmp_path / "p.sqlite"), chain.id, oracle.address)
    assert [(r.round, r.status) for r in store.reports()] == [(1, "posted"), (2, "posted"), (3, "posted")]
    assert [t.kind for t in store.txs()] == ["announce", "post", "finalize"]
    assert {t.status for t in store.txs()} == {"mined"}


def test_signature_exchange_between_two_operators(
    oracle, oracle_w3, signers, schedule, register, make_service, tmp_path
):
    """Two operators with one key each: the submitter proposes in the shared directory, the co-signer checks
    each statement against its own source and signs; the submitter relays once it has k = 2."""
    model = register(UUID_A)
    results = {UUID_A: [result(UUID_A, r) for r in (1, 2)]}
    shared = str(tmp_path / "shared")
    submitter = make_service(
        ListSource(schedule[:2], results),
        keys=[signers[0]],
        signature_dir=shared,
        signature_timeout=30,
        signature_poll=0.05,
    )
    cosigner_log = LogLines()
    cosigner = make_service(
        ListSource(schedule[:2], results),
        keys=[signers[1]],
        sender=None,
        db=None,
        signature_dir=shared,
        log=cosigner_log,
    )
    with cosigning(cosigner):
        assert submitter.run_once() == EXIT_OK
    assert oracle.currentRound() == 2
    assert_posted_once(oracle, oracle_w3, model, 1, 2)
    assert sorted(e["statement"] for e in cosigner_log.events("cosigned")) == ["ReportBatch", "RoundAnnouncement"]
    # the co-signer's health output alone says it keeps up: its pass succeeded, nothing resolved is unposted
    assert cosigner.run_once() == EXIT_OK
    health = cosigner.health.snapshot()
    assert health["last_exit_code"] == 0 and health["last_success_at"] is not None
    assert health["models"][UUID_A]["posted"] == 2 and health["models"][UUID_A]["lag_rounds"] == 0
    assert 'backing_oracle_model_lag_rounds{model="%s"} 0' % UUID_A in cosigner.health.prometheus()


# ============================================================================================ issue 22: the exchange


def test_junk_in_the_signature_directory_stops_nobody(
    oracle, oracle_w3, signers, schedule, register, make_service, tmp_path
):
    """A proposal file eth-abi cannot encode, and a garbage signature file planted under the co-signer's name
    for every real proposal: the sender's pass and the co-signer's daemon go on, the co-signer re-signs over the
    garbage, the rounds are posted. Before: prune() raised (every pass exit 1), cosign_once died, and a garbage
    .sig made the co-signer believe it had signed (QuorumMissing)."""
    model = register(UUID_A)
    results = {UUID_A: [result(UUID_A, r) for r in (1, 2)]}
    shared = tmp_path / "shared"
    submitter = make_service(
        ListSource(schedule[:2], results),
        keys=[signers[0]],
        signature_dir=str(shared),
        signature_timeout=30,
        signature_poll=0.05,
        status_file=str(tmp_path / "status.json"),
    )
    cosigner_log = LogLines()
    cosigner = make_service(
        ListSource(schedule[:2], results),
        keys=[signers[1]],
        sender=None,
        db=None,
        signature_dir=str(shared),
        log=cosigner_log,
    )
    bad = Statement("ReportBatch", td.batch_message([result(UUID_A, 1).to_report(8)], 10**10)).to_json(
        td.Domain(chain.id, oracle.address)
    )
    bad["message"]["reports"][0]["round"] = "-1"
    (shared / ("ee" * 32 + ".json")).write_text(json.dumps(bad))
    planted = set()
    cosigner_address = signers[1].address.lower()

    def plant(service, *args):
        for file in shared.glob("*.json"):
            if file.stem not in planted:
                planted.add(file.stem)
                (shared / f"{file.stem}.{cosigner_address}.sig").write_text("0x" + "00" * 65)

    original = cosigner.cosign_once

    def cosign_after_planting():
        plant(cosigner)
        return original()

    cosigner.cosign_once = cosign_after_planting
    with cosigning(cosigner):
        assert submitter.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 2)
    assert (shared / "rejected" / ("ee" * 32 + ".json")).exists()
    # (a garbage file planted after the co-signer signed is met with a second signature over it)
    assert {e["statement"] for e in cosigner_log.events("cosigned")} == {"ReportBatch", "RoundAnnouncement"}
    assert not cosigner_log.events("internal_error")
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["last_exit_code"] == 0 and status["last_success_at"] is not None
    assert status["models"][UUID_A]["posted"] == 2 and status["models"][UUID_A]["resolved"] == 2
    assert status["models"][UUID_A]["fallback_seconds"] > 0


def test_cosigner_caps_junk_proposals_and_remembers_refusals(
    oracle, signers, schedule, register, make_service, tmp_path
):
    register(UUID_A)
    shared = tmp_path / "shared"
    results = {UUID_A: [result(UUID_A, 1)]}
    make_service(ListSource(schedule[:1], {})).run_once()  # round 1 announced, nothing posted
    cosigner_log = LogLines()
    cosigner = make_service(
        ListSource(schedule[:1], results),
        keys=[signers[1]],
        sender=None,
        signature_dir=str(shared),
        log=cosigner_log,
        max_proposals=2,
    )
    from oracle.exchange import SignatureDirectory

    directory = SignatureDirectory(str(shared))
    domain = td.Domain(chain.id, oracle.address)
    for i in range(3):  # well-formed, each a different (wrong) report: each costs a source query to refuse
        junk = result(UUID_A, 1, corr=f"0.0{i + 3}").to_report(8)
        directory.propose(domain, Statement("ReportBatch", td.batch_message([junk], chain.time() + 600)))
    refusals = []
    for _ in range(3):
        cosigner.run_once()
        refusals.append(len(cosigner_log.events("proposal_refused")))
    assert refusals == [2, 3, 3]  # at most 2 per pass; a refused proposal is not checked again
    assert all("differ" in e["reason"] for e in cosigner_log.events("proposal_refused"))
    assert len(cosigner_log.events("proposals_capped")) == 1


# ============================================================================================ issue 22: the sender


def test_registrations_are_scanned_from_the_remembered_block_in_bounded_ranges(
    oracle, schedule, register, make_service
):
    model = register(UUID_A)
    service = make_service(ListSource(schedule[:1], {}), log_range=3)
    service._load_chain()
    ranges = []
    events = service.oracle.events.ModelRegistered
    original = events.get_logs

    def counted(from_block, to_block):
        ranges.append((from_block, to_block))
        return original(from_block=from_block, to_block=to_block)

    events.get_logs = counted
    service.oracle.events.ModelRegistered = events
    registered = [e.model_id for e in service.models()]
    assert model in registered
    assert ranges and all(high - low < 3 for low, high in ranges)
    assert ranges[0][0] == 0 and ranges[-1][1] == chain.height
    ranges.clear()
    model_b = register(UUID_B)
    assert [e.model_id for e in service.models()] == registered + [model_b]
    assert ranges[0][0] > 0  # only the blocks since the last scan


def test_a_report_counts_as_posted_only_after_the_confirmation_depth(
    oracle, oracle_w3, schedule, register, make_service
):
    model = register(UUID_A)
    log = LogLines()
    service = make_service(ListSource(schedule[:1], {UUID_A: [result(UUID_A, 1)]}), log=log, confirmations=3)
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 1)
    assert [r.status for r in service.store.reports(model)] == ["sent"]
    assert log.events("mined_unconfirmed") and not log.events("posted")
    chain.mine(3)
    assert service.run_once() == EXIT_OK
    assert [r.status for r in service.store.reports(model)] == ["posted"]


# ============================================================================================ faults


def test_source_down_or_garbage_skips_that_model_only(oracle, oracle_w3, schedule, register, make_service):
    a, b = register(UUID_A), register(UUID_B)
    c_uuid = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
    c = register(c_uuid)
    results = {u: [result(u, r) for r in (1, 2, 3)] for u in (UUID_A, UUID_B, c_uuid)}
    log = LogLines()
    source = ListSource(schedule[:3], results, failing={UUID_A}, garbage={c_uuid})
    service = make_service(source, log=log)
    assert service.run_once() == EXIT_SOURCE
    assert_posted_once(oracle, oracle_w3, b, 1, 3)
    assert posted_rounds(oracle_w3, a) == [] and posted_rounds(oracle_w3, c) == []
    errors = {e["model"]: e["error"] for e in log.events("source_error")}
    assert errors == {
        UUID_A: f"model {UUID_A}: Numerai answered HTTP 502",
        c_uuid: "round 1: ValueError: cannot convert NaN to integer",
    }

    source.failing.clear()
    source.garbage.clear()
    assert service.run_once() == EXIT_OK
    for model in (a, b, c):
        assert_posted_once(oracle, oracle_w3, model, 1, 3)


def test_rounds_wait_for_their_announcement(oracle, oracle_w3, schedule, register, make_service):
    """Resolved rounds the schedule does not list yet are held back, then posted once announced."""
    model = register(UUID_A)
    source = ListSource(schedule[:2], {UUID_A: [result(UUID_A, r) for r in (1, 2, 3, 4)]})
    service = make_service(source)
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 2)
    source.rounds = schedule[:4]
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 4)


def test_rpc_down_after_signing_then_rerun(oracle, oracle_w3, schedule, register, make_service, tmp_path):
    model = register(UUID_A)
    source = ListSource(schedule[:3], {UUID_A: [result(UUID_A, r) for r in (1, 2, 3)]})
    provider = FlakyProvider(rpc_url())
    service = make_service(source, provider=provider)
    service.hooks["after_signed"] = lambda svc, batch: setattr(provider, "down", True)
    assert service.run_once() == EXIT_RPC
    assert oracle.lastPostedRound(model) == 0
    store = ProgressStore(str(tmp_path / "progress.sqlite"), chain.id, oracle.address)
    assert [(r.round, r.status) for r in store.reports()] == [(1, "signed"), (2, "signed"), (3, "signed")]

    provider.down = False
    service.hooks.clear()
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 3)
    assert [r.status for r in store.reports()] == ["posted"] * 3


def test_rpc_down_after_sending_then_rerun(oracle, oracle_w3, schedule, register, make_service, tmp_path):
    """The transaction got out, the node went away before the receipt: the rerun finds the rounds on-chain,
    marks them posted and the transaction mined, and sends nothing again."""
    model = register(UUID_A)
    source = ListSource(schedule[:3], {UUID_A: [result(UUID_A, r) for r in (1, 2, 3)]})
    provider = FlakyProvider(rpc_url())
    service = make_service(source, provider=provider)
    service.hooks["after_sent"] = lambda svc, batch: setattr(provider, "down", True)
    assert service.run_once() == EXIT_RPC
    assert_posted_once(oracle, oracle_w3, model, 1, 3)
    store = ProgressStore(str(tmp_path / "progress.sqlite"), chain.id, oracle.address)
    assert [r.status for r in store.reports()] == ["sent"] * 3
    assert [(t.kind, t.status) for t in store.txs()] == [("announce", "mined"), ("post", "sent")]

    provider.down = False
    service.hooks.clear()
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 3)
    assert [r.status for r in store.reports()] == ["posted"] * 3
    assert [(t.kind, t.status) for t in store.txs()] == [("announce", "mined"), ("post", "mined")]


def test_killed_between_signing_and_sending_then_restarted(
    oracle, oracle_w3, schedule, register, make_service, tmp_path
):
    model = register(UUID_A)
    source = ListSource(schedule[:3], {UUID_A: [result(UUID_A, r) for r in (1, 2, 3)]})
    service = make_service(source)

    def die(svc, batch):
        raise Killed()

    service.hooks["after_signed"] = die
    with pytest.raises(Killed):
        service.run_once()
    assert oracle.lastPostedRound(model) == 0
    store = ProgressStore(str(tmp_path / "progress.sqlite"), chain.id, oracle.address)
    signed_digest = store.report(model, 1).digest
    assert [r.status for r in store.reports()] == ["signed"] * 3

    chain.sleep(60)
    chain.mine()  # a later restart: new deadline, so a new digest
    restarted = make_service(source)
    assert restarted.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 3)
    assert [r.status for r in store.reports()] == ["posted"] * 3
    assert store.report(model, 1).digest != signed_digest


def test_two_instances_on_one_database(oracle, oracle_w3, schedule, register, make_service):
    """The second instance finds the lease held and sends nothing; the first posts everything once."""
    model = register(UUID_A)
    source = ListSource(schedule[:3], {UUID_A: [result(UUID_A, r) for r in (1, 2, 3)]})
    first_log, second_log = LogLines(), LogLines()
    first = make_service(source, log=first_log)
    second = make_service(source, sender=accounts[5], log=second_log)
    codes = []
    first.hooks["after_signed"] = lambda svc, batch: codes.append(second.run_once())
    assert first.run_once() == EXIT_OK
    assert codes == [EXIT_OK]
    assert [e["event"] for e in second_log.events()] == ["lease_held", "run_done"]
    assert second_log.events("run_done")[0]["lease_held"] is True  # not a success in the health output
    assert second.health.snapshot()["last_success_at"] is None
    assert_posted_once(oracle, oracle_w3, model, 1, 3)
    # and afterwards the lease is free again
    assert second.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 3)


def test_two_instances_on_separate_databases_race(oracle, oracle_w3, schedule, register, make_service):
    """Both sign the same rounds; the second posts first (inside the first's window between signing and
    sending). The first's batch then reverts with RoundNotNext in its gas estimate; it re-reads the chain and
    posts only what is left."""
    a, b = register(UUID_A), register(UUID_B)
    results = {u: [result(u, r) for r in (1, 2, 3, 4)] for u in (UUID_A, UUID_B)}
    slower_log = LogLines()
    slower = make_service(ListSource(schedule[:4], results), db="one.sqlite", log=slower_log)
    # the faster instance's source has model A's rounds 1-2 only
    faster_results = {UUID_A: results[UUID_A][:2], UUID_B: results[UUID_B]}
    faster = make_service(ListSource(schedule[:4], faster_results), sender=accounts[5], db="two.sqlite")
    codes = []

    def let_the_other_post_first(svc, batch):
        if not codes:
            codes.append(faster.run_once())

    slower.hooks["after_signed"] = let_the_other_post_first
    assert slower.run_once() == EXIT_OK
    assert codes == [EXIT_OK]
    races = slower_log.events("post_race")
    assert len(races) == 1 and "RoundNotNext" in races[0]["error"]
    assert_posted_once(oracle, oracle_w3, a, 1, 4)
    assert_posted_once(oracle, oracle_w3, b, 1, 4)
    # rounds 1-2 of A and all of B came from the faster instance, A's 3-4 from the slower one
    senders = {}
    for event in oracle_w3.events.RoundPosted.get_logs(from_block=0):
        tx = oracle_w3.w3.eth.get_transaction(event["transactionHash"])
        senders[(uuid_of(event), event["args"]["round"])] = tx["from"]
    assert senders == {
        **{(UUID_A, r): accounts[5].address for r in (1, 2)},
        **{(UUID_A, r): accounts[8].address for r in (3, 4)},
        **{(UUID_B, r): accounts[5].address for r in (1, 2, 3, 4)},
    }


def uuid_of(event):
    from oracle.units import model_uuid as uuid_from_model_id

    return uuid_from_model_id(bytes(event["args"]["modelId"]))


def test_compromised_signer_cannot_post_alone(
    oracle, oracle_w3, signers, schedule, register, make_service, abi, tmp_path
):
    model = register(UUID_A)
    honest = {UUID_A: [result(UUID_A, 1, "0.01", "0")]}
    forged = {UUID_A: [result(UUID_A, 1, "1", "1")]}  # +5% (the clip) instead of +0.5%

    # alone, with its one key: the service refuses to send without a quorum
    log = LogLines()
    alone = make_service(ListSource(schedule[:1], forged), keys=[signers[0]], log=log)
    assert alone.run_once() == EXIT_QUORUM
    assert [e["error"] for e in log.events("step_failed")] == ["ReportBatch: 1 of 2 signatures"]

    # relaying its one signature by hand: the contract refuses
    w3 = Web3(HTTPProvider(rpc_url()))
    contract = w3.eth.contract(address=oracle.address, abi=abi)
    report = forged[UUID_A][0].to_report(8)
    deadline = chain.time() + 3600
    domain = td.Domain(chain.id, oracle.address)
    sigs = td.ordered(td.sign(domain, "ReportBatch", td.batch_message([report], deadline), [signers[0]]))
    sender = TxSender(w3, local(accounts[8]), chain.id, RevertDecoder(abi), JsonLog(LogLines()))
    with pytest.raises(ChainRejected) as rejected:
        sender.send(contract.functions.postReports([report.as_tuple()], deadline, sigs), "post")
    assert (rejected.value.name, rejected.value.error_args) == ("QuorumNotMet", (1, 2))

    # proposing the forged report to an honest co-signer: refused, nothing posted
    shared = str(tmp_path / "shared")
    proposer = make_service(
        ListSource(schedule[:1], forged),
        keys=[signers[0]],
        signature_dir=shared,
        signature_timeout=1.0,
        signature_poll=0.05,
        db="forger.sqlite",
    )
    honest_log = LogLines()
    cosigner = make_service(
        ListSource(schedule[:1], honest), keys=[signers[1]], sender=None, db=None, signature_dir=shared, log=honest_log
    )
    with cosigning(cosigner):
        assert proposer.run_once() == EXIT_QUORUM
    refusals = {e["reason"] for e in honest_log.events("proposal_refused")}
    assert refusals == {f"model {UUID_A}: reports differ from this signer's source"}
    assert posted_rounds(oracle_w3, model) == []
    with reverts_with("QuorumNotMet", 1, 2):
        SignedOracle(oracle, signers, accounts[6]).post([report], keys=[signers[0]])


def test_wrong_report_disputed_and_replaced(
    oracle, oracle_w3, signers, schedule, register, make_service, deployer, fund_nmr, nmr_token
):
    model = register(UUID_A)
    wrong = [result(UUID_A, 1, "0.01", "0"), result(UUID_A, 2, "0.9", "0")]  # round 2 garbled upstream
    right = [result(UUID_A, 1, "0.01", "0"), result(UUID_A, 2, "0.009", "0"), result(UUID_A, 3, "-0.02", "0")]
    source = ListSource(schedule[:2], {UUID_A: wrong})
    service = make_service(source)
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, model, 1, 2)

    watcher = accounts[9]
    oracle.setWatcher(watcher, True, {"from": deployer})
    fund_nmr(watcher, oracle.disputeBond(), oracle)
    oracle.dispute(model, 2, {"from": watcher})
    replacement = right[1].to_report(8)
    tx = SignedOracle(oracle, signers, accounts[6]).resolve(replacement)  # dispute quorum: all three signers
    expect_event(
        tx,
        "DisputeResolved",
        modelId="0x" + model.hex(),
        round=2,
        disputedHash="0x" + wrong[1].to_report(8).struct_hash().hex(),
        replacementHash="0x" + replacement.struct_hash().hex(),
        roundReturn=replacement.round_return(),
        bondReturned=True,
    )
    assert nmr_token.balanceOf(watcher) == oracle.disputeBond()

    # the source is fixed; the service finalizes 1-2 (2 as replaced) and posts 3 after them
    source.results = {UUID_A: right}
    source.rounds = schedule[:3]
    finish_window(oracle)
    assert service.run_once() == EXIT_OK
    assert oracle.modelInfo(model)[3] == 2
    assert_posted_once(oracle, oracle_w3, model, 1, 3)
    finish_window(oracle)
    assert service.run_once() == EXIT_OK
    assert oracle.modelInfo(model)[3] == 3
    assert oracle.indexAt(model, 3) == expected_index([r.to_report(8) for r in right])


def test_stalled_oracle_agreement_matures_on_fallback(
    oracle, oracle_w3, schedule, make_service, make_nmr_agreement, fund_nmr, modeller, alice
):
    agreement, terms = make_nmr_agreement(lockup_rounds=2)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    results = {CONFTEST_UUID: [result(CONFTEST_UUID, r, "0.04", "0.01") for r in (1, 2, 3)]}
    source = ListSource(schedule[:3], results, failing={CONFTEST_UUID})  # Numerai unreachable for weeks
    service = make_service(source)
    assert service.run_once() == EXIT_SOURCE  # the schedule still comes through: rounds 2 and 3 announced
    assert oracle.currentRound() == 3

    # past the lockup's last round's (3) resolution plus the oracle's maximum report delay: backers may settle
    # at zero return
    due = oracle.roundDueTime(3) + oracle.maxReportDelay()
    chain.sleep(due - chain.time() + 1)
    chain.mine()
    tx = agreement.mature({"from": alice})
    expect_event(tx, "MaturedOnFallback", lastFinal=0, endRound=3)
    assert agreement.finalValue() == agreement.stakedCapital()

    # the source comes back: the service catches up, every round once, in order
    source.failing.clear()
    source.rounds = schedule[:3]
    assert service.run_once() == EXIT_OK
    assert_posted_once(oracle, oracle_w3, MODEL_ID, 1, 3)
    finish_window(oracle)
    assert service.run_once() == EXIT_OK
    assert oracle.modelInfo(MODEL_ID)[3] == 3


def test_attest_models_whose_profile_names_the_modeller(oracle, schedule, register, make_service, modeller):
    from oracle.attest import evidence_hash

    a, b = register(UUID_A), register(UUID_B)
    source = ListSource(schedule[:1], {})
    source.profiles = {UUID_A: f"Backed on Backing Vaults: {modeller.address}", UUID_B: "no address here"}
    log = LogLines()
    service = make_service(source, log=log, attest=True)
    assert service.run_once() == EXIT_OK
    assert oracle.isAttested(a) and not oracle.isAttested(b)
    assert oracle.attestationNonce(a) == 1 and oracle.attestationNonce(b) == 0
    assert [(e["model"], e["evidence"]) for e in log.events("attested")] == [
        (UUID_A, "0x" + evidence_hash(source.profiles[UUID_A]).hex())
    ]
    # nothing changed: nothing sent; the address removed from the profile: the attestation is withdrawn
    assert service.run_once() == EXIT_OK
    assert oracle.attestationNonce(a) == 1
    source.profiles[UUID_A] = "moved on"
    assert service.run_once() == EXIT_OK
    assert not oracle.isAttested(a) and oracle.attestationNonce(a) == 2


def test_model_status_shows_attestation(oracle, signed, model_id, modeller, capsys):
    """`backing oracle model UUID` tells a backer whether the oracle attested that the modeller owns the model."""
    common = ["--rpc", rpc_url(), "--oracle", oracle.address]
    capsys.readouterr()
    assert oracle_cli.main(["model", CONFTEST_UUID, *common, "--json"]) == EXIT_OK
    status = json.loads(capsys.readouterr().out)
    assert status == {
        "model_uuid": CONFTEST_UUID,
        "model_id": MODEL_ID.lower(),
        "registered": True,
        "modeller": str(modeller),
        "attested": False,
        "exposure": "1",
        "first_round": 1,
        "last_final_round": 0,
        "last_posted_round": 0,
    }
    assert oracle_cli.main(["model", CONFTEST_UUID, *common]) == EXIT_OK
    assert "NOT ATTESTED" in capsys.readouterr().out
    signed.attest(model_id, modeller, True, td.to_bytes32(b"profile"))
    assert oracle_cli.main(["model", CONFTEST_UUID, *common]) == EXIT_OK
    text = capsys.readouterr().out
    assert "ATTESTED: the oracle found the modeller's address" in text and "NOT" not in text
    other = "00000000-0000-4000-8000-000000000001"
    assert oracle_cli.main(["model", other, *common]) == EXIT_OK
    assert "not registered" in capsys.readouterr().out
