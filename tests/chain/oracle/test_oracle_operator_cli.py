"""The oracle operator's commands on a chain, as an operator types them (``backing oracle ...`` with keystore
files): register, watch, dispute, resolve, signers. Brownie only sets the scene (deploys, the agreement, time).

The story: the sender posts a wrong round (its source garbled it); `watch --once`, reading the right source,
disputes it inside the challenge window and posts the NMR bond (an allowance left over goes through zero first);
`resolve`, signed by the dispute quorum, replaces it with the right report and the bond goes back; the next
`watch` reports the resolution; the agreement locked on those rounds matures on the right value.

Runs like test_oracle_service.py (``--network anvil`` or a network of one's own, e.g. ``--network anvil-oc``)."""

import contextlib
import hashlib
import io
import json
import re
import threading

import pytest
from brownie import accounts, chain
from brownie import web3 as brownie_web3
from eth_account import Account
from eth_account.hdaccount import key_from_seed

from backing.model.agreement import next_index
from oracle import cli as oracle_cli
from oracle import typed_data as td
from oracle.keys import new_keystore
from oracle.watch import DISPUTED
from support.chain import MODEL_ID, NMR

ONE = 10**18
DAY = 86400
CONFTEST_UUID = "abababab-abab-abab-abab-abababababab"  # conftest's MODEL_ID as a Numerai UUID
NEW_UUID = "11111111-2222-4333-8444-555555555555"
PASSWORD = "operator password"
FAST_KDF = {"kdf": "pbkdf2", "iterations": 1000}


#: The mnemonics development nodes derive their funded accounts from: brownie's ("brownie", for networks that set
#: it) and anvil's default.
MNEMONICS = (b"brownie", b"test test test test test test test test test test test junk")


def local(account):
    """A node's unlocked development account as an eth-account key the commands can sign with (the BIP-39 seed
    derived by hand: eth-account refuses "brownie" as a mnemonic; see test_oracle_service.py)."""
    for phrase in MNEMONICS:
        seed = hashlib.pbkdf2_hmac("sha512", phrase, b"mnemonic", 2048)
        key = Account.from_key(key_from_seed(seed, f"m/44'/60'/0'/0/{list(accounts).index(account)}"))
        if key.address == account.address:
            return key
    raise AssertionError(f"{account.address}: not derived from a known development mnemonic")


def row(round_, close_time, corr, mmc="0"):
    return {
        "model_id": CONFTEST_UUID,
        "round": round_,
        "close_time": close_time,
        "scores": {"CORR20": corr, "MMC": mmc},
        "multipliers": {"CORR20": "0.5", "MMC": "2"},
        "payout_factor": "1",
        "clip": "0.05",
    }


class Operator:
    """Keystore files for the signers, the sender, a watcher and the oracle's owner, and `backing oracle` itself."""

    def __init__(self, tmp_path, oracle, signers, watcher, owner, capsys):
        self.tmp, self.oracle, self.capsys = tmp_path, oracle, capsys
        self.password = tmp_path / "pw"
        self.password.write_text(PASSWORD + "\n")
        self.password.chmod(0o600)
        self.files = {}
        keys = {f"signer{i}": k.key for i, k in enumerate(signers)}
        keys.update(sender=local(accounts[8]).key, watcher=local(watcher).key, owner=local(owner).key)
        for name, key in keys.items():
            self.files[name] = str(tmp_path / f"{name}.json")
            new_keystore(self.files[name], PASSWORD, private_key=key, **FAST_KDF)

    def common(self, password=True):
        return [
            "--rpc",
            brownie_web3.provider.endpoint_uri,
            "--oracle",
            self.oracle.address,
            *(["--password-file", str(self.password)] if password else []),
        ]

    def signers(self, *names):
        return [x for name in names for x in ("--keystore", self.files[name])]

    def run(self, *argv, stdin=None):
        """(exit code, stdout, stderr) of `backing oracle ARGV... --rpc --oracle --password-file` (no password
        file for `signers` alone, which reads only)."""
        self.capsys.readouterr()
        import sys

        saved = sys.stdin
        sys.stdin = stdin if stdin is not None else io.StringIO()  # no terminal: confirmation needs --yes
        try:
            reading = list(argv[:1]) == ["signers"] and (len(argv) == 1 or str(argv[1]).startswith("--"))
            code = oracle_cli.main([*map(str, argv), *self.common(password=not reading)])
        finally:
            sys.stdin = saved
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def operator(tmp_path, oracle, signers, deployer, capsys):
    return Operator(tmp_path, oracle, signers, accounts[9], deployer, capsys)


