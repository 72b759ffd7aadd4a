"""The demo (`make demo`): the whole product told through the `backing` commands a user types.

    .venv/bin/python tools/demo.py                     # starts ganache on 127.0.0.1:8545 (what `make demo` runs)
    .venv/bin/python tools/demo.py --node anvil --port 8601
    .venv/bin/python tools/demo.py --rpc-url http://127.0.0.1:8545   # a development node you started yourself
    .venv/bin/python tools/demo.py --keep-home                       # keep the keystores, manifest, results file

Everyone gets a keystore in a temporary home (`backing account new`, a password file: no key is ever on a command
line); the node's pre-funded account pays each some ETH for gas. Then, each step headed by who acts and why, the
driver prints every `backing ...` command as the user would type it, runs the installed CLI and shows its output:

1. an agreement: deploy with a development NMR; the modeller claims his model and the oracle's signer quorum
   registers and attests it; he offers terms from a file; Alice and Bob deposit; he posts his reserve and locks;
   the oracle operator posts the lockup's rounds from his results file (`backing oracle run --source file`);
   anyone matures; the modeller repays; both backers claim; `position`, `model show`;
2. a series: created from a series terms file, two backers, the lock, the next agreement opened, Alice consents
   to roll and Bob declines (he claims), a report posted wrong is disputed by a watcher (`backing oracle watch`)
   and replaced by the dispute quorum (`backing oracle resolve`), the roll executed, Carol backs the second
   agreement and buys part of Alice's position (`backing series transfer`), its rounds, the last claims and the
   modeller's collection.

The same story runs through the reference model (``backing.model.agreement``, ``backing.model.series``): every
amount the CLI prints that the model predicts is compared to the wei ("matches the reference model"), and at the
end every party's NMR balance change. The clock is the node's: the driver moves it (evm_increaseTime) where the
story waits for days. `--fast-keystores` (what tests/cli/test_demo.py uses) writes the keystores with a cheap key
derivation instead of running `backing account new`, whose scrypt costs a second of CPU per command. Exit status:
0 when every command worked and every amount matched; 1 otherwise, with the failing command's output or the
mismatch shown.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file: the checkout's packages (the venv has them installed too)

from backing.model.agreement import ONE, Agreement, Phase, lock_amounts, next_index, round_return  # noqa: E402
from backing.model.series import Series  # noqa: E402
from backing.model.terms import load_series_terms_file, load_terms_file  # noqa: E402
from backing.onchain.node import find_binary, node_command, probe, rpc  # noqa: E402

PASSWORD = "a demo password, not a secret"
MODEL = "8f0d3c52-6b8a-4b8e-9c1e-2a7f6d1b0c11"
ROLES = ["deployer", "modeller", "alice", "bob", "carol", "signer1", "signer2", "signer3", "operator", "watcher"]
BACKERS = ["alice", "bob", "carol"]
DAY, HOUR = 86400, 3600
CHALLENGE_WINDOW = 3600  # `backing deploy`'s default
#: Numerai's payout = 0.5 x CORR20 + 2 x MMC (payout factor 1, clipped at 5%), as the oracle posts it.
MULTIPLIERS = {"CORR20": "0.5", "MMC": "2"}
CLIP = "0.05"
#: resolved scores (CORR20, MMC) of the rounds the story counts, in order of the rounds they fill
SCORES = [
    ("0.0182", "0.0061"),
    ("0.0214", "0.0093"),
    ("-0.0118", "-0.0065"),
    ("0.0263", "0.0087"),
    ("0.0157", "-0.0042"),
    ("0.0301", "0.0126"),
    ("0.0098", "0.0034"),
    ("-0.0172", "-0.0110"),
    ("0.0131", "0.0068"),
]

AGREEMENT_TERMS = """\
# the modeller's offer: 100-NMR units, 2 to 20 of them; half the gains (40% from 5 units) and half the losses
# are his; a reserve of half the stake; 1% upfront fee; two resolved rounds locked
model_id: "{model}"
unit_size: 100
min_units: 2
max_units: 20
profit_share: 0.5
burn_share: 0.5
reserve_ratio: 0.5
upfront_fee: 0.01
lockup_rounds: 2
open_for: 3d
wind_down: 7d
staking_address: "{staking}"
fee_ladder:
  - {{min_units: 5, profit_share: 0.4}}
