"""Demo: a modeller's series of backing agreements on a local chain, checked against the reference model.

    brownie run scripts/series_demo.py --network ganache-cli        (what `make demo` runs after scripts/demo.py)

The story is the worked example of docs/series.md, four agreements back to back: rollover with consent, Erin
leaving a commitment early (the discount it earned her is charged back), a clawback of held fees covering Alice's
loss in agreement 1, Carol entering late and underwater, Carol selling half her position to Dave mid-lockup, and
everyone rolling into agreement 3 and claiming. Every action runs on the chain and in ``backing.model.series.Series``
(``backing.onchain.series.SeriesMirror``); after each step every agreement, position and token flow is compared to
the wei. The amounts printed are read from the chain. Any difference raises, and the script exits non-zero.
"""

import sys
import time
import warnings

from brownie import accounts, chain

from backing.model.agreement import ONE
from backing.model.series import nmr
from backing.onchain.agreement import deploy_stack
from backing.onchain.factories import series_factory_of
from backing.onchain.series import SeriesMirror, create_series, play_worked_example, settlement_rows

MODEL_ID = "0x" + "ab" * 16 + "00" * 16
MAX_CLIP = ONE  # the example's index moves by whole-agreement steps (+20%, -12.5%, ...) posted as single rounds
MAX_MULTIPLIER = 100 * ONE
MIN_ROUND_SPACING = 22 * 3600


def say(text: str = "") -> None:
    print(text, flush=True)


def table(rows) -> None:
    header = ("party", "paid in (NMR)", "received (NMR)", "net (NMR)")
    body = [(name, nmr(put_in), nmr(out), nmr(net)) for name, put_in, out, net, _ in rows]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(4)]
    fmt = lambda r: "  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])])  # noqa: E731
    say("    " + fmt(header))
    say("    " + "  ".join("-" * w for w in widths))
    for r in body:
        say("    " + fmt(r))


def main():
    # brownie's own calls (chain.sleep/mine inside the oracle helpers) raise FutureWarnings that would drown the story
    warnings.filterwarnings("ignore", category=FutureWarning, message=r"rpc\.")
    started = time.monotonic()
    deployer, modeller, reporter, staking = accounts[0], accounts[1], accounts[6], accounts[7]
    names = {
        "modeller": modeller,
        "alice": accounts[2],
        "bob": accounts[3],
        "carol": accounts[4],
        "dave": accounts[5],
        "erin": accounts[8],
    }

    say("Backing Vaults series demo: one modeller, a series of four backing agreements. Each backer's")
    say("position carries a high-water mark (the series price at which it last paid a profit fee), so")
    say("nobody pays a fee twice for the same gain; part of each fee is held in escrow to claw back later")
    say("losses; backers may commit to several agreements for a lower fee, roll into the next agreement,")
    say("or sell their position. Every number below is read from the chain and matches the reference")
    say("model (backing/model/series.py) to the wei.")

    say("")
    say("> Deploy the NMR mock, the score oracle (3 signers, any 2 sign), and the series factory")
    token, oracle, factory, signed = deploy_stack(
        deployer,
        reporter,
        max_clip=MAX_CLIP,
        max_multiplier=MAX_MULTIPLIER,
        min_round_spacing=MIN_ROUND_SPACING,
        series=True,
    )
    signed.register(MODEL_ID, modeller, ONE, 1)
    signed.announce(1, [chain.time() + 3600])
    series_factory = series_factory_of(factory)  # the agreement factory's partner: one default record
    series = create_series(series_factory, MODEL_ID, modeller)
    say(f"    NMR {token.address}, oracle {oracle.address}, series factory {series_factory.address}")
    say(f"    the modeller ({modeller.address}) registers his model and creates his series: {series.address}")
    say(f"    his Numerai staking wallet: {staking.address}")

    mirror = SeriesMirror(series, token, names, staking.address)
    try:
        done = play_worked_example(mirror, signed, staking.address, MODEL_ID, say=say)
        rows = settlement_rows(mirror)
        mismatched = [name for name, _, _, net, model_net in rows if net != model_net]
        if mismatched:
            raise AssertionError(f"settlement differs from the reference model for {', '.join(mismatched)}")
    except AssertionError as exc:
        say("")
        say(f"series reference match: NO ({exc!r})")
        sys.exit(1)

    say("")
    say("> Settlement (what each party paid into the series and received from it, from the token's transfers;")
    say("  the staking wallet received the capital staked, and keeps what Numerai paid; the modeller repaid")
    say("  out of it — here minted, since there is no Numerai)")
    table(rows)
    say("")
    say(f"    {done['checks']} steps, each compared with the reference model to the wei")
    say(f"    ran in {time.monotonic() - started:.1f} s")
    say("series reference match: yes")