def finish_window(oracle):
    chain.sleep(oracle.challengeWindow() + 1)
    chain.mine()


def rows_files(oracle, tmp_path):
    """right.json (Numerai's values for rounds 1-3 of conftest's model) and wrong.json (round 2 garbled)."""
    first_close = oracle.roundCloseTime(1)
    closes = {r: first_close + (r - 1) * DAY for r in (1, 2, 3)}
    right_rows = [row(1, closes[1], "0.01"), row(2, closes[2], "0.04", "0.01"), row(3, closes[3], "-0.03", "0.005")]
    wrong_rows = [right_rows[0], row(2, closes[2], "0.9"), right_rows[2]]
    (tmp_path / "right.json").write_text(json.dumps(right_rows))
    (tmp_path / "wrong.json").write_text(json.dumps(wrong_rows))
    return right_rows, ["--source", "file", "--file", tmp_path / "right.json"]


def post_from(operator, path, db):
    """`backing oracle run --once` from the results file `path` (the sender with signers 0 and 1)."""
    code, _, err = operator.run(
        "run",
        "--once",
        "--source",
        "file",
        "--file",
        path,
        *operator.signers("signer0", "signer1"),
        "--sender-keystore",
        operator.files["sender"],
        "--db",
        db,
    )
    assert code == 0, err


