"""``backing montecarlo``: the command line of the Monte Carlo (``backing.montecarlo``): options, the terms and
history files, the report on stdout, the JSON and plots written.

    backing montecarlo --terms FILE [--units N] [--paths 10000] [--rounds 260] [--seed S] [--json OUT] [--plot DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from backing.cli.common import EXIT_BAD_INPUT, EXIT_OK
from backing.client import CliError
from backing.model.agreement import ONE
from backing.model.terms import TermsError, load_terms_file, nmr_to_wei
from backing.montecarlo import (
    SCHEMES,
    SCORE_NAMES,
    Config,
    MonteCarloError,
    Payout,
    ScoreModel,
    generate_scores,
    make_position,
    plot,
    report_text,
    result_json,
    run,
    write_history,
)


def parse_fixed(option: str, text: str) -> int:
    """Decimal text -> 1e18 fixed point, exactly (at most 18 decimals, not negative)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MonteCarloError(f"{option} must be a number such as 0.5, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise MonteCarloError(f"{option} must be a finite number, not negative (got {text})")
    scaled = value * ONE
    if scaled != scaled.to_integral_value() or value > 10**6:
        raise MonteCarloError(f"{option} ({text}) has more than 18 decimals or is far too large")
    return int(scaled)


def _float(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MonteCarloError(f"{option} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise MonteCarloError(f"{option} must be a finite number, not {text!r}")
    return value


def _int(option: str, text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise MonteCarloError(f"{option} must be a whole number, not {text!r}") from None
    if value < low or (high is not None and value > high):
        raise MonteCarloError(
            f"{option} ({value}) must be " + (f"between {low} and {high}" if high is not None else f"at least {low}")
        )
    return value


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``backing montecarlo`` on the CLI's subcommand set."""
    p = commands.add_parser(
        "montecarlo",
        help="distribution of outcomes over many simulated score paths (offline)",
        description="Simulate many score paths through the contracts' integer math (vectorised reference model)\n"
        "and report the distribution of a backer's return, the modeller's fees, reserve use and\n"
        "reserve shortfalls. Scores come from a calibrated generator (defaults are assumptions:\n"
        "see backing/montecarlo/params.py ScoreModel) or a block bootstrap of a history file.",
        epilog="examples:\n"
        "  backing montecarlo --terms examples/terms.yaml --units 1 --paths 10000 --rounds 260 --seed 1\n"
        "  backing montecarlo --terms examples/terms.yaml --history examples/history.csv --block 20 "
        "--plot out/\n"
        "  backing montecarlo --terms examples/terms.yaml --history chain --model UUID --rpc-url URL\n"
        "  backing montecarlo --terms examples/terms.yaml --history numerai --model UUID\n"
        "  backing montecarlo --write-history FILE --rounds 500 --seed 7   (a synthetic history)\n\n"
        "Exit codes: 0 success, 2 bad input (message on stderr); with --history chain also those of the chain "
        "commands (3 node unreachable, 4 wrong chain id, 5 no deployment).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a = p.add_argument
    a("--terms", metavar="FILE", help="terms file (.yaml, .yml or .json), as for `backing terms check`")
    a(
        "--units",
        default="1",
        metavar="N",
        help="the representative backer's units (default 1); his tier " "follows from the terms' fee ladder",
    )
    a(
        "--total-units",
        metavar="T",
        help="units in the whole agreement (default: --units); the rest is held by " "one other backer",
    )
    a("--reserve", metavar="NMR", help="reserve the modeller posts (default: the minimum the terms require)")
    a("--paths", default="10000", metavar="N", help="score paths to simulate (default 10000)")
    a("--rounds", metavar="N", help="resolved rounds per path (default: the terms' lockup_rounds)")
    a(
        "--scheme",
        choices=sorted(SCHEMES),
        default="v2",
        help="payout settings: v2 = clip(pf x (0.5 CORR20 + 2 MMC), +-0.05) (default), abs = 5 CORR + 10 MMC, "
        "clip 1 (numerai-staking.md s.1)",
    )
    a("--multipliers", metavar="C,M", help="CORR20 and MMC multipliers (override the scheme's)")
    a(
        "--payout-factor",
        metavar="F",
        help="payout factor, 0..1 (default: v2 0.25, an assumption for " "min(1, 72000 / NMR at risk); abs 1)",
    )
    a("--clip", metavar="C", help="per-round clip, 0..1 (default: the scheme's)")
    a(
        "--exposure",
        default="1",
        metavar="E",
        help="fraction of the stake at risk per resolved round, as the "
        "oracle's model exposure (default 1: v2 puts the whole stake "
        "at risk in every round; with abs use the per-round stake's "
        "share of the capital)",
    )
    a("--corr-mean", default=str(ScoreModel.corr_mean), metavar="X", help="CORR20 mean per round (assumption)")
    a("--corr-sd", default=str(ScoreModel.corr_sd), metavar="X", help="CORR20 standard deviation (assumption)")
    a("--mmc-mean", default=str(ScoreModel.mmc_mean), metavar="X", help="MMC mean per round (assumption)")
    a("--mmc-sd", default=str(ScoreModel.mmc_sd), metavar="X", help="MMC standard deviation (assumption)")
    a(
        "--corr-mmc",
        default=str(ScoreModel.corr_mmc),
        metavar="RHO",
        help="correlation of CORR20 and MMC in a round (assumption)",
    )
    a(
        "--overlap",
        default=str(ScoreModel.overlap),
        metavar="W",
        help="scoring window in rounds: scores are a moving average of W daily innovations, so consecutive rounds "
        "correlate (W-k)/W at lag k (default 20: 20D2L scoring, daily rounds); 1 = independent",
    )
    a("--ar1", metavar="PHI", help="use an AR(1) with this lag-1 autocorrelation instead of the moving average")
    a(
        "--history",
        metavar="FILE|chain|numerai",
        help="block-bootstrap this CSV (columns round,corr20,mmc) instead of the generator; `chain`: the final "
        "rounds the oracle posted for --model (--rpc-url, the deployment's manifest); `numerai`: the resolved "
        "rounds Numerai publishes for the public model --model (--numerai-url for another endpoint)",
    )
    a("--model", metavar="UUID", help="the Numerai model of --history chain or numerai")
    a("--rpc-url", metavar="URL", help="with --history chain: the node (default $BACKING_RPC_URL)")
    a("--manifest", metavar="FILE", help="with --history chain: the deployment (default deployments/<chainId>.json)")
    a("--chain-id", type=int, metavar="N", help="with --history chain: refuse any other chain")
    a("--from-block", type=int, default=0, metavar="N", help="with --history chain: first block to read events from")
    a("--numerai-url", metavar="URL", help="with --history numerai: the GraphQL endpoint (default Numerai's)")
    a("--block", default="20", metavar="N", help="bootstrap block length in rounds (default 20)")
    a("--default-prob", default="0", metavar="P", help="probability the modeller repays nothing (default 0)")
    a("--seed", metavar="S", help="random seed (default: fresh; the report prints the seed used)")
    a(
        "--chunk",
        default="1000",
        metavar="N",
        help="paths per chunk / progress step (default 1000; the draws " "depend on it)",
    )
    a("--json", metavar="OUT", help="write the results as JSON to OUT")
    a("--plot", metavar="DIR", help="write PNG plots to DIR")
    a("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal anyway)")
    a("--write-history", metavar="FILE", help="write one generated path as a history CSV to FILE and stop")
    a("--now", type=int, default=None, metavar="UNIX", help="check the terms as of this unix time")
    p.set_defaults(handler=cmd_montecarlo)
    return p


def config_from_args(args) -> Config:
    scheme = SCHEMES[args.scheme]
    mults = scheme.multipliers
    if args.multipliers is not None:
        parts = [x for x in args.multipliers.split(",")]
        if len(parts) != len(SCORE_NAMES):
            raise MonteCarloError(
                f"--multipliers needs {len(SCORE_NAMES)} comma-separated values "
                f"({','.join(SCORE_NAMES)}), e.g. 0.5,2"
            )
        mults = tuple(parse_fixed("--multipliers", x) for x in parts)
    payout = Payout(
        multipliers=mults,
        payout_factor=scheme.payout_factor
        if args.payout_factor is None
        else parse_fixed("--payout-factor", args.payout_factor),
        clip=scheme.clip if args.clip is None else parse_fixed("--clip", args.clip),
        exposure=parse_fixed("--exposure", args.exposure),
    )
    payout.validate()
    model = ScoreModel(
        corr_mean=_float("--corr-mean", args.corr_mean),
        corr_sd=_float("--corr-sd", args.corr_sd),
        mmc_mean=_float("--mmc-mean", args.mmc_mean),
        mmc_sd=_float("--mmc-sd", args.mmc_sd),
        corr_mmc=_float("--corr-mmc", args.corr_mmc),
        overlap=_int("--overlap", args.overlap, 1, 10_000),
        ar1=None if args.ar1 is None else _float("--ar1", args.ar1),
    )
    model.validate()
    seed = int(np.random.SeedSequence().entropy) % 2**63 if args.seed is None else _int("--seed", args.seed, 0)
    if args.write_history:
        rounds = _int("--rounds", args.rounds or "500", 1, 1_000_000)
        return Config(None, payout, rounds, 1, seed, model=model)
    if not args.terms:
        raise MonteCarloError("--terms FILE is required (or --write-history FILE)")
    terms = load_terms_file(args.terms, args.now)
    reserve = None
    if args.reserve is not None:
        try:
            reserve = nmr_to_wei("--reserve", args.reserve)
        except TermsError as error:
            raise MonteCarloError(str(error)) from None
    units = _int("--units", args.units, 1)
    total = None if args.total_units is None else _int("--total-units", args.total_units, 1)
    position = make_position(terms, units, total, reserve)
    rounds = terms.lockup_rounds if args.rounds is None else _int("--rounds", args.rounds, 1, 5200)
    paths = _int("--paths", args.paths, 1, 10_000_000)
    default_prob = _float("--default-prob", args.default_prob)
    if not 0 <= default_prob <= 1:
        raise MonteCarloError(f"--default-prob ({args.default_prob}) must be a probability between 0 and 1")
    history = None
    block = _int("--block", args.block, 1)
    if args.history:
        from backing.client.history import load_history  # a file, the oracle's posted rounds, or Numerai's

        _, history = load_history(args)
        if block > len(history):
            raise MonteCarloError(f"--block ({block}) is longer than the history ({len(history)} rounds)")
    return Config(
        position,
        payout,
        rounds,
        paths,
        seed,
        model=None if history is not None else model,
        history=history,
        block=block,
        default_prob=default_prob,
        chunk=_int("--chunk", args.chunk, 1),
        keep_paths=bool(args.plot or args.json),
    )


def cmd_montecarlo(args) -> int:
    try:
        config = config_from_args(args)
        if args.write_history:
            rng = np.random.default_rng(np.random.SeedSequence(config.seed))
            scores = generate_scores(config.model, 1, config.rounds, rng)[0]
            write_history(
                args.write_history,
                scores,
                "SYNTHETIC scores, not real Numerai data: written by `backing montecarlo --write-history` "
                f"with seed {config.seed}\nand the generator {config.model.describe()}",
            )
            print(f"wrote {config.rounds} synthetic rounds to {args.write_history} (seed {config.seed})")
            return EXIT_OK
        result = run(config, progress=False if args.no_progress else None)
        print(report_text(result))
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(result_json(result), indent=2) + "\n")
            print(f"\nJSON written to {args.json}")
        if args.plot:
            for path in plot(result, args.plot):
                print(f"plot written to {path}")
        return EXIT_OK
    except MonteCarloError as error:
        print(f"backing: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CliError as error:  # --history chain: the node or the deployment (exit codes of the chain commands)
        print(f"backing: error: {error}", file=sys.stderr)
        return error.code
    except OSError as error:
        print(f"backing: error: cannot write output: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