"""

SERIES_TERMS = AGREEMENT_TERMS.replace("the modeller's offer", "the series' agreements") + (
    "high_water_mark: true                     # a position pays a profit fee only above its mark\n"
    "clawback: {{share: 0.25, agreements: 2}}    # a quarter of each fee held in escrow for two agreements\n"
    "commitments:\n"
    "  - {{agreements: 3, profit_share: 0.3}}     # commit to three agreements: 30% profit share\n"
)


class DemoFailure(Exception):
    """A command failed or an amount disagreed with the reference model: the demo stops, exit status 1."""


class Mismatch(DemoFailure):
    pass


def wei(text: str) -> int:
    """A decimal as printed ("1.5" NMR, "-0.01") in wei, or 1e18 fixed point, exactly."""
    value = Decimal(text) * ONE
    if value != value.to_integral_value():
        raise ValueError(f"{text}: more than 18 decimals")
    return int(value)


def nmr(amount: int) -> str:
    """wei as the CLI prints NMR (backing.client.tx.nmr)."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return sign + f"{amount // ONE}.{amount % ONE:018d}".rstrip("0").rstrip(".") + " NMR"


def printed_amount(pattern: str, text: str) -> int:
    """The NMR amount the output `text` prints right after `pattern` (a regular expression), in wei.
    @raise Mismatch when the output does not say it."""
    found = re.search(pattern + r" (-?[0-9][0-9.]*) NMR", text)
    if not found:
        raise Mismatch(f"the output does not say {pattern!r}:\n{text}")
    return wei(found.group(1))


def compare(what: str, printed: int, reference: int, unit: str = "NMR") -> str:
    """The line saying that `printed` (what the CLI said) equals `reference` (the model's): amounts in wei
    (`unit` "NMR"), 1e18 fixed-point numbers ("fixed") or plain integers (""). @raise Mismatch, naming both,
    when they differ at all (one wei)."""
    if type(printed) is not int or type(reference) is not int or printed != reference:
        raise Mismatch(f"{what}: the CLI says {printed!r}, the reference model {reference!r}")
    if unit == "NMR":
        shown = nmr(printed)
    elif unit == "fixed":
        shown = str(Decimal(printed) / ONE)
    else:
        shown = str(printed)
    return f"    ✓ {what}: {shown} matches the reference model"


class Chain:
    """The node: started here (ganache or anvil, its own process group) or attached at --rpc-url."""

    def __init__(self, kind: str | None, port: int, url: str | None):
        self.kind, self.process = kind, None
        self.url = url or f"http://127.0.0.1:{port}"
        self.port = port

    def start(self) -> Chain:
        if self.kind is None:
            try:
                self.chain_id, self.client = probe(self.url)
            except (OSError, ValueError):
                raise DemoFailure(f"no node answers at {self.url}") from None
            return self
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise DemoFailure(
                    f"something already listens on port {self.port}: stop it, give --port N, or attach to it "
                    "with --rpc-url"
                )
        command = node_command(self.kind, find_binary(self.kind), self.port)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                self.chain_id, self.client = probe(self.url, timeout=5)
                return self
            except (OSError, ValueError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise DemoFailure(f"{self.kind} did not start on port {self.port}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def call(self, method: str, params=None):
        return rpc(self.url, method, params, timeout=60)

    def now(self) -> int:
        return int(self.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def advance(self, seconds: int) -> None:
        self.call("evm_increaseTime", [seconds])
        self.call("evm_mine", [])

    def fund(self, address: str, ether: int) -> None:
        funder = self.call("eth_accounts")[0]
        tx = self.call("eth_sendTransaction", [{"from": funder, "to": address, "value": hex(ether * ONE)}])
        deadline = time.monotonic() + 60
        while self.call("eth_getTransactionReceipt", [tx]) is None:
            if time.monotonic() > deadline:
                raise DemoFailure(f"the node did not mine the payment to {address}")
            time.sleep(0.2)


class Demo:
    """The story's state: the user's home, the addresses, the commands run and the checks passed."""

    def __init__(self, chain: Chain, home: Path, backing: str, out=print, fast_keystores: bool = False):
        self.chain, self.home, self.backing, self.out = chain, home, backing, out
        self.fast_keystores = fast_keystores
        self.work = home / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.password_file = home / "password.txt"
        self.password_file.write_text(PASSWORD + "\n")
        self.password_file.chmod(0o600)
        self.addresses: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.commands = self.checks = 0
        self.step_number = 0
        # the rounds: scores Numerai resolved (round -> (CORR20, MMC)), the index after each (1 before round 1),
        # the last round announced and the last posted and final
        self.scores: dict[int, tuple] = {}
        self.indices = {0: ONE}
        self.announced = self.posted = 0
        self.results_file = home / "numerai" / "results.json"
        self.results_file.parent.mkdir()

    # -- telling the story
    def step(self, who: str, why: str) -> None:
        self.step_number += 1
        self.out(f"\n== {self.step_number}. {who}: {why}")

    def say(self, text: str) -> None:
        self.out(f"   {text}")

    def shown_text(self, text: str, addresses: bool = True) -> str:
        """`text` with the temporary home as ~ and (`addresses`) the story's addresses as $NAME."""
        text = text.replace(str(self.home), "~")
        for address, name in self.names.items() if addresses else ():
            text = text.replace(address, f"${name.upper()}")
        return text

    def shown(self, argument) -> str:
        """A command-line argument as the user would type it."""
        text = self.shown_text(str(argument))
        return text if re.fullmatch(r"[\w@%+=:,./~$-]+", text) else shlex.quote(text)

    def backing_cmd(self, *args, expect: int = 0) -> str:
        """Print `backing ARGS` as typed, run it, print its output. @return stdout.
        @raise DemoFailure when it exits otherwise than `expect`."""
        self.commands += 1
        self.out("$ backing " + " ".join(self.shown(a) for a in args))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKING_")}
        env.update(
            HOME=str(self.home),
            BACKING_RPC_URL=self.chain.url,
            BACKING_PASSWORD_FILE=str(self.password_file),
            PATH=f"{ROOT / 'node_modules' / '.bin'}:{Path(self.backing).parent}:{env.get('PATH', '')}",
        )
        done = self._run(args, env)
        for line in done.stdout.rstrip("\n").splitlines():
            self.out("  " + self.shown_text(line, addresses=False))
        if args[0] == "oracle" and done.returncode == expect:  # the service logs to stderr: one JSON object a line
            for line in done.stderr.splitlines():
                self.out("  " + self.shown_text(log_line(line), addresses=False))
        if done.returncode != expect or "Traceback" in done.stderr:
            for line in done.stderr.rstrip("\n").splitlines():
                self.out("  " + self.shown_text(line, addresses=False))
            raise DemoFailure(f"`backing {' '.join(map(str, args))}` exited with {done.returncode} (expected {expect})")
        return done.stdout + done.stderr

    def _run(self, args, env: dict) -> subprocess.CompletedProcess:
        """One `backing` command in the story's home and working folder, without a terminal."""
        return subprocess.run(
            [self.backing, *map(str, args)],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )

    def check(self, what: str, printed: int, reference: int, unit: str = "NMR") -> None:
        self.out(compare(what, printed, reference, unit))
        self.checks += 1

    def check_text(self, what: str, pattern: str, text: str, reference: int) -> None:
        self.check(what, printed_amount(pattern, text), reference)

    def json(self, *args):
        """A read command's --json answer (the amounts the text printed, in wei), not printed again."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKING_")}
        env.update(HOME=str(self.home), BACKING_RPC_URL=self.chain.url)
        done = self._run([*args, "--json"], env)
        if done.returncode != 0:
            raise DemoFailure(f"`backing {' '.join(map(str, args))} --json`: {done.returncode}\n{done.stderr}")
        return json.loads(done.stdout)

    def keystore(self, role: str) -> str:
        return str(self.home / ".brownie" / "accounts" / f"{role}.json")

    def nmr_balance(self, address: str) -> int:
        token = self.manifest["contracts"]["NMR"]["address"]
        data = "0x70a08231" + address[2:].lower().rjust(64, "0")
        return int(self.chain.call("eth_call", [{"to": token, "data": data}, "latest"]), 16)


def log_line(line: str) -> str:
    """One of the oracle's JSON log lines in short: "log: event, field=value, ..." (long hex values cut)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "event" not in record:
        return line
    fields = []
    for key, value in record.items():
        if key in ("ts", "level", "event", "attempt", "gas", "nonce", "maxFeePerGas", "maxPriorityFeePerGas"):
            continue
        text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        fields.append(f"{key}={re.sub(r'0x[0-9a-fA-F]{20,}', lambda m: m.group(0)[:10] + '…', text)}")
    level = "" if record.get("level") == "info" else f" ({record.get('level')})"
    return f"log{level}: {record['event']}" + (", " + ", ".join(fields) if fields else "")


def reference_return(scores) -> int:
    """A round's return as the oracle computes it: clamp(0.5 x CORR20 + 2 x MMC, +-5%)."""
    return round_return([wei(s) for s in scores], [wei(m) for m in MULTIPLIERS.values()], ONE, wei(CLIP))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--node", choices=["ganache", "anvil"], default="ganache", help="the node to start")
    parser.add_argument("--port", type=int, default=8545, help="its port (default 8545)")
    parser.add_argument("--rpc-url", help="attach to a development node already running instead")
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary home (keystores, manifest)")
    parser.add_argument(
        "--fast-keystores",
        action="store_true",
        help="for the tests: keystores with a cheap key derivation instead of `backing account new`'s scrypt",
    )
    args = parser.parse_args(argv)
    backing = str(Path(sys.executable).parent / "backing")
    if not os.access(backing, os.X_OK):
        backing = shutil.which("backing") or backing
    chain = Chain(None if args.rpc_url else args.node, args.port, args.rpc_url)
    home = Path(tempfile.mkdtemp(prefix="backing-demo-"))
    started = time.monotonic()
    demo = None
    try:
        chain.start()
        demo = Demo(chain, home, backing, fast_keystores=args.fast_keystores)
        story(demo)
    except DemoFailure as failure:
        print(f"\nDEMO FAILED: {failure}")
        return 1
    finally:
        chain.stop()
        if not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)
    print(
        f"\nThe demo ran {demo.commands} backing commands; {demo.checks} amounts matched the reference model to the "
        f"wei ({time.monotonic() - started:.0f} s)."
    )
    return 0


def story(demo: Demo) -> None:
    chain = demo.chain
    where = "started by this demo" if chain.process else "attached"
    demo.out(
        f"Backing Vaults, the whole story through the `backing` command line, on {chain.client.split('/')[0]} "
        f"({where}, {chain.url}, chain id {chain.chain_id})."
    )
    demo.out(f"The users' home is a temporary directory, shown as ~ ({demo.home}): their keystores are in")
    demo.out("~/.brownie/accounts, the password in ~/password.txt. Each command runs in ~/work with")
    demo.out(f"  export BACKING_RPC_URL={chain.url} BACKING_PASSWORD_FILE=~/password.txt")
    accounts(demo)
    agreement_story(demo)
    series_story(demo)
    conservation(demo)


def accounts(demo: Demo) -> None:
    demo.step(
        "Everyone", "makes a keystore account (the password comes from a file, the key never leaves the keystore)"
    )
    if demo.fast_keystores:
        demo.say("(--fast-keystores, for the tests: the driver writes them with a cheap key derivation instead of")
        demo.say(" `backing account new`, whose scrypt costs a second of CPU each time a command opens a keystore)")
        for role in ROLES:
            demo.addresses[role] = write_cheap_keystore(demo.home, role)
    else:
        for role in ROLES:
            out = demo.backing_cmd("account", "new", role)
            demo.addresses[role] = found(r"^account \S+: (0x[0-9a-fA-F]{40})$", out)
    demo.backing_cmd("account", "list")
    demo.names = {address: role for role, address in demo.addresses.items()}
    demo.step("The local node's faucet", "pays each account 10 ETH for gas (a pre-funded development account)")
    for role in ROLES:
        demo.chain.fund(demo.addresses[role], 10)
    demo.say("the commands below name each address by a variable, as if these were set:")
    for role in ROLES:
        demo.out(f"  export {role.upper()}={demo.addresses[role]}")


def write_cheap_keystore(home: Path, name: str) -> str:
    """A new key in a keystore file ~/.brownie/accounts/NAME.json (the format `backing account new` writes), with
    pbkdf2 at 16 iterations. @return its address."""
    from eth_account import Account

    account = Account.create()
    folder = home / ".brownie" / "accounts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, kdf="pbkdf2", iterations=16)))
    path.chmod(0o600)
    return account.address


def agreement_story(demo: Demo) -> None:
    a, chain = demo.addresses, demo.chain
    demo.step(
        "The developer",
        "deploys the protocol: the oracle (3 signers, any 2 sign, all 3 resolve disputes), the factories and a "
        "development NMR, minted to the modeller, the backers and the watcher",
    )
    demo.backing_cmd(
        "deploy",
        "--account",
        "deployer",
        "--dev-token",
        *[x for i in (1, 2, 3) for x in ("--signer", a[f"signer{i}"])],
        "--quorum",
        2,
        "--dispute-quorum",
        3,
        *[x for r in ("modeller", *BACKERS, "watcher") for x in ("--mint", f"{a[r]}=10000")],
        "--yes",
    )
    demo.manifest = json.loads((demo.work / "deployments" / f"{chain.chain_id}.json").read_text())
    oracle = demo.manifest["contracts"]["ScoreOracle"]["address"]
    demo.names[oracle] = "oracle"
    demo.say(f"deployments/{chain.chain_id}.json (the manifest) records every address; $ORACLE is {oracle}")
    demo.start_balances = {r: demo.nmr_balance(a[r]) for r in ("modeller", *BACKERS, "watcher")}
    demo.oracle_args = ["--oracle", oracle]
    demo.first_close = chain.now() + HOUR

    demo.step("The oracle operator", "announces Numerai's open round (round 1 takes submissions for another hour)")
    demo.say("his service reads Numerai's results from a file here (--source file); it signs with two signers'")
    demo.say("keystores and sends from his own account")
    publish(demo)
    oracle_run(demo)

    demo.step("The modeller", "proves he owns his Numerai model: the line he puts in his Numerai profile")
    out = demo.backing_cmd("model", "claim", MODEL, "--account", "modeller")
    claim = [line for line in out.splitlines() if line.startswith("backing-vaults:")][-1]
    profile = demo.home / "profile.txt"
    profile.write_text(f"I model for fun.\n{claim}\n")
    demo.say("his profile, as the oracle's signers fetch it, is now in ~/profile.txt")

    signer_keys = [x for i in (1, 2) for x in ("--signer-keystore", demo.keystore(f"signer{i}"))]
    demo.step("Two oracle signers", "register the model to the modeller and attest his profile (the operator relays)")
    demo.backing_cmd(
        "model", "register", MODEL, "--modeller", a["modeller"], "--first-round", 1, *signer_keys,
        "--account", "operator", "--yes",
    )  # fmt: skip
    demo.backing_cmd("model", "attest", MODEL, "--profile", profile, *signer_keys, "--account", "operator", "--yes")
    demo.backing_cmd("model", "show", MODEL)

    demo.step("The modeller", "offers terms from a file; `create` checks them, and the chain, before it sends")
    terms_file = demo.home / "terms.yaml"
    terms_file.write_text(AGREEMENT_TERMS.format(model=MODEL, staking=a["modeller"]))
    show_file(demo, terms_file)
    demo.say("(the staking address is the modeller's own wallet here: Numerai pays a stake's gains to it)")
    demo.backing_cmd("terms", "check", terms_file)
    out = demo.backing_cmd("agreement", "create", terms_file, "--account", "modeller", "--yes")
    address = found(r"^agreement (0x[0-9a-fA-F]{40})$", out)
    demo.names[address] = "agreement"
    demo.say(f"$AGREEMENT is {address}")
    demo.backing_cmd("agreement", "list", "--open")
    shown = demo.json("agreement", "show", address)
    terms = replace(load_terms_file(terms_file, chain.now()), open_until=shown["open_until"])
    model = Agreement(terms=terms, modeller="modeller")

    demo.step("Alice and Bob", "back the modeller with 3 and 6 units (each deposit first approves exactly its cost)")
    for backer, units in (("alice", 3), ("bob", 6)):
        now = chain.now()
        out = demo.backing_cmd("deposit", address, units, "--account", backer, "--yes")
        model.deposit(backer, units, now)
        demo.check_text(f"{backer}'s deposit", r"deposited", out, units * terms.unit_size)
    demo.backing_cmd("agreement", "show", address)

    demo.step(
        "The modeller", "posts the reserve that locking needs (half the stake), and locks: the stake goes to work"
    )
    out = demo.backing_cmd("agreement", "reserve", address, "--account", "modeller", "--yes")
    required = terms.required_reserve(lock_amounts(terms, model.total_units).staked)
    demo.check_text("reserve posted", r"reserve now", out, required)
    model.post_reserve("modeller", required)
    now = chain.now()
    out = demo.backing_cmd("agreement", "lock", address, "--account", "modeller", "--yes")
    state = demo.json("agreement", "show", address)
    locked = model.lock("modeller", now, start_round=state["start_round"], first_round=1)
    demo.check("capital staked", amount_before(" staked", out), locked.staked)
    demo.check("upfront fee", int(state["upfront_fee"]), locked.upfront_fee)
    demo.say(f"the lockup counts rounds {state['start_round']} to {state['end_round']}")

    resolve_rounds(demo, state["end_round"])
    post_rounds(demo)

    demo.step("Alice (anyone may)", "matures the agreement: its last round is final, so its final value is fixed")
    out = demo.backing_cmd("agreement", "mature", address, "--account", "alice", "--yes")
    model.mature(
        chain.now(), start_index=demo.indices[state["start_round"] - 1], end_index=demo.indices[state["end_round"]]
    )
    state = demo.json("agreement", "show", address)
    demo.check("final value", int(state["final_value"]), model.matured.final_value)
    demo.check_text("amount due", r"amount due", out, model.matured.amount_due)

    demo.step("The modeller", "repays what he owes the backers, out of his staking wallet")
    out = demo.backing_cmd("agreement", "repay", address, "--account", "modeller", "--yes")
    demo.check_text("repaid", r"repaid", out, model.matured.amount_due)
    model.repay("modeller", model.matured.amount_due)
    if model.phase != Phase.Settled:
        raise Mismatch(f"the reference model's agreement is {model.phase.name}, not Settled")

    demo.step("Alice and Bob", "look at their positions and claim what the settled agreement owes them")
    for backer in ("alice", "bob"):
        demo.backing_cmd("position", a[backer])
        row = [p for p in demo.json("position", a[backer])["positions"] if p["agreement"] == address][0]
        demo.check(f"{backer}'s claimable amount", int(row["claimable"]), model.payout(backer))
        out = demo.backing_cmd("claim", address, "--account", backer, "--yes")
        demo.check_text(f"{backer}'s claim", r"claimed", out, model.claim(backer))
    demo.backing_cmd("model", "show", MODEL)
    demo.agreement_model = model


def found(pattern: str, text: str) -> str:
    """The first group of `pattern` (a line of the output, re.M) in `text`. @raise DemoFailure when absent."""
    match = re.search(pattern, text, re.M)
    if match is None:
        raise DemoFailure(f"the output does not say {pattern!r}:\n{text}")
    return match.group(1)


def amount_before(marker: str, text: str) -> int:
    """The NMR amount printed just before `marker` in `text`, in wei. @raise Mismatch when there is none."""
    found = re.search(r"(-?[0-9][0-9.]*) NMR" + re.escape(marker), text)
    if not found:
        raise Mismatch(f"the output does not say '... NMR{marker}':\n{text}")
    return wei(found.group(1))


def show_file(demo: Demo, path: Path) -> None:
    demo.say(f"{demo.shown(path)}:")
    for line in path.read_text().splitlines():
        demo.out("   | " + demo.shown_text(line))


# -- the rounds: Numerai's calendar (a round closes every day), its results file, the oracle operator's service
def close_of(demo: Demo, round_: int) -> int:
    return demo.first_close + (round_ - 1) * DAY


def open_round(demo: Demo) -> int:
    """The round taking submissions now: the first whose close is still ahead."""
    now = demo.chain.now()
    return 1 if now < demo.first_close else (now - demo.first_close) // DAY + 2


def publish(demo: Demo, path: Path | None = None, wrong: dict | None = None) -> Path:
    """Write Numerai's results as the file source reads them: every round through the open one, resolved rounds
    with their scores (`wrong` replaces some: a garbled copy), the others in the schedule only."""
    rows = []
    for number in range(1, open_round(demo) + 1):
        scores = (wrong or {}).get(number, demo.scores.get(number))
        row = {"model_id": MODEL, "round": number, "close_time": close_of(demo, number)}
        if scores is None:
            row["resolved"] = False
        else:
            row.update(scores=dict(zip(MULTIPLIERS, scores)), multipliers=MULTIPLIERS, payout_factor="1", clip=CLIP)
        rows.append(row)
    path = path or demo.results_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1) + "\n")
    return path


def oracle_run(demo: Demo) -> str:
    """One pass of the operator's service: announce, post, finalize, from his results file."""
    return demo.backing_cmd(
        "oracle", "run", "--once", "--source", "file", "--file", demo.results_file,
        "--account", "signer1", "--account", "signer2", "--sender-account", "operator", *demo.oracle_args,
        "--db", demo.home / "oracle.sqlite",
    )  # fmt: skip


def post_series_reserve(demo: Demo, model, address: str, index: int) -> None:
    """The modeller posts what agreement `index` needs to lock (`backing series reserve`), checked against the
    reference model: its reserve ratio of the capital less the upfront fee."""
    agreement = model.agreements[index]
    out = demo.backing_cmd("series", "reserve", address, "--account", "modeller", "--yes")
    base = agreement.terms.base
    required = base.required_reserve(agreement.capital - agreement.capital * base.upfront_fee_bps // 10_000)
    demo.check_text(f"agreement {index}'s reserve", rf"agreement {index}'s reserve is now", out, required)
    model.post_reserve("modeller", required, index)


def fresh_schedule(demo: Demo) -> None:
    """Before a lock: the oracle must have announced the round open now (a lock counts from the next one)."""
    if open_round(demo) > demo.announced:
        demo.step("The oracle operator", f"announces the open round {open_round(demo)} (a lock counts from the next)")
        publish(demo)
        oracle_run(demo)
        demo.announced = open_round(demo)


def resolve_rounds(demo: Demo, through: int) -> None:
    """Numerai resolves every round through `through`: the clock moves past its close, its scores are known."""
    first = max(demo.scores, default=0) + 1
    for number in range(first, through + 1):
        demo.scores[number] = SCORES[number - 1]
    wait = close_of(demo, through) + HOUR - demo.chain.now()
    if wait > 0:
        demo.step("Time passes", f"rounds {first} to {through} close and Numerai scores them")
        demo.say(f"(the node's clock moves {wait / DAY:.1f} days ahead; on Numerai a round resolves about a month")
        demo.say(" after it closes: the demo does not wait for that, the contracts only need the posted scores)")
        demo.chain.advance(wait)


def post_rounds(demo: Demo) -> None:
    """The operator's service posts the resolved rounds (announcing through the open one); they become final
    after the challenge window, on its next pass, and each round's return and index is checked."""
    first, last = demo.posted + 1, max(demo.scores)
    demo.step("The oracle operator", f"his service posts rounds {first} to {last} in one signed batch")
    publish(demo)
    oracle_run(demo)
    finalize(demo, first, last)


def finalize(demo: Demo, first: int, last: int) -> None:
    demo.step("An hour later", "the challenge window is over: the service's next pass makes the rounds final")
    demo.chain.advance(CHALLENGE_WINDOW + 1)
    oracle_run(demo)
    demo.announced = open_round(demo)
    demo.posted = last
    demo.backing_cmd("model", "show", MODEL)
    rounds = {r["round"]: r for r in demo.json("model", "show", MODEL)["rounds"]}
    for number in range(first, last + 1):
        expected = reference_return(demo.scores[number])
        demo.indices[number] = next_index(demo.indices[number - 1], ONE, expected)
        demo.check(f"round {number}'s return", int(rounds[number]["return"]), expected, "fixed")
        demo.check(f"round {number}'s index", int(rounds[number]["index"]), demo.indices[number], "fixed")


def series_story(demo: Demo) -> None:
    a, chain = demo.addresses, demo.chain
    demo.out("\n" + "-" * 100)
    demo.out("A series: the modeller's successive agreements on the same model. A backer may roll his claim into")
    demo.out("the next agreement, sell part of a position, or commit to several agreements for a lower fee;")
    demo.out("each position pays a profit fee only above its high-water mark, and part of each fee is held")
    demo.out("in escrow to cover later losses.")
    demo.step("The modeller", "creates a series from a series terms file; its first agreement opens at once")
    terms_file = demo.home / "series.yaml"
    terms_file.write_text(SERIES_TERMS.format(model=MODEL, staking=a["modeller"]))
    show_file(demo, terms_file)
    demo.backing_cmd("terms", "check", terms_file)
    out = demo.backing_cmd("series", "create", terms_file, "--account", "modeller", "--yes")
    address = found(r"^series (0x[0-9a-fA-F]{40})$", out)
    demo.names[address] = "series"
    demo.say(f"$SERIES is {address}")
    terms = load_series_terms_file(terms_file, chain.now())
    model = Series("modeller")
    model.open_agreement(
        "modeller", _terms_at(terms, demo.json("series", "show", address)["agreements"][0]), chain.now()
    )
    demo.backing_cmd("series", "show", address, "--units", 3)

    demo.step("Alice and Bob", "back the series' first agreement with 3 and 6 units: each gets a position")
    positions = {}
    for backer, units in (("alice", 3), ("bob", 6)):
        now = chain.now()
        out = demo.backing_cmd("series", "deposit", address, units, "--account", backer, "--yes")
        positions[backer] = model.deposit(backer, units, now)
        demo.check(f"{backer}'s position number", int(found(r"position #(\d+)", out)), positions[backer], "")
        demo.check_text(f"{backer}'s deposit", r"deposited", out, units * terms.base.unit_size)

    demo.step("The modeller", "posts agreement 0's reserve and locks it")
    post_series_reserve(demo, model, address, 0)
    fresh_schedule(demo)
    now = chain.now()
    out = demo.backing_cmd("series", "lock", address, "--account", "modeller", "--yes")
    row = demo.json("series", "show", address)["agreements"][0]
    amounts = model.lock("modeller", now, start_round=row["start_round"])
    demo.check("agreement 0's capital staked", amount_before(" staked", out), amounts.staked)
    demo.check("agreement 0's upfront fee", int(row["upfront_fee"]), amounts.upfront_fee)
    demo.say(f"agreement 0 counts rounds {row['start_round']} to {row['end_round']}")

    demo.step("The modeller", "opens the next agreement with the same terms while the first one runs")
    demo.backing_cmd("series", "open", address, "0", "--open-for", "7d", "--account", "modeller", "--yes")
    model.open_agreement(
        "modeller", _terms_at(terms, demo.json("series", "show", address)["agreements"][1]), chain.now()
    )
    demo.step("Alice", "consents to roll her whole claim into agreement 1 when agreement 0 settles; Bob does not")
    out = demo.backing_cmd("series", "consent", address, positions["alice"], "--account", "alice", "--yes")
    model.roll(positions["alice"], "alice")
    demo.say("Bob declines: he will take his NMR out when agreement 0 settles")

    demo.step("The oracle's owner", "allows a watcher to dispute reports (an independent party holding NMR for bonds)")
    demo.backing_cmd(
        "oracle", "signers", "watcher", a["watcher"], "--owner-account", "deployer", *demo.oracle_args, "--yes"
    )

    resolve_rounds(demo, row["end_round"])
    wrong_round = row["start_round"]
    right = demo.scores[wrong_round]
    garbled = (right[0].replace("0.0", "0.1", 1), right[1])
    demo.step(
        "The oracle operator",
        f"posts rounds {demo.posted + 1} to {max(demo.scores)}, but his copy of Numerai's results is garbled: "
        f"round {wrong_round}'s CORR20 reads {garbled[0]} instead of {right[0]}",
    )
    publish(demo, wrong={wrong_round: garbled})
    oracle_run(demo)
    demo.backing_cmd("model", "show", MODEL)

    watcher_file = publish(demo, path=demo.home / "watcher" / "results.json")
    demo.step(
        "The watcher",
        "compares every posted report with Numerai (his own copy) and disputes the wrong one, posting the bond",
    )
    out = demo.backing_cmd(
        "oracle", "watch", "--once", "--source", "file", "--file", watcher_file, "--watcher-account", "watcher",
        *demo.oracle_args, "--db", demo.home / "watcher.sqlite", "--yes",
    )  # fmt: skip
    if f"round {wrong_round} disputed" not in out:
        raise DemoFailure(f"the watcher did not dispute round {wrong_round}")
    demo.step(
        "The three signers (the dispute quorum)",
        f"replace round {wrong_round}'s report; the bond goes back to the watcher",
    )
    demo.backing_cmd(
        "oracle", "resolve", MODEL, wrong_round, "--source", "file", "--file", watcher_file,
        "--account", "signer1", "--account", "signer2", "--account", "signer3", "--sender-account", "operator",
        *demo.oracle_args, "--yes",
    )  # fmt: skip
    demo.say("the operator fixes his copy of the results")
    publish(demo)
    finalize(demo, demo.posted + 1, max(demo.scores))
    if demo.nmr_balance(a["watcher"]) != demo.start_balances["watcher"]:
        raise Mismatch("the watcher's bond did not come back")
    demo.say("the watcher holds all his NMR again: the bond came back with the replaced report")

    demo.step("Bob (anyone may)", "matures agreement 0")
    out = demo.backing_cmd("series", "mature", address, "--account", "bob", "--yes")
    due = model.mature(chain.now(), demo.indices[row["start_round"] - 1], demo.indices[row["end_round"]])
    demo.check_text("agreement 0's amount due", r"amount due", out, due)
    demo.step("The modeller", "repays agreement 0")
    out = demo.backing_cmd("series", "repay", address, "--account", "modeller", "--yes")
    demo.check_text("agreement 0 repaid", r"repaid", out, due)
    model.repay("modeller", due, chain.now())
    demo.check("the series' price", int(demo.json("series", "show", address)["price"]), model.price, "fixed")

    demo.step("The modeller (anyone may)", "executes Alice's consented roll into agreement 1")
    out = demo.backing_cmd("series", "execute-roll", address, "--account", "modeller", "--yes")
    alice1 = model.execute_roll(positions["alice"])
    rolled = model.position(positions["alice"])[0].rolled
    demo.check_text("Alice's rolled claim", rf"position #{positions['alice']} rolled", out, rolled)
    demo.check("Alice's new position number", int(found(r"into position #(\d+)", out)), alice1, "")

    demo.step("Bob", "claims what agreement 0 owes him")
    demo.backing_cmd("position", a["bob"])
    rows = {p["position"]: p for p in demo.json("position", a["bob"])["series_positions"]}
    demo.check(
        "Bob's claimable amount",
        int(rows[positions["bob"]]["claimable"]),
        model.position(positions["bob"])[0].claimable,
    )
    out = demo.backing_cmd("series", "claim", address, "--account", "bob", "--yes")
    demo.check_text("Bob's claim", r"claimed", out, model.claim(positions["bob"]))

    demo.step("Carol", "backs agreement 1 with 2 units, beside Alice's rolled claim")
    now = chain.now()
    out = demo.backing_cmd("series", "deposit", address, 2, "--account", "carol", "--yes")
    positions["carol"] = model.deposit("carol", 2, now)
    demo.check_text("Carol's deposit", r"deposited", out, 2 * terms.base.unit_size)
    post_series_reserve(demo, model, address, 1)
    wait = model.lockable_at() - chain.now() + 5
    if wait > 0:
        demo.step("Time passes", f"{wait // 60} minutes: backers may still roll in for an hour after a settlement")
        chain.advance(wait)
    fresh_schedule(demo)
    demo.step("The modeller", "locks agreement 1")
    now = chain.now()
    out = demo.backing_cmd("series", "lock", address, "--account", "modeller", "--yes")
    row = demo.json("series", "show", address)["agreements"][1]
    amounts = model.lock("modeller", now, start_round=row["start_round"])
    demo.check("agreement 1's capital staked", amount_before(" staked", out), amounts.staked)
    demo.say(f"agreement 1 counts rounds {row['start_round']} to {row['end_round']}")

    demo.step(
        "Alice and Carol", "Alice sells 50 NMR of her locked position to Carol, who first accepts transfers from her"
    )
    demo.backing_cmd("series", "accept-transfers", address, a["alice"], "--account", "carol", "--yes")
    model.accept_transfers("carol", "alice", True)
    out = demo.backing_cmd("series", "transfer", address, alice1, a["carol"], 50, "--account", "alice", "--yes")
    bought = model.transfer(alice1, "alice", "carol", 50 * ONE)
    demo.say("(Carol pays Alice for it outside the protocol: the series only moves the position)")
    demo.check("Carol's bought position number", int(found(r"their position #(\d+)", out)), bought, "")
    demo.backing_cmd("series", "show", address, "--backer", a["carol"])

    resolve_rounds(demo, row["end_round"])
    post_rounds(demo)
    demo.step("Alice (anyone may)", "matures agreement 1; the modeller repays it")
    out = demo.backing_cmd("series", "mature", address, "--account", "alice", "--yes")
    due = model.mature(chain.now(), demo.indices[row["start_round"] - 1], demo.indices[row["end_round"]])
    demo.check_text("agreement 1's amount due", r"amount due", out, due)
    out = demo.backing_cmd("series", "repay", address, "--account", "modeller", "--yes")
    demo.check_text("agreement 1 repaid", r"repaid", out, due)
    model.repay("modeller", due, chain.now())

    demo.step("Alice and Carol", "claim everything their positions hold")
    for backer in ("alice", "carol"):
        mine = [p["position"] for p in demo.json("position", a[backer])["series_positions"] if not p["done"]]
        expected = sum(model.claim(pid) for pid in mine)
        out = demo.backing_cmd("series", "claim", address, "--account", backer, "--yes")
        paid = sum(wei(x) for x in re.findall(r"claimed ([0-9.]+) NMR", out))
        demo.check(f"{backer}'s claims", paid, expected)
    demo.step("The modeller", "collects what the series credited him (fees, reserves returned)")
    demo.backing_cmd("series", "show", address)
    demo.backing_cmd("series", "collect", address, "--account", "modeller", "--yes")
    demo.backing_cmd("position", a["alice"])
    demo.backing_cmd("model", "show", MODEL)
    demo.series_model = model


def _terms_at(terms, chain_agreement):
    """The series terms with the deposit deadline the chain set when the agreement opened."""
    return replace(terms, base=replace(terms.base, open_until=chain_agreement["open_until"]))


def conservation(demo: Demo) -> None:
    """Every party's NMR balance change (read from the token) is what the two reference models moved."""
    demo.step("The end", "every party's NMR balance, read from the token, against the reference models' flows")
    agreement, series = demo.agreement_model.transfers, demo.series_model.transfers
    for party in ("modeller", *BACKERS, "watcher"):
        moved = agreement.get(party, 0) + series.get(party, 0)
        if party == "modeller":  # he is also the staking wallet: he received the stakes and repaid from them
            moved += agreement.get("staking", 0) + series.get("staking", 0)
        change = demo.nmr_balance(demo.addresses[party]) - demo.start_balances[party]
        demo.check(f"{party}'s NMR balance change", change, moved)


if __name__ == "__main__":
    sys.exit(main())
