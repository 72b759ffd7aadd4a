"""Issue 22, the oracle service's hardening: one regression test per finding that can be shown without a chain
(the others are in tests/chain/oracle/test_oracle_service.py). Each failed before its fix."""

import json
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from numerapi import base_api
from web3.exceptions import TransactionNotFound

from oracle import typed_data as td
from oracle.abi import RevertDecoder, load_abi
from oracle.errors import KeystoreError, SourceError
from oracle.exchange import ProposalError, SignatureDirectory, Statement
from oracle.health import Health, MetricsServer
from oracle.keys import PasswordSource, load_keystore, new_keystore
from oracle.log import JsonLog, redact
from oracle.model import RoundResult, Source
from oracle.service import ModelEntry, OracleService
from oracle.sources import NumeraiSource
from oracle.store import ProgressStore
from oracle.testing.fake_numerai import FakeNumerai, running
from oracle.tx import TxSender
from oracle.validate import to_int

ONE = 10**18
UUID_A = "0a1b2c3d-0000-4000-8000-00000000000a"
ORACLE = "0x" + "12" * 20
DOMAIN = td.Domain(1337, "0x" + "56" * 20)
KEY = Account.from_key(keccak(text="hardening"))
FIXTURE = Path(__file__).parent / "fixtures" / "numerai" / "classic.json"
ALPHA = "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11"
NOW = 1770000000


