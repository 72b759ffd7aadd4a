"""Demo: one backing agreement from offer to settlement on a local chain, checked against the reference model.

    brownie run scripts/demo.py --network ganache-cli        (what `make demo` runs)

The story follows the seed proposal: a modeller offers 100 NMR units at a 50% profit share (40% for positions
of 10 units or more), 50% burn share, a reserve of 50% of the stake, a 1% upfront fee and a 12-round lockup.
Alice, Bob and Carol back him. Numerai is played by the fake Numerai GraphQL server (``oracle.fake_numerai``)
serving a dozen rounds of realistic scores (one missed); the oracle service (``backing oracle run``: numerapi ->
two signer keystores, k = 2 -> one signed batch) announces, posts, attests and finalizes them; the staking wallet
ends up holding the final value, the modeller repays, everyone claims. The settlement table is
built from what happened on chain (token Transfer events and the agreement's state), then the same story runs
through ``backing.model.agreement.Agreement`` and every number is compared to the wei. Any difference raises, so the
script exits non-zero.
"""

import json
from decimal import Decimal

from brownie import BackingAgreement, accounts, chain

from backing.model.agreement import ONE, Agreement, lock_amounts, next_index, round_return
from backing.model.terms import load_terms
from backing.onchain.agreement import agreement_from_chain, deploy_stack, set_allowance
from backing.report import STAKING, duration, nmr, percent, settlement_data, settlement_table
from oracle.testing.fake_numerai import FakeNumerai
from oracle.testing.operator import OracleOperator, start_fake_numerai

MODEL_UUID = "5c1b2f3a-8d4e-4b6a-9f7c-2a1e3d4c5b6a"
EXPOSURE = ONE  # each resolved round puts the whole stake at risk, as Numerai does
MAX_CLIP = 5 * ONE // 100
MAX_MULTIPLIER = 10 * ONE
MIN_ROUND_SPACING = 22 * 3600
ROUND_SPACING = 86400  # Numerai opens a round every day