@contextlib.contextmanager
def cosigners(oracle, keys, results_file, shared):
    """The other operators' `backing oracle run` (co-signers: no sender), each with one key and the same results
    file, passing in background threads while the body runs."""
    from web3 import Web3

    from oracle.abi import load_abi
    from oracle.log import JsonLog
    from oracle.service import OracleService, ServiceConfig
    from oracle.sources import FileSource

    services = [
        OracleService(
            Web3(Web3.HTTPProvider(brownie_web3.provider.endpoint_uri)),
            oracle.address,
            load_abi(),
            FileSource(str(results_file)),
            [key],
            sender=None,
            config=ServiceConfig(signature_dir=str(shared)),
            log=JsonLog(io.StringIO()),
        )
        for key in keys
    ]
    stop = threading.Event()

    def loop(service):
        while not stop.is_set():
            service.run_once()
            stop.wait(0.05)

    threads = [threading.Thread(target=loop, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    try:
        yield services
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_register_a_model_by_the_signer_quorum(operator, oracle, modeller):
    model = td.model_id_from_uuid(NEW_UUID)
    base = [
        "register",
        NEW_UUID,
        "--modeller",
        modeller.address,
        "--exposure",
        "0.5",
        "--first-round",
        4,
        "--sender-keystore",
        operator.files["sender"],
    ]
    code, out, err = operator.run(*base, *operator.signers("signer0"))
    assert code == 2 and "1 signer keystores given, a registration needs 2" in err
    code, out, err = operator.run(*base, *operator.signers("signer0", "signer1"), "--dry-run")
    assert code == 0, err
    assert f"model {NEW_UUID} to modeller {modeller.address}, exposure 0.5, from round 4" in out
    assert "dry run" in out and oracle.modelInfo(model)[0] == "0x" + "00" * 20
    code, out, err = operator.run(*base, *operator.signers("signer0", "signer1"))  # no terminal, no --yes
    assert (code, err.strip()) == (
        7,
        "backing oracle: error: no terminal to confirm on: add --yes to send without " "asking; nothing sent",
    )
    # one key per host: signer1 signs on his own host, the relayer adds it to signer0's
    deadline = chain.time() + 3600
    code, out, err = operator.run(
        "register",
        NEW_UUID,
        "--modeller",
        modeller.address,
        "--exposure",
        "0.5",
        "--first-round",
        4,
        "--deadline",
        deadline,
        *operator.signers("signer1"),
        "--sign-only",
    )
    assert code == 0, err
    signature = re.search(r"--signature (0x[0-9a-f]{130})", out).group(1)
    code, _, err = operator.run(*base, *operator.signers("signer0"), "--signature", signature, "--yes")
    assert code == 2 and "give --deadline UNIX" in err  # the relayer must sign what signer1 signed
    code, _, err = operator.run(
        *base, "--deadline", deadline + 1, *operator.signers("signer0"), "--signature", signature, "--yes"
    )
    assert code == 2 and "is not an oracle signer's signature of this registration" in err
    code, out, err = operator.run(
        *base, "--deadline", deadline, *operator.signers("signer0"), "--signature", signature, "--yes"
    )
    assert code == 0, err
    assert f"model {NEW_UUID} registered to {modeller.address} from round 4" in out
    assert tuple(oracle.modelInfo(model)) == (modeller.address, ONE // 2, 4, 3)
    code, out, err = operator.run(*base, *operator.signers("signer0", "signer1"), "--yes")
    assert code == 5 and err.count("\n") == 1 and "is already registered; nothing sent" in err


def test_change_modeller_by_the_quorum_through_the_timelock(operator, oracle, modeller, outsider, model_id, tmp_path):
    """Issue 12 L-5 from the operator's side: show, propose (one signer is not enough; a signer on his own host
    signs with --sign-only), cancel (owner), propose again, execute after the timelock."""
    uuid, new = CONFTEST_UUID, outsider.address
    code, out, err = operator.run("change-modeller", uuid)
    assert code == 0, err
    assert f"modeller {modeller.address}" in out and "no change of modeller pending" in out
    send = ["--sender-keystore", operator.files["sender"], "--yes"]
    code, _, err = operator.run("change-modeller", uuid, "--to", new, *operator.signers("signer0"), *send)
    assert code == 2 and "a change of modeller needs 2" in err
    code, _, err = operator.run("change-modeller", uuid, "--to", modeller.address, *operator.signers("signer0"), *send)
    assert code == 5 and f"is registered to {modeller.address} already: nothing to change" in err
    code, _, err = operator.run("change-modeller", uuid, "--execute", *send)
    assert code == 5 and "no change of model" in err and "is pending" in err

    deadline = chain.time() + 3600
    code, out, err = operator.run(
        "change-modeller", uuid, "--to", new, "--deadline", deadline, *operator.signers("signer1"), "--sign-only"
    )
    assert code == 0, err
    signature = re.search(r"--signature (0x[0-9a-f]{130})", out).group(1)
    code, out, err = operator.run(
        "change-modeller",
        uuid,
        "--to",
        new,
        "--deadline",
        deadline,
        *operator.signers("signer0"),
        "--signature",
        signature,
        *send,
    )
    assert code == 0, err
    assert "change proposed" in out and oracle.modellerChangeOf(model_id)[0] == new
    code, out, err = operator.run("change-modeller", uuid, "--json")
    shown = json.loads(out)
    assert shown["modeller"] == modeller.address and shown["pending"]["to"] == new
    code, _, err = operator.run("change-modeller", uuid, "--execute", *send)
    assert code == 5 and "the change can be executed from" in err  # the timelock
    code, out, err = operator.run(
        "change-modeller", uuid, "--cancel", "--owner-keystore", operator.files["owner"], "--yes"
    )
    assert code == 0, err
    assert "change withdrawn" in out and oracle.modellerChangeOf(model_id)[0] == "0x" + "00" * 20

    code, out, err = operator.run("change-modeller", uuid, "--to", new, *operator.signers("signer0", "signer1"), *send)
    assert code == 0, err
    _, source = rows_files(oracle, tmp_path)
    code, out, err = operator.run("watch", "--once", *source)  # the watcher says so, with what to do
    assert code == 0, err
    assert f"the signers proposed {new} as its modeller instead of {modeller.address}" in out
    assert f"change-modeller {uuid} --cancel" in out
    chain.sleep(oracle.signerSetDelay())
    chain.mine()
    code, out, err = operator.run("change-modeller", uuid, "--execute", *send)
    assert code == 0, err
    assert f"{new} is the modeller of model {uuid}" in out
    assert oracle.modelInfo(model_id)[0] == new


def test_wrong_report_disputed_by_watch_resolved_and_the_agreement_matures_on_the_right_value(
    operator, oracle, nmr_token, make_nmr_agreement, fund_nmr, modeller, alice, deployer, tmp_path
):
    agreement, terms = make_nmr_agreement(lockup_rounds=2, reserve_ratio_bps=5000)
    fund_nmr(modeller, 50 * NMR, agreement)
    agreement.postReserve(50 * NMR, {"from": modeller})
    fund_nmr(alice, terms.unit_size, agreement)
    agreement.deposit(1, {"from": alice})
    agreement.lock({"from": modeller})
    assert agreement.startRound() == 2  # the lockup is rounds 2 and 3

    right_rows, right = rows_files(oracle, tmp_path)

    # the sender posts rounds 1-3 from its garbled source
    post_from(operator, tmp_path / "wrong.json", tmp_path / "sender.sqlite")
    assert oracle.lastPostedRound(MODEL_ID) == 3

    # a watcher: allowed by the owner, holding the bond, with 1 wei of an old allowance left (NMR: through zero)
    watcher = accounts[9]
    code, out, err = operator.run(
        "signers", "watcher", watcher.address, "--owner-keystore", operator.files["owner"], "--yes"
    )
    assert code == 0, err
    assert oracle.isWatcher(watcher)
    assert json.loads(operator.run("signers", "--json")[1])["watchers"] == [watcher.address]
    bond = oracle.disputeBond()
    nmr_token.mintTo(watcher, bond, {"from": watcher})
    nmr_token.approve(oracle, 1, {"from": watcher})
    held = nmr_token.balanceOf(watcher)

    # watch without --yes and without a terminal: the wrong round is found, nothing is sent
    watch = ["watch", "--once", *right, "--watcher-keystore", operator.files["watcher"]]
    code, out, err = operator.run(*watch)
    assert code == 7, err
    assert f"model {CONFTEST_UUID} round 2: WRONG on-chain (return 0.05, the source says 0.04)" in out
    assert oracle.reportOf(MODEL_ID, 2)[3] != DISPUTED
    code, out, _ = operator.run("watch", "--once", *right, "--json")  # a read-only pass: the verdicts
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert [(v["round"], v["verdict"], v["disputable"]) for v in verdicts] == [
        (1, "agrees", False),
        (2, "differs", True),
        (3, "agrees", False),
    ]

    # watch --once --yes disputes round 2 and posts the bond: approve 0, approve bond, dispute
    code, out, err = operator.run(*watch, "--yes")
    assert code == 0, err
    assert "reset first: NMR approves only from zero" in out and "round 2 disputed" in out
    posted_hash, _, _, final_at, disputer, locked = oracle.reportOf(MODEL_ID, 2)
    assert (final_at, disputer, locked) == (DISPUTED, watcher.address, bond)
    assert nmr_token.balanceOf(watcher) == held - bond
    assert nmr_token.allowance(watcher, oracle) == 0
    code, out, err = operator.run(*watch, "--yes", "--status-file", tmp_path / "watch.json")  # follows it
    assert code == 0, err
    assert f"model {CONFTEST_UUID} round 2: under dispute (disputed by {watcher.address}" in out
    status = json.loads((tmp_path / "watch.json").read_text())
    assert status["role"] == "watcher" and status["last_exit_code"] == 0
    assert status["models"][CONFTEST_UUID]["disputes_open"] == 1 and status["models"][CONFTEST_UUID]["posted"] == 3
    assert nmr_token.balanceOf(watcher) == held - bond

    # a manual dispute of a round already disputed, or from an account that may not: refused in words
    code, _, err = operator.run("dispute", CONFTEST_UUID, 2, "--watcher-keystore", operator.files["watcher"], "--yes")
    assert code == 5 and "round 2 is already disputed; nothing sent" in err
    code, _, err = operator.run("dispute", CONFTEST_UUID, 3, "--watcher-keystore", operator.files["sender"], "--yes")
    assert code == 5 and "is neither a signer nor a watcher" in err

    # resolve: the dispute quorum (3) signs the source's report for round 2; the bond goes back
    resolve = ["resolve", CONFTEST_UUID, 2, *right, "--sender-keystore", operator.files["sender"], "--yes"]
    code, _, err = operator.run(*resolve, *operator.signers("signer0", "signer1"))
    assert code == 2 and "a dispute resolution needs 3" in err
    code, out, err = operator.run(*resolve, *operator.signers("signer0", "signer1", "signer2"))
    assert code == 0, err
    assert "return 0.05 -> 0.04; the report is REPLACED" in out
    right_reports = [_report(r) for r in right_rows]
    assert bytes(oracle.reportOf(MODEL_ID, 2)[0]) == right_reports[1].struct_hash() != bytes(posted_hash)
    assert nmr_token.balanceOf(watcher) == held

    # the watcher reports the outcome; nothing is wrong any more
    code, out, err = operator.run("watch", "--once", *right)
    assert code == 0, err
    assert (
        f"model {CONFTEST_UUID} round 2: dispute resolved, the round now returns 0.04; the report was replaced "
        f"and the bond returned to the disputer"
    ) in out

    # the service finalizes; the agreement matures on the right rounds 2 and 3
    finish_window(oracle)
    post_from(operator, tmp_path / "right.json", tmp_path / "honest.sqlite")
    assert oracle.modelInfo(MODEL_ID)[3] == 3
    index = ONE
    for report in right_reports:
        index = next_index(index, ONE, report.round_return())
    assert oracle.indexAt(MODEL_ID, 3) == index
    tx = agreement.mature({"from": alice})
    assert "MaturedOnFallback" not in tx.events
    staked = agreement.stakedCapital()
    assert agreement.finalValue() == staked * oracle.indexAt(MODEL_ID, 3) // oracle.indexAt(MODEL_ID, 1)


def test_signer_set_change_through_the_timelock(operator, oracle, signers):
    code, out, err = operator.run("signers", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["quorum"] == 2 and shown["dispute_quorum"] == 3 and shown["proposal"] is None
    assert sorted(shown["signers"]) == sorted(k.address for k in signers)
    newcomer = Account.from_key(b"\x42" * 32).address
    new_set = [k.address for k in signers[:2]] + [newcomer]
    propose = [
        "signers",
        "propose",
        *[x for a in new_set for x in ("--signer", a)],
        "--quorum",
        2,
        "--dispute-quorum",
        3,
    ]
    code, out, err = operator.run(*propose, "--calldata")  # a multisig owner sends it itself
    assert code == 0, err
    assert json.loads(out)["to"] == oracle.address and bytes(oracle.proposedSignerSet()) == bytes(32)
    code, out, err = operator.run(*propose, "--owner-keystore", operator.files["sender"], "--yes")
    assert code == 5 and f"it must come from {oracle.owner()}" in err
    code, out, err = operator.run(*propose, "--owner-keystore", operator.files["owner"], "--yes")
    assert code == 0, err
    code, out, err = operator.run("signers")
    assert "proposed signer set" in out and "executable in" in out and newcomer in out
    execute = ["signers", "execute", "--sender-keystore", operator.files["sender"], "--yes"]
    code, out, err = operator.run(*execute)
    assert code == 5 and "can be executed from" in err
    chain.sleep(oracle.signerSetDelay() + 1)
    chain.mine()
    code, out, err = operator.run(*execute)
    assert code == 0, err
    assert sorted(oracle.signers()) == sorted(new_set)
    assert json.loads(operator.run("signers", "--json")[1])["proposal"] is None


def _report(row_):
    from decimal import Decimal

    from oracle.model import RoundResult

    return RoundResult(
        row_["model_id"],
        row_["round"],
        {k: Decimal(v) for k, v in row_["scores"].items()},
        {k: Decimal(v) for k, v in row_["multipliers"].items()},
        Decimal(row_["payout_factor"]),
        Decimal(row_["clip"]),
    ).to_report(8)


def test_resolve_collects_the_dispute_quorum_from_the_other_operators(
    operator, oracle, nmr_token, signers, deployer, tmp_path
):
    """One key per host: the resolver holds one signer key, the two other operators' services co-sign the
    resolution through the shared directory once their own source gives the same replacement."""
    right_rows, right = rows_files(oracle, tmp_path)
    post_from(operator, tmp_path / "wrong.json", tmp_path / "sender.sqlite")
    watcher = accounts[9]
    oracle.setWatcher(watcher, True, {"from": deployer})
    nmr_token.mintTo(watcher, oracle.disputeBond(), {"from": watcher})
    code, out, err = operator.run("dispute", CONFTEST_UUID, 2, "--watcher-keystore", operator.files["watcher"], "--yes")
    assert code == 0, err
    assert oracle.reportOf(MODEL_ID, 2)[3] == DISPUTED

    resolve = [
        "resolve",
        CONFTEST_UUID,
        2,
        *right,
        *operator.signers("signer0"),
        "--sender-keystore",
        operator.files["sender"],
        "--signature-dir",
        tmp_path / "shared",
        "--yes",
    ]
    code, out, err = operator.run(*resolve, "--dry-run")
    assert code == 0, err
    assert "2 more would be collected" in out and not list((tmp_path / "shared").glob("*.json"))
    # a co-signer whose source still has the garbled value refuses: the quorum is not reached, nothing sent
    with (
        cosigners(oracle, signers[1:2], tmp_path / "right.json", tmp_path / "shared"),
        cosigners(oracle, signers[2:3], tmp_path / "wrong.json", tmp_path / "shared"),
    ):
        code, out, err = operator.run(*resolve, "--signature-timeout", 3)
    assert code == 6 and "2 of the 3 signatures a resolution needs" in err
    assert oracle.reportOf(MODEL_ID, 2)[3] == DISPUTED
    # the dispute outlives disputeTimeout: watch does not expire it (the posted report is wrong), it says to resolve
    chain.sleep(oracle.disputeTimeout() + 1)
    chain.mine()
    code, out, err = operator.run("watch", "--once", *right, "--watcher-keystore", operator.files["sender"], "--yes")
    assert code == 5 and f"resolve it (`backing oracle resolve {CONFTEST_UUID} 2`)" in out
    assert oracle.reportOf(MODEL_ID, 2)[3] == DISPUTED
    with cosigners(oracle, signers[1:], tmp_path / "right.json", tmp_path / "shared"):
        code, out, err = operator.run(*resolve, "--signature-timeout", 60)
    assert code == 0, err
    assert "the report is REPLACED" in out and "(3 of 3 signatures)" in out
    assert bytes(oracle.reportOf(MODEL_ID, 2)[0]) == _report(right_rows[1]).struct_hash()
    assert nmr_token.balanceOf(watcher) == oracle.disputeBond()


def test_an_unresolved_dispute_is_expired_by_watch_so_the_model_finalizes(
    operator, oracle, nmr_token, deployer, tmp_path
):
    """A dispute of a right report that nobody resolves: past disputeTimeout, `watch` expires it (the report stands,
    the bond is forfeited) and the rounds finalize; `watch` reports the outcome."""
    right_rows, right = rows_files(oracle, tmp_path)
    post_from(operator, tmp_path / "right.json", tmp_path / "sender.sqlite")
    watcher = accounts[9]
    oracle.setWatcher(watcher, True, {"from": deployer})
    bond = oracle.disputeBond()
    nmr_token.mintTo(watcher, bond, {"from": watcher})
    code, out, err = operator.run(
        "dispute", CONFTEST_UUID, 3, "--watcher-keystore", operator.files["watcher"], "--dry-run"
    )
    assert code == 0 and "dry run" in out and oracle.reportOf(MODEL_ID, 3)[3] != DISPUTED
    code, out, err = operator.run("dispute", CONFTEST_UUID, 3, "--watcher-keystore", operator.files["watcher"], "--yes")
    assert code == 0, err
    assert "locking a 100 NMR bond" in out and nmr_token.balanceOf(watcher) == 0
    code, _, err = operator.run("dispute", CONFTEST_UUID, 1, "--watcher-keystore", operator.files["watcher"], "--yes")
    assert code == 8 and "the dispute bond is 100 NMR: fund it with NMR; nothing sent" in err

    watch = ["watch", "--once", *right, "--watcher-keystore", operator.files["sender"], "--yes"]
    finish_window(oracle)
    code, out, err = operator.run(*watch)  # not overdue yet: followed, nothing sent
    assert code == 0, err
    assert "round 3: under dispute" in out and oracle.reportOf(MODEL_ID, 3)[3] == DISPUTED
    chain.sleep(oracle.disputeTimeout() + 1)
    chain.mine()
    code, out, err = operator.run(*watch)  # anyone may expire it: the sender's account does
    assert code == 0, err
    assert "dispute expired" in out
    assert (
        f"round 3: the dispute by {watcher.address} expired unresolved; the posted report stands and the 100 NMR "
        f"bond is forfeited" in out
    )
    assert oracle.reportOf(MODEL_ID, 3)[3] != DISPUTED and nmr_token.balanceOf(oracle.BOND_SINK()) == bond
    post_from(operator, tmp_path / "right.json", tmp_path / "sender.sqlite")  # the next pass finalizes 1-3
    assert oracle.modelInfo(MODEL_ID)[3] == 3


def test_ownership_moves_in_two_steps(operator, oracle, deployer):
    new_owner = accounts[8]  # the sender's account stands for the multisig
    transfer = ["signers", "transfer-ownership", new_owner.address]
    code, _, err = operator.run("signers", "accept-ownership", "--owner-keystore", operator.files["sender"], "--yes")
    assert code == 5 and "no ownership transfer is pending" in err
    code, out, err = operator.run(*transfer, "--owner-keystore", operator.files["owner"], "--yes")
    assert code == 0, err
    assert oracle.owner() == deployer and oracle.pendingOwner() == new_owner
    assert json.loads(operator.run("signers", "--json")[1])["pending_owner"] == new_owner.address
    code, out, err = operator.run("signers", "accept-ownership", "--owner-keystore", operator.files["owner"], "--yes")
    assert code == 5 and f"it must come from {new_owner.address}" in err
    code, out, err = operator.run("signers", "accept-ownership", "--owner-keystore", operator.files["sender"], "--yes")
    assert code == 0, err
    assert oracle.owner() == new_owner