def report(round_, corr=ONE // 100, missed=False):
    if missed:
        return td.Report(td.model_id_from_uuid(UUID_A), 8, round_, missed=True)
    return td.Report(
        td.model_id_from_uuid(UUID_A),
        8,
        round_,
        False,
        (td.to_bytes32("CORR20"),),
        (corr,),
        (ONE,),
        ONE,
        5 * ONE // 100,
    )


def proposal_json(primary="ReportBatch", **changes):
    if primary == "ReportBatch":
        statement = Statement(primary, td.batch_message([report(1)], 10_000))
    else:
        statement = Statement(
            primary, td.attestation_message(td.model_id_from_uuid(UUID_A), KEY.address, True, b"\1" * 32, 0, 10_000)
        )
    data = statement.to_json(DOMAIN)
    message = data["message"]["reports"][0] if primary == "ReportBatch" else data["message"]
    message.update(changes)
    return data


# ============================================================================================ High: bad proposals


@pytest.mark.parametrize(
    "change",
    [
        {"round": "-1"},  # eth-abi cannot encode a negative uint256
        {"modelId": "0x" + "ab" * 40},  # an over-long bytes32
        {"tournament": str(2**256)},  # out of uint256's range
        {"scores": ["1e5"]},  # not a decimal integer
    ],
)
def test_a_bad_proposal_file_is_moved_aside_and_never_stops_a_pass(tmp_path, change):
    directory = SignatureDirectory(str(tmp_path))
    good = directory.propose(DOMAIN, Statement("ReportBatch", td.batch_message([report(2)], 10_000)))
    bad = tmp_path / ("ee" * 32 + ".json")
    bad.write_text(json.dumps(proposal_json(**change)))
    assert [d for d, _, _ in directory.proposals()] == [good]  # before: eth-abi's error escaped proposals()
    assert not bad.exists()
    assert (tmp_path / "rejected" / bad.name).exists()
    assert (tmp_path / "rejected" / f"{bad.name}.reason").read_text().strip()
    assert [name for name, _ in directory.rejected] == [bad.name]
    assert directory.prune(now=10**9) == 1  # the sender's prune() goes through, it removes the good one (expired)


def test_a_bad_address_in_an_attestation_proposal_is_rejected(tmp_path):
    (tmp_path / ("ef" * 32 + ".json")).write_text(json.dumps(proposal_json("ModelAttestation", modeller="0x12")))
    assert SignatureDirectory(str(tmp_path)).proposals() == []
    assert (tmp_path / "rejected" / ("ef" * 32 + ".json")).exists()


def test_an_oversized_proposal_file_is_rejected_unread(tmp_path):
    (tmp_path / ("fa" * 32 + ".json")).write_text(" " * 1_000_001)
    assert SignatureDirectory(str(tmp_path)).proposals() == []
    assert (tmp_path / "rejected" / ("fa" * 32 + ".json")).exists()


# ============================================================================================ Medium: what is signed


@pytest.mark.parametrize(
    "primary, change",
    [
        ("ModelAttestation", {"attested": "false"}),  # Python's bool("false") is True; eth-account encodes False
        ("ModelAttestation", {"attested": 1}),
        ("ReportBatch", {"missed": "0"}),
        ("ReportBatch", {"missed": None}),
        ("ReportBatch", {"round": True}),  # a JSON boolean is not an integer
        ("ReportBatch", {"round": 1.0}),
    ],
)
def test_non_bool_and_non_int_json_values_are_refused(primary, change):
    with pytest.raises(ProposalError):
        Statement.from_json(proposal_json(primary, **change))


def test_extra_or_missing_fields_are_refused():
    data = proposal_json()
    data["message"]["reports"][0]["extra"] = 1
    with pytest.raises(ProposalError, match="fields"):
        Statement.from_json(data)
    data = proposal_json()
    del data["message"]["deadline"]
    with pytest.raises(ProposalError, match="fields"):
        Statement.from_json(data)


def test_a_well_formed_proposal_round_trips_to_the_same_digest():
    statement = Statement("ReportBatch", td.batch_message([report(1), report(2, missed=True)], 10_000))
    back, domain = Statement.from_json(json.loads(json.dumps(statement.to_json(DOMAIN))))
    assert back == statement and domain == DOMAIN


# ================================================================================== Medium: garbage signatures


def test_a_garbage_signature_file_does_not_count_as_signed(tmp_path):
    directory = SignatureDirectory(str(tmp_path))
    statement = Statement("ReportBatch", td.batch_message([report(1)], 10_000))
    digest = directory.propose(DOMAIN, statement)
    (tmp_path / f"{digest.hex()}.{KEY.address.lower()}.sig").write_text("0x" + "00" * 65)
    assert not directory.has_signature(DOMAIN, statement, KEY.address)  # before: the file's existence sufficed
    ((_, signature),) = td.sign(DOMAIN, statement.primary, statement.message, [KEY])
    directory.add_signature(digest, KEY.address, signature)  # the signer re-signs over it
    assert directory.has_signature(DOMAIN, statement, KEY.address)


# ============================================================================================ Medium: the round ledger


class ListSource(Source):
    name = "list"

    def __init__(self, results):
        self.results = results

    def resolved_results(self, model_id, after_round):
        return [r for r in self.results if r.round > after_round]


def result(round_, corr="0.02"):
    return RoundResult(UUID_A, round_, {"CORR20": Decimal(corr)}, {"CORR20": Decimal(1)}, Decimal(1), Decimal("0.05"))


def offline_service(source, store):
    """A service whose chain parameters are set by hand: model_reports needs no node."""
    from web3 import Web3

    service = OracleService(Web3(Web3.HTTPProvider("http://127.0.0.1:9")), ORACLE, load_abi(), source, [], store=store)
    service.store, service.tournament, service.max_clip, service.max_multiplier = store, 8, ONE // 20, 10 * ONE
    return service


def test_a_changed_value_is_refused_after_a_restart_and_applied_only_by_the_operator(tmp_path):
    path = str(tmp_path / "p.sqlite")
    entry = ModelEntry(td.model_id_from_uuid(UUID_A), UUID_A, "0x" + "00" * 20)
    first = offline_service(ListSource([result(1), result(2)]), ProgressStore(path, 1337, ORACLE))
    assert [r.round for r in first.model_reports(entry, 0, None)] == [1, 2]
    # a restart (a new process: nothing in memory) sees Numerai change round 2 after resolution
    store = ProgressStore(path, 1337, ORACLE)
    second = offline_service(ListSource([result(1), result(2, "0.03")]), store)
    with pytest.raises(SourceError, match="round 2: resolved values changed"):
        second.model_reports(entry, 0, None)
    with pytest.raises(SourceError, match="round 2: resolved values changed"):  # still refused: not forgotten
        second.model_reports(entry, 1, None)
    (open_,) = store.corrections()
    assert (open_.round, open_.new_hash) == (2, "0x" + result(2, "0.03").to_report(8).struct_hash().hex())
    # the operator's explicit command makes it the ledger's value; then it is signed
    from oracle import cli

    assert (
        cli.main(
            ["ledger", "accept", "--db", path, "--model", UUID_A, "--round", "2"],
            out=open(os.devnull, "w"),
            err=open(os.devnull, "w"),
        )
        == 0
    )
    assert [r.round for r in second.model_reports(entry, 1, None)] == [2]
    assert store.corrections() == []


def test_an_unresolved_round_the_ledger_holds_is_refused(tmp_path):
    path = str(tmp_path / "p.sqlite")
    entry = ModelEntry(td.model_id_from_uuid(UUID_A), UUID_A, "0x" + "00" * 20)
    offline_service(ListSource([result(1), result(2)]), ProgressStore(path, 1337, ORACLE)).model_reports(entry, 0, None)
    later = offline_service(ListSource([result(1)]), ProgressStore(path, 1337, ORACLE))
    with pytest.raises(SourceError, match="round 2: was resolved"):
        later.model_reports(entry, 1, None)


def test_ledger_list_and_accept_without_a_correction(tmp_path, capsys):
    from oracle import cli

    path = str(tmp_path / "p.sqlite")
    ProgressStore(path, 1337, ORACLE).close()
    assert cli.main(["ledger", "list", "--db", path]) == 0
    assert "no open corrections" in capsys.readouterr().out
    assert cli.main(["ledger", "accept", "--db", path, "--model", UUID_A, "--round", "3"]) == 2
    assert "no open correction" in capsys.readouterr().err


# ============================================================================================ Medium: empty answers


@pytest.fixture
def numerai(monkeypatch):
    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)
    fake = FakeNumerai(now=lambda: NOW).load(json.loads(FIXTURE.read_text(), parse_float=Decimal))
    with running(fake) as (_, address):
        yield fake, NumeraiSource(address, now=lambda: NOW, timeout=2, retry_delay=0)