SCORE_NAMES = ("CORR20", "MMC")
MULTIPLIERS = (ONE // 2, 2 * ONE)  # payout = 0.5 x CORR20 + 2 x MMC
PAYOUT_FACTOR = ONE
CLIP = MAX_CLIP

#: Resolved scores per round (CORR20, MMC); None = the model missed the round. Round 1 resolves before the
#: lockup starts (the agreement locks while round 1 is open, so its first counted round is 2).
ROUNDS = {
    1: ("0.0182", "0.0091"),
    2: ("0.0214", "0.0123"),
    3: ("0.0157", "-0.0042"),
    4: ("-0.0118", "-0.0095"),
    5: ("0.0263", "0.0187"),
    6: None,
    7: ("0.0301", "0.0256"),
    8: ("0.0098", "0.0034"),
    9: ("-0.0226", "-0.0151"),
    10: ("0.0172", "0.0110"),
    11: ("0.0245", "0.0139"),
    12: ("0.0131", "0.0068"),
    13: ("0.0199", "0.0102"),
}

BACKERS = {"alice": 1, "bob": 12, "carol": 3}


def terms_offered(now: int, staking_address: str):
    """The modeller's offer in human units, through the same loader the CLI uses."""
    return load_terms(
        {
            "unit_size": 100,
            "min_units": 1,
            "max_units": 50,
            "profit_share": "0.5",
            "burn_share": "0.5",
            "reserve_ratio": "0.5",
            "upfront_fee": "0.01",
            "lockup_rounds": 12,
            "open_for": "7d",
            "wind_down": "7d",
            "staking_address": staking_address,
            "model_id": MODEL_UUID,
            "fee_ladder": [{"min_units": 10, "profit_share": "0.4"}],
        },
        now=now,
    )


def fixed(text: str) -> int:
    """A decimal string as 1e18 fixed point, exactly."""
    value = Decimal(text) * ONE
    assert value == value.to_integral_value(), text
    return int(value)


def shown(value: int, places: int = 4) -> str:
    """A 1e18 fixed-point number for display only (rounded; the checks compare integers)."""
    return f"{Decimal(value) / ONE:+.{places}f}"


def step(text: str) -> None:
    print(f"\n> {text}")


def say(text: str) -> None:
    print(f"    {text}")


def main():
    # Every transaction below passes silent=True: the script narrates each step itself, and brownie's
    # per-transaction lines would drown the story.
    deployer, modeller, reporter, staking = accounts[0], accounts[1], accounts[6], accounts[7]
    backers = {name: accounts[2 + i] for i, name in enumerate(BACKERS)}
    labels = {
        modeller.address: "modeller",
        staking.address: "staking wallet",
        **{a.address: name for name, a in backers.items()},
    }

    print("Backing Vaults demo: a modeller offers terms, three backers fund his Numerai stake,")
    print("twelve rounds resolve, the modeller repays and everyone is paid out.")

    step("Deploy the NMR mock, the score oracle (3 signers, any 2 sign) and the agreement factory")
    token, oracle, factory, signed = deploy_stack(
        deployer, reporter, max_clip=MAX_CLIP, max_multiplier=MAX_MULTIPLIER, min_round_spacing=MIN_ROUND_SPACING
    )
    say(f"NMR {token.address}, oracle {oracle.address}, factory {factory.address}")
    say(
        f"oracle bounds: clip at most {percent(MAX_CLIP * 10_000 // ONE)}, multipliers at most "
        f"{MAX_MULTIPLIER // ONE}, rounds at least {duration(MIN_ROUND_SPACING)} apart; reports final after a "
        f"{duration(oracle.challengeWindow())} challenge window"
    )

    terms = terms_offered(chain.time(), staking.address)
    model_id = "0x" + terms.model_id.hex()
    step(f"The oracle's signers register model {MODEL_UUID} for the modeller (2 of 3 sign, anyone relays)")
    signed.register(model_id, modeller, EXPOSURE, 1)

    # Numerai, played by the fake GraphQL server: round 1 is open; its profile names the modeller's address
    first_close = chain.time() + 3600
    numerai = FakeNumerai(now=chain.time)
    numerai.add_round(1, open_time=first_close - 3 * 3600, close_staking_time=first_close, resolved=False)
    numerai.add_model(MODEL_UUID, "demo_model", bio=f"My Backing Vaults address: {modeller.address}")
    server, numerai_url = start_fake_numerai(numerai)
    operator = OracleOperator(oracle, signed, numerai_url, {MODEL_UUID: "demo_model"})
    step("The oracle service reads Numerai (round 1 open), announces round 1 and attests the model's owner")
    operator.run()
    say(
        f"round 1 takes submissions for another {duration(first_close - chain.time())}; model ownership "
        f"{'attested' if oracle.isAttested(model_id) else 'NOT attested'} (address found in the owner's profile)"
    )

    step("The modeller offers his terms")
    start_block = chain.height
    tx = factory.createAgreement(terms.as_tuple(), terms.ladder_tuples(), {"from": modeller}, silent=True)
    agreement = BackingAgreement.at(tx.events["AgreementCreated"]["agreement"])
    tier = terms.fee_ladder[0]
    say(f"units of {nmr(terms.unit_size)} NMR, {terms.min_units} to {terms.max_units} units")
    say(
        f"profit share {percent(terms.profit_share_bps)} ({percent(tier.profit_share_bps)} from "
        f"{tier.min_units} units), burn share {percent(terms.burn_share_bps)}"
    )
    say(
        f"reserve {percent(terms.reserve_ratio_bps)} of the stake, upfront fee {percent(terms.upfront_fee_bps)}, "
        f"lockup {terms.lockup_rounds} rounds, wind-down {duration(terms.wind_down)}"
    )
    say(f"agreement deployed at {agreement.address}")

    total_units = sum(BACKERS.values())
    planned = lock_amounts(terms, total_units)
    reserve = terms.required_reserve(planned.staked)
    step(
        f"The modeller posts a reserve of {nmr(reserve)} NMR "
        f"({percent(terms.reserve_ratio_bps)} of the {nmr(planned.staked)} NMR that {total_units} units stake)"
    )
    token.mintTo(modeller, reserve, {"from": modeller}, silent=True)
    set_allowance(token, modeller, agreement, reserve, silent=True)
    agreement.postReserve(reserve, {"from": modeller}, silent=True)

    step("Backers take NMR from the faucet, approve the agreement and deposit")
    for name, units in BACKERS.items():
        backer, amount = backers[name], units * terms.unit_size
        token.mintTo(backer, amount, {"from": backer}, silent=True)
        set_allowance(token, backer, agreement, amount, silent=True)
        agreement.deposit(units, {"from": backer}, silent=True)
        say(
            f"{name:<6} {units:>2} unit{'s' if units > 1 else ' '} = {nmr(amount):>5} NMR   "
            f"profit share {percent(terms.profit_share_for(units))}"
        )

    announced = oracle.currentRound()
    lock_time = chain.time()
    tx = agreement.lock({"from": modeller}, silent=True)
    start, end = agreement.startRound(), agreement.startRound() + terms.lockup_rounds - 1
    step("The modeller locks the agreement")
    say(
        f"{nmr(agreement.upfrontFee())} NMR upfront fee to the modeller, "
        f"{nmr(agreement.stakedCapital())} NMR to his staking wallet"
    )
    say(f"the lockup counts rounds {start} to {end} (round {announced} was already open)")

    step("Six weeks pass: Numerai opens a round a day and resolves them about 31 days later")
    chain.sleep(45 * 86400)
    chain.mine()
    for round_, scores in ROUNDS.items():
        close = first_close + (round_ - 1) * ROUND_SPACING
        numerai.add_round(round_, open_time=close - 3600, close_staking_time=close, resolved=True)
        if scores is not None:
            numerai.set_scores(MODEL_UUID, round_, dict(zip(SCORE_NAMES, scores)))
    step(
        "The oracle service posts every resolved round in one signed batch (return = 0.5 x CORR20 + 2 x MMC, "
        "payout factor 1, clip 5%)"
    )
    planned = operator.dry_run()
    say(f"dry run: {len(planned)} reports, e.g. {json.dumps(planned[1])}")
    operator.run()
    say(
        f"posted rounds {oracle.modelInfo(model_id)[2]} to {oracle.lastPostedRound(model_id)}; final after the "
        f"challenge window, unless a signer or watcher disputes them"
    )
    chain.sleep(oracle.challengeWindow())
    chain.mine()
    step("After the challenge window the service's next pass finalizes them")
    operator.run()
    server.stop()
    for round_, scores in ROUNDS.items():
        index, returned, _ = oracle.roundRecord(model_id, round_)
        text = (
            "missed (no submission)"
            if scores is None
            else f"CORR20 {shown(fixed(scores[0]))}  MMC {shown(fixed(scores[1]))}"
        )
        notes = (["clipped"] if abs(returned) == CLIP else []) + ([] if start <= round_ <= end else ["not counted"])
        say(
            f"round {round_:>2}  {text:<30} return {shown(returned * 100, 2)}%  index {shown(index, 6)[1:]}"
            + (f"  ({', '.join(notes)})" if notes else "")
        )

    step("Anyone matures the agreement once its last round is final")
    agreement.mature({"from": backers["alice"]}, silent=True)
    value, due = agreement.finalValue(), agreement.amountDue()
    staked = agreement.stakedCapital()
    say(f"final value V = {nmr(staked)} x index[{end}] / index[{start - 1}] = {nmr(value)} NMR")
    say(f"the modeller owes the backers {nmr(due)} NMR and keeps {nmr(value - due)} NMR of the gain")

    step("Numerai pays out: the staking wallet now holds V")
    held = token.balanceOf(staking)
    if value > held:
        token.mintTo(staking, value - held, {"from": staking}, silent=True)  # payouts are new NMR
    elif value < held:
        token.transfer(deployer, held - value, {"from": staking}, silent=True)  # burns leave the wallet
    say(f"staking wallet: {nmr(held)} -> {nmr(token.balanceOf(staking))} NMR")

    step(f"The modeller repays {nmr(due)} NMR from his staking wallet")
    token.transfer(modeller, due, {"from": staking}, silent=True)
    set_allowance(token, modeller, agreement, due, silent=True)
    tx = agreement.repay(due, {"from": modeller}, silent=True)
    say(f"agreement settled; reserve returned to the modeller: {nmr(tx.events['Settled']['reserveReturned'])} NMR")

    step("Each backer claims")
    chain_claims = {}
    for name, backer in backers.items():
        tx = agreement.claim(backer, {"from": backer}, silent=True)
        chain_claims[backer.address] = tx.events["Claimed"]["amount"]
        swept = (
            f" (last claim: {tx.events['DustSwept']['amount']} wei of rounding dust to the modeller)"
            if "DustSwept" in tx.events
            else ""
        )
        say(f"{name:<6} receives {nmr(chain_claims[backer.address])} NMR{swept}")

    on_chain = agreement_from_chain(agreement, token, terms, start_block)
    print()
    print(
        settlement_table(
            on_chain,
            labels,
            staking=staking.address,
            title="Settlement, from the chain's Transfer events and the agreement's state",
        )
    )

    step("The same story through the reference model (backing.model.agreement)")
    reference, reference_claims, path = replay_reference(
        terms, modeller.address, staking.address, backers, reserve, lock_time, announced + 1
    )
    checks = compare(
        oracle, model_id, on_chain, chain_claims, reference, reference_claims, path, start, end, staking.address, labels
    )
    say(f"{len(checks)} values compared: round returns and indices, lock, maturity, claims, every party's flows")
    mismatches = [(what, got, want) for what, got, want in checks if got != want]
    for what, got, want in mismatches:
        say(f"MISMATCH {what}: chain {got!r}, reference {want!r}")
    print(f"\nreference match: {'no' if mismatches else 'yes'}")
    if mismatches:
        raise AssertionError(f"chain and reference model differ in {len(mismatches)} values")


def reference_path() -> tuple[list[int], list[int]]:
    """Round returns and the index after each round (index[0] = 1e18 before round 1), from the reference math."""
    returns, path = [0], [ONE]
    for round_, scores in ROUNDS.items():
        if scores is None:
            r = 0
        else:
            r = round_return(
                [fixed(s) for s in scores],
                list(MULTIPLIERS),
                PAYOUT_FACTOR,
                CLIP,
                max_clip=MAX_CLIP,
                max_multiplier=MAX_MULTIPLIER,
                names=list(SCORE_NAMES),
            )
        returns.append(r)
        path.append(next_index(path[-1], EXPOSURE, r))
    return returns, path


def replay_reference(terms, modeller: str, staking: str, backers: dict, reserve: int, now: int, start_round: int):
    """Run the demo's story through the reference model. The model books the staking wallet as "staking";
    it is renamed to the wallet's address so both sides use the same keys."""
    returns, path = reference_path()
    model = Agreement(terms=terms, modeller=modeller)
    model.post_reserve(modeller, reserve)
    for name, units in BACKERS.items():
        model.deposit(backers[name].address, units, now)
    model.lock(modeller, now, start_round, first_round=1)
    end = model.end_round
    model.mature(now, path[start_round - 1], path[end], last_final=max(ROUNDS))
    model.repay(modeller, model.matured.amount_due)
    claims = {backers[name].address: model.claim(backers[name].address) for name in BACKERS}
    model.transfers[staking] = model.transfers.pop(STAKING)
    return model, claims, (returns, path)


def compare(
    oracle, model_id, on_chain, chain_claims, reference, reference_claims, path, start, end, staking, labels
) -> list[tuple[str, object, object]]:
    """(what, chain value, reference value) for everything the demo can check."""
    returns, indices = path
    checks = []
    for round_ in ROUNDS:
        index, returned, missed = oracle.roundRecord(model_id, round_)
        checks.append((f"round {round_} return", returned, returns[round_]))
        checks.append((f"round {round_} index", index, indices[round_]))
        checks.append((f"round {round_} missed", missed, ROUNDS[round_] is None))
    checks.append(("start round", start, reference.start_round))
    checks.append(("end round", end, reference.end_round))
    checks.append(("lock amounts", on_chain.locked, reference.locked))
    checks.append(("maturity", on_chain.matured, reference.matured))
    checks.append(("units", on_chain.units, reference.units))
    for backer, amount in reference_claims.items():
        checks.append((f"claim of {labels[backer]}", chain_claims[backer], amount))
    summary_chain, summary_reference = on_chain.summary(), reference.summary()
    for key in summary_reference:
        checks.append((f"summary {key}", summary_chain[key], summary_reference[key]))
    checks.append(("agreement balance", on_chain.balance, reference.balance))
    checks.append(
        (
            "settlement table data",
            settlement_data(on_chain, labels, staking),
            settlement_data(reference, labels, staking),
        )
    )
    return checks
