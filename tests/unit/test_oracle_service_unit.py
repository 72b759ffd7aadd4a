"""Oracle service pieces without a chain: keystores, the progress store and its lease, the signature directory,
report formatting and bounds, revert decoding, and the `backing oracle` command line (argument errors, dry run
from a source alone)."""

import json
import os
import stat
from decimal import Decimal

import pytest
from eth_account import Account
from eth_utils import keccak

from backing.cli import main as backing_main
from oracle import cli as oracle_cli
from oracle import typed_data as td
from oracle.abi import RevertDecoder, load_abi
from oracle.errors import EXIT_SOURCE, EXIT_USAGE
from oracle.exchange import SignatureDirectory, Statement
from oracle.keys import KeystoreError, PasswordSource, load_keystore, load_keystores, new_keystore
from oracle.model import RoundResult, Source, SourceError, report_json
from oracle.store import ProgressStore
from oracle.units import fixed_decimal as fixed_to_decimal_string
from oracle.units import model_uuid as uuid_from_model_id
from oracle.validate import check_report_bounds

ONE = 10**18
UUID_A = "0a1b2c3d-0000-4000-8000-00000000000a"
UUID_B = "0a1b2c3d-0000-4000-8000-00000000000b"
ORACLE = "0x" + "12" * 20
FAST_KDF = {"kdf": "pbkdf2", "iterations": 1000}  # keystores in tests: scrypt's default cost is seconds each


def result(uuid, round_, corr="0.02", mmc="-0.01", missed=False):
    if missed:
        return RoundResult(uuid, round_, missed=True)
    return RoundResult(
        uuid,
        round_,
        {"CORR20": Decimal(corr), "MMC": Decimal(mmc)},
        {"CORR20": Decimal("0.5"), "MMC": Decimal(2)},
        Decimal("0.75"),
        Decimal("0.05"),
    )


class ListSource(Source):
    """Results from memory; models in `failing` raise SourceError."""

    name = "list"

    def __init__(self, results, rounds=(), failing=()):
        self.results, self.rounds, self.failing = results, list(rounds), set(failing)

    def schedule(self, after_round):
        return [r for r in self.rounds if r.round > after_round]

    def resolved_results(self, model_id, after_round):
        if model_id in self.failing:
            raise SourceError(f"model {model_id}: numerai answered HTTP 500")
        return [r for r in self.results.get(model_id, []) if r.round > after_round]


# ============================================================================================ keys


def test_keystore_round_trip_and_permissions(tmp_path):
    path = tmp_path / "signer.json"
    key = keccak(text="unit-signer")
    account = new_keystore(str(path), "correct horse", private_key=key, **FAST_KDF)
    assert account.address == Account.from_key(key).address
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keystore(str(path), "correct horse").key == key


def test_keystore_wrong_password_and_garbage(tmp_path):
    path = tmp_path / "signer.json"
    new_keystore(str(path), "right", private_key=keccak(text="k"), **FAST_KDF)
    with pytest.raises(KeystoreError, match="cannot decrypt keystore"):
        load_keystore(str(path), "wrong")
    (tmp_path / "junk.json").write_text("not json")
    (tmp_path / "junk.json").chmod(0o600)
    with pytest.raises(KeystoreError, match="is not JSON"):
        load_keystore(str(tmp_path / "junk.json"), "x")
    with pytest.raises(KeystoreError, match="cannot read keystore"):
        load_keystore(str(tmp_path / "missing.json"), "x")


def test_keystore_never_overwritten_nor_empty_password(tmp_path):
    path = tmp_path / "signer.json"
    first = new_keystore(str(path), "pw", private_key=keccak(text="a"), **FAST_KDF)
    with pytest.raises(KeystoreError, match="exists; not overwriting"):
        new_keystore(str(path), "pw", private_key=keccak(text="b"), **FAST_KDF)
    assert load_keystore(str(path), "pw").address == first.address
    with pytest.raises(KeystoreError, match="empty password"):
        new_keystore(str(tmp_path / "other.json"), "")