def test_an_empty_answer_for_a_model_scored_before_is_a_source_error(numerai):
    fake, source = numerai
    fake.fail("no_rows", on="submissionScores")
    fake.fail("no_rows", on="v2RoundModelPerformances")
    assert all(r.missed for r in source.resolved_results(ALPHA, 999))  # no history: empty is plausible
    source.memory = type(source.memory)()
    source.history = lambda model_id: {1000}
    with pytest.raises(SourceError, match="no score rows for a model scored before"):
        source.resolved_results(ALPHA, 1001)  # before: rounds 1002, 1003 posted as missed (zero return)


def test_a_truncated_answer_is_a_source_error(numerai):
    fake, source = numerai
    source.history = lambda model_id: {1000, 1002}
    assert [r.round for r in source.resolved_results(ALPHA, 999)] == [1000, 1001, 1002, 1003]
    source.memory = type(source.memory)()
    fake.set_scores(ALPHA, 1002, {})  # the answer lacks round 1002's rows, a round the model was scored in
    with pytest.raises(SourceError, match="round 1002: .*truncated"):
        source.resolved_results(ALPHA, 1001)  # before: round 1002 posted as missed (zero return)


# ============================================================================================ Medium: a stuck nonce


def _b(tx_hash) -> bytes:
    return bytes.fromhex(tx_hash[2:]) if isinstance(tx_hash, str) else bytes(tx_hash)


class FakeEth:
    """Just enough of web3.eth for the sender: a node whose mempool holds one transaction of ours."""

    def __init__(self):
        self.pending = {}  # hash -> tx dict
        self.receipts = {}
        self.mined_nonce = 0
        self.sent = []
        self.block_number = 100
        self.chain_id = 1337
        self.gas_price = 3 * 10**9
        self.max_priority_fee = 10**9

    def get_block(self, _):
        return {"baseFeePerGas": 10**9, "timestamp": 1000, "number": self.block_number}

    def get_transaction(self, tx_hash):
        if _b(tx_hash) not in self.pending:
            raise TransactionNotFound("no such transaction")
        return self.pending[_b(tx_hash)]

    def get_transaction_receipt(self, tx_hash):
        if _b(tx_hash) not in self.receipts:
            raise TransactionNotFound("not mined")
        return self.receipts[_b(tx_hash)]

    def get_transaction_count(self, address, which):
        return self.mined_nonce + (len({t["nonce"] for t in self.pending.values()}) if which == "pending" else 0)

    def send_raw_transaction(self, raw):
        from eth_account.typed_transactions import TypedTransaction
        from hexbytes import HexBytes

        tx = TypedTransaction.from_bytes(HexBytes(bytes(raw))).as_dict()
        tx_hash = keccak(bytes(raw))
        self.sent.append(tx)
        self.pending[tx_hash] = {**tx, "input": tx["data"], "hash": tx_hash}
        return tx_hash

    def wait_for_transaction_receipt(self, tx_hash, timeout, poll_latency):
        # the bumped copy is mined at once
        receipt = {"status": 1, "blockNumber": self.block_number + 1, "transactionHash": _b(tx_hash), "gasUsed": 21000}
        self.receipts[_b(tx_hash)] = receipt
        self.mined_nonce += 1
        return receipt


