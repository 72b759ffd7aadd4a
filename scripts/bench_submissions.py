"""Gas of a SubmissionLog commitment: one per transaction and many in one `commitMany`, a model's first commitment
and the ones after it, by the modeller and by his agent, with and without Numerai's submission id and hash.

    /usr/bin/time -v -o build/bench-submissions-time.txt \\
        brownie run scripts/bench_submissions.py --network anvil-p3 &&   # writes bench/submissions.md
    grep -E "Maximum resident|Elapsed" build/bench-submissions-time.txt >> bench/submissions.md

Any local network does (ganache too). Figures are `gasUsed` of the transaction, which includes the 21,000 every
transaction pays and the calldata; "per commitment" divides a batch's `gasUsed` by its size. Hashes and ids are
fixed non-zero bytes (the worst case for calldata), so every number is deterministic. BENCH_OUT sets the directory
(default bench). The table notes this process's peak memory (getrusage); the `grep` appends `/usr/bin/time`'s
figure for the whole run.
"""

import datetime
import os
import platform
from pathlib import Path

from brownie import SubmissionLog, accounts, chain

from backing.model.agreement import ONE
from backing.onchain.oracle import OracleParams, SignedOracle, deploy_oracle, signer_keys

QUORUM, DISPUTE_QUORUM = 2, 3  # as the tests and `make demo` deploy the oracle

HASH = bytes(range(1, 33))
SUB_ID = bytes(range(101, 117)) + b"\0" * 16
SUB_HASH = bytes(range(201, 233))
NO = b"\0" * 32
ROUNDS = 20
BATCH_SIZES = (1, 5, 10, 25)
TARGET = 30_000


def model(i: int) -> bytes:
    return (0xC0FFEE00 + i).to_bytes(16, "big") + b"\0" * 16


def main():
    from brownie import MockNMR

    deployer, modeller, agent, relayer = accounts[0], accounts[1], accounts[2], accounts[3]
    token = MockNMR.deploy({"from": deployer})
    oracle = deploy_oracle(deployer, token, signer_keys(3), QUORUM, DISPUTE_QUORUM, OracleParams())
    signed = SignedOracle(oracle, signer_keys(3), relayer, silent=True)
    models = max(BATCH_SIZES) * 2 + 2
    for i in range(models):
        signed.register(model(i), modeller, ONE, 1)
    signed.announce_through(ROUNDS)
    log = SubmissionLog.deploy(oracle, {"from": deployer})
    log.setAgent(agent, {"from": modeller})
    rows = []

    def single(label, m, r, sender, ids=True):
        tx = log.commit((m, r, HASH, SUB_ID if ids else NO, SUB_HASH if ids else NO), {"from": sender})
        rows.append((label, 1, tx.gas_used, tx.gas_used))

    single("one per transaction, the model's first commitment", model(0), 1, modeller)
    single("one per transaction, a later round", model(0), 2, modeller)
    single("one per transaction, a later round, by the agent", model(0), 3, agent)
    single("one per transaction, a later round, without Numerai's ids", model(0), 4, modeller, ids=False)
    steady = [log.commit((model(0), r, HASH, SUB_ID, SUB_HASH), {"from": modeller}).gas_used for r in range(5, 15)]
    rows.append(("one per transaction, rounds 5-14 (mean)", 1, sum(steady), sum(steady) // len(steady)))

    # batches: several models in one round (the usual case: one modeller, many models)
    base = 1
    for size in BATCH_SIZES:
        group = [model(base + k) for k in range(size)]
        tx = log.commitMany([(m, 1, HASH, SUB_ID, SUB_HASH) for m in group], {"from": modeller})
        rows.append((f"commitMany, {size} models", size, tx.gas_used, tx.gas_used // size))
        base += size
    # one model, several rounds at once (catching up on announced rounds)
    tx = log.commitMany([(model(0), r, HASH, SUB_ID, SUB_HASH) for r in range(15, 21)], {"from": modeller})
    rows.append(("commitMany, one model, rounds 15-20", 6, tx.gas_used, tx.gas_used // 6))
    write(rows)


def peak_memory() -> str:
    import resource

    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (this Python process, getrusage)"


def write(rows):
    out = Path(os.environ.get("BENCH_OUT", "bench")) / "submissions.md"
    worst = max(per for _, _, _, per in rows)
    lines = [
        "# Gas of a predictions commitment (SubmissionLog)",
        "",
        "Command (from the repository root, after `make setup compile`):",
        "",
        "```sh",
        "/usr/bin/time -v -o build/bench-submissions-time.txt \\",
        "    .venv/bin/brownie run scripts/bench_submissions.py --network anvil-p3 &&",
        'grep -E "Maximum resident|Elapsed" build/bench-submissions-time.txt >> bench/submissions.md',
        "```",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
        f" (chain: {chain.id}); peak memory of the run: {peak_memory()}.",
        "",
        "`gasUsed` of the transaction, base cost (21,000) and calldata included; a batch's per-commitment figure is",
        "its `gasUsed` divided by its size. Every commitment carries Numerai's submission id and hash unless the row",
        "says otherwise. The log writes no storage per commitment: it emits one event, and the rules of",
        "ISubmissionLog (the modeller's or his agent's first commitment, before the oracle's deadline) decide what",
        "counts, applied by `backing submission verify` and `backing consistency` to the chain's own data.",
        "",
        "| transaction | commitments | gasUsed | per commitment |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, n, total, per in rows:
        lines.append(f"| {label} | {n} | {total:,} | {per:,} |")
    lines += [
        "",
        f"Target: at most {TARGET:,} gas per commitment: {'met' if worst <= TARGET else 'NOT met'} in every row",
        f"(the worst: {worst:,}, a commitment alone in its transaction, 21,000 of which is the base cost every",
        "Ethereum transaction pays). Until 2026-12-04 the log also checked the model's owner and the round's",
        "deadline at the oracle and kept a bit per round, which cost 42,396 gas alone in a transaction (59,496 for",
        "a model's first); those checks now run in `backing submission commit` before it sends, and the readers",
        "apply the same rules, so a commitment that would not count is neither sent by the CLI nor counted.",
        "",
    ]
    out.write_text("\n".join(lines))
    print("\n".join(lines))