def test_password_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("ORACLE_PW", "from env")
    assert PasswordSource(env="ORACLE_PW").read("x") == "from env"
    monkeypatch.delenv("ORACLE_PW")
    with pytest.raises(KeystoreError, match="ORACLE_PW"):
        PasswordSource(env="ORACLE_PW").read("x")
    (tmp_path / "pw").write_text("from file\nsecond line\n")
    (tmp_path / "pw").chmod(0o600)
    assert PasswordSource(file=str(tmp_path / "pw")).read("x") == "from file"
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed " + prompt)
    assert PasswordSource().read("k.json") == "typed Password for k.json: "


def test_load_keystores_shares_one_password(tmp_path):
    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"k{i}.json"))
        new_keystore(paths[-1], "shared", private_key=keccak(text=f"key{i}"), **FAST_KDF)
    (tmp_path / "pw").write_text("shared\n")
    (tmp_path / "pw").chmod(0o600)
    accounts = load_keystores(paths, PasswordSource(file=str(tmp_path / "pw")))
    assert [a.key for a in accounts] == [keccak(text="key0"), keccak(text="key1")]


def test_cli_keystore_new(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEW_PW", "s3cret")
    out = tmp_path / "new.json"
    assert oracle_cli.main(["keystore", "new", "--out", str(out), "--password-env", "NEW_PW"]) == 0
    address = capsys.readouterr().out.strip()
    assert load_keystore(str(out), "s3cret").address == address
    # a second run with the same --out is refused, the key survives
    assert oracle_cli.main(["keystore", "new", "--out", str(out), "--password-env", "NEW_PW"]) == EXIT_USAGE
    assert "exists; not overwriting" in capsys.readouterr().err
    assert load_keystore(str(out), "s3cret").address == address


def test_cli_keystore_new_prompt_mismatch(tmp_path, monkeypatch, capsys):
    answers = iter(["one", "two"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert oracle_cli.main(["keystore", "new", "--out", str(tmp_path / "k.json")]) == EXIT_USAGE
    assert "passwords differ" in capsys.readouterr().err
    assert not (tmp_path / "k.json").exists()


def test_backing_cli_dispatches_oracle(capsys):
    assert backing_main(["oracle", "run", "--json"]) == EXIT_USAGE
    assert capsys.readouterr().err == "backing oracle: error: --json goes with --dry-run\n"


# ============================================================================================ store


def report(uuid, round_, value=ONE // 100):
    return td.Report(td.model_id_from_uuid(uuid), 8, round_, False, (td.to_bytes32("RET"),), (value,), (ONE,), ONE, ONE)


def test_store_report_lifecycle(tmp_path):
    store = ProgressStore(str(tmp_path / "p.sqlite"), 1337, ORACLE)
    r1, r2 = report(UUID_A, 1), report(UUID_A, 2)
    store.record_signed([r1, r2], b"\x01" * 32)
    assert [r.status for r in store.reports()] == ["signed", "signed"]
    store.record_sent([r1, r2], b"\xaa" * 32, 7)
    row = store.report(r1.model_id, 1)
    assert (row.status, row.tx_hash, row.nonce, row.digest) == ("sent", "0x" + "aa" * 32, 7, "0x" + "01" * 32)
    assert store.record_on_chain(r1.model_id, 1, r1.struct_hash()) == "posted"
    assert store.record_on_chain(r2.model_id, 2, b"\x99" * 32) == "posted_other"
    assert store.record_on_chain(r2.model_id, 3, b"\x99" * 32) is None
    # re-signing (a new deadline) never touches a round already on-chain
    store.record_signed([r1, report(UUID_A, 3)], b"\x02" * 32)
    assert [(r.round, r.status) for r in store.reports(r1.model_id)] == [
        (1, "posted"),
        (2, "posted_other"),
        (3, "signed"),
    ]
    assert store.report(r1.model_id, 1).digest == "0x" + "01" * 32
    # rows are scoped per chain and oracle
    other = ProgressStore(str(tmp_path / "p.sqlite"), 1, ORACLE)
    assert other.reports() == []


def test_store_transactions(tmp_path):
    store = ProgressStore(str(tmp_path / "p.sqlite"), 1337, ORACLE)
    store.record_tx(b"\x01" * 32, "0xAbC0000000000000000000000000000000000001", 3, "post", b"\x05" * 32)
    store.record_tx(b"\x02" * 32, "0xabc0000000000000000000000000000000000001", 3, "post", b"\x05" * 32)
    assert [t.nonce for t in store.open_txs("0xABC0000000000000000000000000000000000001")] == [3, 3]
    store.set_tx_status(b"\x01" * 32, "dropped")
    store.set_tx_status(b"\x02" * 32, "mined")
    assert store.open_txs() == []
    assert [t.status for t in store.txs()] == ["dropped", "mined"]


def test_store_lease(tmp_path):
    now = [1000.0]
    path = str(tmp_path / "p.sqlite")
    first = ProgressStore(path, 1337, ORACLE, clock=lambda: now[0])
    second = ProgressStore(path, 1337, ORACLE, clock=lambda: now[0])
    assert first.acquire_lease("a", ttl=60)
    assert not second.acquire_lease("b", ttl=60)
    assert first.acquire_lease("a", ttl=60)  # renewal by the holder
    now[0] += 61
    assert second.acquire_lease("b", ttl=60)  # expired: taken over
    assert not first.acquire_lease("a", ttl=60)
    assert second.lease_holder() == ("b", 1121.0)
    first.release_lease("a")  # not the holder: no effect
    assert first.lease_holder()[0] == "b"
    second.release_lease("b")
    assert first.lease_holder() is None
    assert first.acquire_lease("a", ttl=60)
    # another oracle has its own lease
    assert ProgressStore(path, 1337, "0x" + "34" * 20, clock=lambda: now[0]).acquire_lease("c", ttl=60)


# ============================================================================================ exchange

DOMAIN = td.Domain(1337, "0x" + "56" * 20)
KEYS = [Account.from_key(keccak(text=f"exchange-{i}")) for i in range(3)]


def batch_statement(deadline=10_000):
    return Statement("ReportBatch", td.batch_message([report(UUID_A, 1), report(UUID_B, 1, -ONE)], deadline))


def test_statement_json_round_trip_keeps_digest():
    statement = batch_statement()
    data = json.loads(json.dumps(statement.to_json(DOMAIN)))
    back, domain = Statement.from_json(data)
    assert domain == DOMAIN
    assert back.digest(domain) == statement.digest(DOMAIN)
    assert back.reports() == [report(UUID_A, 1), report(UUID_B, 1, -ONE)]
    announcement = Statement("RoundAnnouncement", td.announcement_message(8, 5, [100, 200], 9))
    back, _ = Statement.from_json(json.loads(json.dumps(announcement.to_json(DOMAIN))))
    assert back == announcement


def test_signature_directory_collects_valid_signatures_only(tmp_path):
    directory = SignatureDirectory(str(tmp_path / "sigs"))
    statement = batch_statement()
    digest = directory.propose(DOMAIN, statement)
    assert [(d, s) for d, s, _ in directory.proposals()] == [(digest, statement)]
    allowed = {k.address.lower() for k in KEYS[:2]}
    ((address, signature),) = td.sign(DOMAIN, statement.primary, statement.message, [KEYS[0]])
    directory.add_signature(digest, address, signature)
    # a signature filed under another signer's name, and one by a key outside the set, do not count
    directory.add_signature(digest, KEYS[1].address, signature)
    ((outsider, outsider_sig),) = td.sign(DOMAIN, statement.primary, statement.message, [KEYS[2]])
    directory.add_signature(digest, outsider, outsider_sig)
    (tmp_path / "sigs" / f"{digest.hex()}.{KEYS[1].address.lower()}.sig").write_text("0xzz")
    sleeps = []
    found = directory.collect(
        DOMAIN,
        statement,
        allowed,
        quorum=2,
        timeout=1.0,
        poll=0.25,
        sleep=sleeps.append,
        clock=iter([0.0, 0.0, 0.5, 1.0, 1.5]).__next__,
    )
    assert found == {KEYS[0].address.lower(): signature}
    assert sleeps == [0.25, 0.25]
    ((_, good),) = td.sign(DOMAIN, statement.primary, statement.message, [KEYS[1]])
    directory.add_signature(digest, KEYS[1].address, good)
    assert directory.collect(DOMAIN, statement, allowed, quorum=2, timeout=0) == {
        KEYS[0].address.lower(): signature,
        KEYS[1].address.lower(): good,
    }


def test_signature_directory_ignores_garbage_and_prunes(tmp_path):
    directory = SignatureDirectory(str(tmp_path))
    (tmp_path / ("ab" * 32 + ".json")).write_text("{not json")
    (tmp_path / ("cd" * 32 + ".json")).write_text(json.dumps(batch_statement().to_json(DOMAIN)))  # wrong name
    assert directory.proposals() == []
    old = directory.propose(DOMAIN, batch_statement(deadline=100))
    fresh = directory.propose(DOMAIN, batch_statement(deadline=10_000))
    directory.add_signature(old, KEYS[0].address, b"\1" * 65)
    assert directory.prune(now=100 + 3601) == 2
    assert [d for d, _, _ in directory.proposals()] == [fresh]


# ============================================================================================ reports


def test_fixed_to_decimal_string_is_exact():
    assert [fixed_to_decimal_string(v) for v in (0, ONE, -ONE, 1, -1, 15 * 10**16, 123456789012345678901)] == [
        "0",
        "1",
        "-1",
        "0.000000000000000001",
        "-0.000000000000000001",
        "0.15",
        "123.456789012345678901",
    ]


def test_report_json_is_exact():
    rep = result(UUID_A, 7, corr="0.0123", mmc="-0.0045").to_report(8)
    data = report_json(rep)
    # 0.75 * (0.5 * 0.0123 + 2 * -0.0045) = 0.75 * -0.00285 = -0.0021375
    assert data == {
        "model_id": "0x" + UUID_A.replace("-", "") + "00" * 16,
        "model_uuid": UUID_A,
        "tournament": 8,
        "round": 7,
        "missed": False,
        "scores": {"CORR20": "0.0123", "MMC": "-0.0045"},
        "multipliers": {"CORR20": "0.5", "MMC": "2"},
        "payout_factor": "0.75",
        "clip": "0.05",
        "round_return": "-0.0021375",
        "report_hash": "0x" + rep.struct_hash().hex(),
    }
    missed = report_json(result(UUID_A, 8, missed=True).to_report(8))
    assert (missed["missed"], missed["scores"], missed["round_return"], missed["clip"]) == (True, {}, "0", "0")


def test_uuid_from_model_id():
    assert uuid_from_model_id(td.model_id_from_uuid(UUID_A)) == UUID_A
    assert uuid_from_model_id(b"\x01" * 32) is None


@pytest.mark.parametrize(
    "change, problem",
    [
        ({}, None),
        ({"tournament": 11}, "tournament 11, oracle expects 8"),
        ({"clip": 6 * 10**16}, "clip 0.06 outside (0, 0.05]"),
        ({"clip": 0}, "clip 0 outside (0, 0.05]"),
        ({"payout_factor": ONE + 1}, "payout factor 1.000000000000000001 outside [0, 1]"),
        ({"scores": (ONE + 1, 0)}, "CORR20 score 1.000000000000000001 outside [-1, 1]"),
        ({"multipliers": (0, 11 * ONE)}, "MMC multiplier 11 outside [0, 10]"),
        ({"score_names": (td.to_bytes32("A"), td.to_bytes32("A"))}, "empty or duplicate score name"),
        ({"scores": (1,)}, "scores, names and multipliers differ in length"),
        ({"score_names": (), "scores": (), "multipliers": ()}, "no scores"),
        ({"missed": True}, "a missed round carries scores"),
    ],
)
def test_check_report_bounds(change, problem):
    from dataclasses import replace

    rep = replace(result(UUID_A, 1).to_report(8), **change)
    assert check_report_bounds(rep, 8, 5 * 10**16, 10 * ONE) == problem


def test_revert_decoder_reads_custom_errors():
    decoder = RevertDecoder(load_abi())
    from eth_abi import encode

    data = "0x" + (keccak(text="QuorumNotMet(uint256,uint256)")[:4] + encode(["uint256", "uint256"], [1, 2])).hex()
    assert decoder.decode(data) == ("QuorumNotMet", (1, 2))
    assert decoder.decode({"message": "revert", "data": {"0xabc": {"return": data}}}) == ("QuorumNotMet", (1, 2))
    model = b"\x07" * 32
    data = keccak(text="RoundNotNext(bytes32,uint256,uint256)")[:4] + encode(
        ["bytes32", "uint256", "uint256"], [model, 5, 3]
    )
    assert decoder.decode(data) == ("RoundNotNext", (model, 5, 3))
    assert decoder.decode("0xdeadbeef") is None


# ============================================================================================ command line


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--json"], "--json goes with --dry-run"),
        (["run"], "run needs --rpc URL (or $BACKING_RPC_URL) and --oracle ADDRESS"),
        (["run", "--rpc", "http://127.0.0.1:1"], "run needs --rpc URL (or $BACKING_RPC_URL) and --oracle ADDRESS"),
        (
            ["run", "--rpc", "http://127.0.0.1:1", "--oracle", ORACLE, "--keystore", "k.json"],
            "give --sender-keystore to post, or --signature-dir to co-sign",
        ),
        (["run", "--rpc", "http://127.0.0.1:1", "--oracle", ORACLE, "--sender-keystore", "s.json"], "no signer keys"),
        (["run", "--dry-run"], "--dry-run without --rpc needs --model UUID"),
        (["run", "--dry-run", "--rpc", "http://127.0.0.1:1"], "--rpc needs --oracle ADDRESS"),
        (["run", "--dry-run", "--source", "file", "--model", UUID_A], "--source file needs --file PATH"),
    ],
)
def test_cli_argument_errors(argv, message, capsys, monkeypatch):
    for name in ("BACKING_RPC_URL", "BACKING_ORACLE", "BACKING_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)  # a real run would take them from the environment
    assert oracle_cli.main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--once", "--interval", "5"], "not allowed with argument"),
        (["run", "--interval", "0"], "must be positive"),
        (["run", "--model", "not-a-uuid"], "is not a model UUID"),
        (["run", "--oracle", "0x1234"], "is not a 0x address"),
        (["run", "--source", "oracle"], "invalid choice"),
        (["run", "--password-env", "A", "--password-file", "B"], "not allowed with argument"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_cli_argparse_errors(argv, message, capsys):
    assert oracle_cli.main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_cli_unreadable_keystore_password_is_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(oracle_cli, "make_source", lambda args, limits=None: ListSource({}))
    monkeypatch.delenv("MISSING_PW", raising=False)
    new_keystore(str(tmp_path / "k.json"), "pw", private_key=keccak(text="k"), **FAST_KDF)
    code = oracle_cli.main(
        [
            "run",
            "--rpc",
            "http://127.0.0.1:1",
            "--oracle",
            ORACLE,
            "--keystore",
            str(tmp_path / "k.json"),
            "--sender-keystore",
            str(tmp_path / "k.json"),
            "--password-env",
            "MISSING_PW",
            "--db",
            str(tmp_path / "p.sqlite"),
        ]
    )
    assert code == EXIT_USAGE
    assert "environment variable MISSING_PW" in capsys.readouterr().err
    (tmp_path / "pw").write_text("wrong\n")
    (tmp_path / "pw").chmod(0o600)
    code = oracle_cli.main(
        [
            "run",
            "--rpc",
            "http://127.0.0.1:1",
            "--oracle",
            ORACLE,
            "--keystore",
            str(tmp_path / "k.json"),
            "--sender-keystore",
            str(tmp_path / "k.json"),
            "--password-file",
            str(tmp_path / "pw"),
            "--db",
            str(tmp_path / "p.sqlite"),
        ]
    )
    assert code == EXIT_USAGE
    assert "cannot decrypt keystore" in capsys.readouterr().err


def test_cli_missing_abi_is_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(oracle_cli, "make_source", lambda args, limits=None: ListSource({}))
    code = oracle_cli.main(
        ["run", "--dry-run", "--rpc", "http://127.0.0.1:1", "--oracle", ORACLE, "--abi", str(tmp_path / "nope.json")]
    )
    assert code == EXIT_USAGE
    assert "nope.json not found" in capsys.readouterr().err


def test_cli_dry_run_offline_json(monkeypatch, capsys):
    source = ListSource(
        {
            UUID_A: [result(UUID_A, 1, "0.02", "-0.01"), result(UUID_A, 2, missed=True)],
            UUID_B: [result(UUID_B, 1, "1", "1")],
        }
    )
    monkeypatch.setattr(oracle_cli, "make_source", lambda args, limits=None: source)
    assert oracle_cli.main(["run", "--dry-run", "--json", "--model", UUID_A, "--model", UUID_B]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["model_uuid"], d["round"], d["missed"], d["round_return"]) for d in lines] == [
        (UUID_A, 1, False, "-0.0075"),  # 0.75 * (0.5 * 0.02 + 2 * -0.01) = -0.0075
        (UUID_A, 2, True, "0"),
        (UUID_B, 1, False, "0.05"),  # 0.75 * 2.5 = 1.875, clipped to 0.05
    ]
    assert lines[0]["scores"] == {"CORR20": "0.02", "MMC": "-0.01"}
    assert lines[2]["clip"] == "0.05" and lines[2]["payout_factor"] == "0.75"


def test_cli_dry_run_offline_source_error_skips_one_model(monkeypatch, capsys):
    source = ListSource({UUID_B: [result(UUID_B, 1)]}, failing={UUID_A})
    monkeypatch.setattr(oracle_cli, "make_source", lambda args, limits=None: source)
    code = oracle_cli.main(["run", "--dry-run", "--json", "--model", UUID_A, "--model", UUID_B])
    captured = capsys.readouterr()
    assert code == EXIT_SOURCE
    assert [json.loads(line)["model_uuid"] for line in captured.out.splitlines()] == [UUID_B]
    errors = [json.loads(line) for line in captured.err.splitlines()]
    assert [(e["event"], e["level"], e["model"]) for e in errors] == [("source_error", "error", UUID_A)]
    assert "HTTP 500" in errors[0]["error"]


def test_cli_dry_run_offline_text(monkeypatch, capsys):
    monkeypatch.setattr(oracle_cli, "make_source", lambda args, limits=None: ListSource({UUID_A: [result(UUID_A, 3)]}))
    assert oracle_cli.main(["run", "--dry-run", "--model", UUID_A]) == 0
    assert capsys.readouterr().out == (f"{UUID_A} round 3: return -0.0075 (CORR20 0.02, MMC -0.01)\n")


def test_cli_dry_run_rpc_down(monkeypatch, capsys):
    monkeypatch.setattr(oracle_cli, "make_source", lambda args, limits=None: ListSource({}))
    code = oracle_cli.main(["run", "--dry-run", "--rpc", "http://127.0.0.1:9", "--oracle", ORACLE])
    assert code == 4
    assert json.loads(capsys.readouterr().err.splitlines()[-1])["event"] == "rpc_error"


def test_cli_dry_run_offline_from_a_csv_file(tmp_path, capsys):
    path = tmp_path / "rounds.csv"
    path.write_text(
        "model_id,round,close_time,missed,CORR20,MMC,mult_CORR20,mult_MMC,payout_factor,clip\n"
        f"{UUID_A},1000,1767272400,false,0.0123,-0.0045,0.5,2,1,0.05\n"
        f"{UUID_A},1001,1767358800,true,,,,,,\n"
    )
    assert (
        oracle_cli.main(["run", "--dry-run", "--json", "--source", "file", "--file", str(path), "--model", UUID_A]) == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # 0.5 * 0.0123 + 2 * -0.0045 = -0.00285
    assert [(d["round"], d["missed"], d["round_return"], d["scores"]) for d in lines] == [
        (1000, False, "-0.00285", {"CORR20": "0.0123", "MMC": "-0.0045"}),
        (1001, True, "0", {}),
    ]


def test_cli_dry_run_offline_from_the_fake_numerai_api(capsys):
    from oracle.testing.fake_numerai import FakeNumerai, start

    fake = FakeNumerai()
    fake.add_round(1000, open_time=1767268800, resolved=True, payout_factor="0.8")
    fake.add_round(1001, open_time=1767268800 + 86400, resolved=False)
    fake.add_model(UUID_A, "alpha")
    fake.set_scores(UUID_A, 1000, {"CORR20": "0.0123", "MMC": "-0.0045"})
    server, url = start(fake)
    try:
        assert (
            oracle_cli.main(
                ["run", "--dry-run", "--json", "--source", "numerai", "--numerai-url", url, "--model", UUID_A]
            )
            == 0
        )
    finally:
        server.stop()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # 0.8 * (0.5 * 0.0123 + 2 * -0.0045) = -0.00228; round 1001 is not resolved yet
    assert [(d["round"], d["round_return"], d["payout_factor"], d["clip"]) for d in lines] == [
        (1000, "-0.00228", "0.8", "0.05")
    ]


def test_cli_model_name_must_be_uuid_equals_name(capsys):
    assert oracle_cli.main(["run", "--model-name", "alpha"]) == EXIT_USAGE
    assert "is not UUID=NAME" in capsys.readouterr().err


def test_lease_of_a_killed_process_on_this_host_is_taken_over(tmp_path):
    """A process killed mid-run (kill -9) leaves its lease; a restart on the same host must not wait it out."""
    import socket
    import subprocess
    import sys

    from web3 import Web3

    from oracle.service import OracleService

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = ProgressStore(str(tmp_path / "p.sqlite"), 1337, ORACLE)
    assert store.acquire_lease(f"{socket.gethostname()}:{dead.pid}:deadbeef", ttl=3600)
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9"))  # never contacted: the lease is local
    service = OracleService(w3, ORACLE, load_abi(), ListSource({}), [], store=store)
    service.store = store
    assert service._lease()
    assert store.lease_holder()[0] == service.holder
    # a live holder (this very process, another instance) is respected
    other = OracleService(w3, ORACLE, load_abi(), ListSource({}), [], store=store)
    other.store = store
    assert not other._lease()


def test_lease_of_an_earlier_process_with_our_pid_is_taken_over(tmp_path):
    """Issue 22 (Low): a restarted container is the same host and PID 1 again; its previous incarnation's lease
    must not make it idle until the lease expires (and exit 0 as if all were well)."""
    import os
    import socket

    from web3 import Web3

    from oracle.service import OracleService

    store = ProgressStore(str(tmp_path / "p.sqlite"), 1337, ORACLE)
    assert store.acquire_lease(f"{socket.gethostname()}:{os.getpid()}:0ldb00t0:deadbeef", ttl=3600)
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9"))  # never contacted: the lease is local
    service = OracleService(w3, ORACLE, load_abi(), ListSource({}), [], store=store)
    service.store = store
    assert service._lease()
    assert store.lease_holder()[0] == service.holder