class FakeW3:
    def __init__(self):
        self.eth = FakeEth()


def test_a_stuck_transaction_is_re_sent_with_bumped_fees(tmp_path):
    w3 = FakeW3()
    store = ProgressStore(str(tmp_path / "p.sqlite"), 1337, ORACLE, clock=lambda: time.time() - 3600)
    stuck = {
        "to": "0x" + "56" * 20,
        "data": b"\x12\x34",
        "value": 0,
        "gas": 100_000,
        "nonce": 0,
        "chainId": 1337,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "type": 2,
    }
    signed = KEY.sign_transaction(stuck)
    stuck_hash = bytes(signed.hash)
    w3.eth.pending[stuck_hash] = {**stuck, "input": stuck["data"]}
    store.record_tx(stuck_hash, KEY.address, 0, "post")
    service = OracleService.__new__(OracleService)
    service.w3, service.store, service.sender_account = w3, store, KEY
    service.config = type("C", (), {"confirmations": 0, "stuck_after": 60, "receipt_timeout": 60, "lease_ttl": 60})()
    service.log = JsonLog(open(os.devnull, "w"))
    service._renew = lambda: None
    service.sender = TxSender(w3, KEY, 1337, RevertDecoder([]), service.log, store, receipt_timeout=1)
    service.reconcile_transactions()
    (resent,) = w3.eth.sent  # before: only logged "tx_pending", and every later send took nonce 1
    assert resent["nonce"] == 0
    assert resent["maxFeePerGas"] > stuck["maxFeePerGas"] and resent["maxPriorityFeePerGas"] > 10**9
    assert bytes(resent["data"]) == stuck["data"] and "0x" + bytes(resent["to"]).hex() == stuck["to"]
    assert {t.status for t in store.txs() if t.tx_hash != "0x" + stuck_hash.hex()} == {"mined"}


def test_a_mined_transaction_reorganised_away_goes_back_to_pending(tmp_path):
    w3 = FakeW3()
    store = ProgressStore(str(tmp_path / "p.sqlite"), 1337, ORACLE)
    store.record_tx(b"\7" * 32, KEY.address, 0, "post")
    store.set_tx_status(b"\7" * 32, "mined")
    store.set_tx_block(b"\7" * 32, 99)  # no receipt on the node any more: its block was orphaned
    service = OracleService.__new__(OracleService)
    service.w3, service.store, service.sender_account = w3, store, KEY
    service.config = type("C", (), {"confirmations": 2, "stuck_after": 10**9, "receipt_timeout": 60})()
    service.log = JsonLog(open(os.devnull, "w"))
    service.sender = TxSender(w3, KEY, 1337, RevertDecoder([]), service.log, store)
    w3.eth.mined_nonce = 0
    w3.eth.pending[b"\7" * 32] = {"nonce": 0}
    service.reconcile_transactions()
    assert [t.status for t in store.txs()] == ["sent"]


def test_fees_without_eth_max_priority_fee_use_the_node_gas_price_and_say_so():
    from web3.exceptions import Web3RPCError

    class NoTipEth(FakeEth):
        @property
        def max_priority_fee(self):
            raise Web3RPCError("method not found")

        @max_priority_fee.setter
        def max_priority_fee(self, _):
            pass

    w3 = FakeW3()
    w3.eth = NoTipEth()
    lines = []

    class Log:
        observers = []

        def __call__(self, event, level="info", **fields):
            lines.append((event, level))

    fees = TxSender(w3, KEY, 1337, RevertDecoder([]), Log()).fees()
    assert fees["maxPriorityFeePerGas"] == 2 * 10**9  # gas price 3 gwei less the 1 gwei base fee
    assert ("fee_estimate_fallback", "warning") in lines


def test_receipt_lets_other_errors_through():
    w3 = FakeW3()
    w3.eth.get_transaction_receipt = lambda h: (_ for _ in ()).throw(RuntimeError("a bug, not 'not mined'"))
    with pytest.raises(RuntimeError):
        TxSender(w3, KEY, 1337, RevertDecoder([]), JsonLog(open(os.devnull, "w"))).receipt(b"\1" * 32)


# ============================================================================================ Low


def test_rpc_urls_are_redacted_in_logs():
    import io

    stream = io.StringIO()
    JsonLog(stream)(
        "rpc_error",
        level="error",
        error="HTTPSConnectionPool: https://mainnet.infura.io/v3/"
        "0123456789abcdef?x=1 timed out; https://user:pw@rpc.example.org/key/abc",
    )
    line = stream.getvalue()
    assert "0123456789abcdef" not in line and "pw@" not in line and "/key/abc" not in line
    assert "https://mainnet.infura.io/<redacted>" in line and "https://rpc.example.org/<redacted>" in line
    assert redact("http://127.0.0.1:8545") == "http://127.0.0.1:8545"


def test_to_int_refuses_a_huge_exponent_at_once():
    started = time.monotonic()
    with pytest.raises(SourceError, match="too large"):
        to_int("1e999999999", "round 1", "close time")
    with pytest.raises(SourceError, match="101-character number"):
        to_int("1" * 101, "round 1", "close time")
    assert time.monotonic() - started < 1


def test_keystore_and_password_file_readable_by_others_are_refused(tmp_path):
    path = tmp_path / "k.json"
    new_keystore(str(path), "pw", private_key=KEY.key, kdf="pbkdf2", iterations=1000)
    path.chmod(0o644)
    with pytest.raises(KeystoreError, match="chmod 600"):
        load_keystore(str(path), "pw")
    password = tmp_path / "pw"
    password.write_text("secret\n")
    password.chmod(0o640)
    with pytest.raises(KeystoreError, match="can be read by other users"):
        PasswordSource(file=str(password)).read("x")


def test_an_empty_first_password_line_is_refused(tmp_path):
    password = tmp_path / "pw"
    password.write_text("\nsecret\n")
    password.chmod(0o600)
    with pytest.raises(KeystoreError, match="first line is empty"):
        PasswordSource(file=str(password)).read("x")  # before: decrypted with "" (a keystore with no password)


# ============================================================================================ health


def test_health_status_file_and_prometheus_text(tmp_path):
    now = [1000.0]
    health = Health("sender", str(tmp_path / "status.json"), clock=lambda: now[0])
    log = JsonLog(open(os.devnull, "w"))
    log.observers.append(health.observe)
    log("report_differs", level="warning")
    health.model(UUID_A, resolved=12, posted=10, final=8, fallback_seconds=3600, disputes_open=1)
    health.transactions([{"tx_hash": "0x01", "kind": "post", "nonce": 3, "age_seconds": 240}])
    health.pass_done(0)
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["last_exit_code"] == 0 and status["last_success_at"] == 1000.0
    assert status["models"][UUID_A]["lag_rounds"] == 2
    assert status["warnings"] == {"report_differs:warning": 1}
    now[0] = 1100.0
    health.pass_done(0, lease_held=True)  # "lease held" is not a success
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["last_success_at"] == 1000.0 and status["lease_held_by_other"] is True
    text = health.prometheus()
    assert 'backing_oracle_model_lag_rounds{model="%s"} 2' % UUID_A in text
    assert 'backing_oracle_model_fallback_seconds{model="%s"} 3600' % UUID_A in text
    assert 'backing_oracle_last_success_timestamp_seconds{role="sender"} 1000' in text
    assert 'backing_oracle_oldest_open_transaction_seconds{role="sender"} 240' in text
    assert 'backing_oracle_log_events_total{event="report_differs",level="warning"} 1' in text
    for line in text.splitlines():  # the exposition format: comments, or `name{labels} value`
        assert line.startswith("# ") or line.split(" ")[-1].lstrip("-").replace(".", "").isdigit()


def test_metrics_endpoint_serves_prometheus_text():
    import urllib.request

    health = Health("cosigner")
    health.pass_done(3)
    server = MetricsServer(health, port=0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as answer:
            assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert 'backing_oracle_last_pass_exit_code{role="cosigner"} 3' in answer.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/status", timeout=5) as answer:
            assert json.loads(answer.read())["last_exit_code"] == 3
    finally:
        server.stop()
