"""``backing grid``: randomized grid models for generic stakers (seed 004; the guide is docs/grid.md).

    backing grid space [--data DIR | --targets N]             the grid and its exact number of configurations
    backing grid synthetic DIR                                a small dataset in Numerai's schema (tests, demos)
    backing grid data --version v5.0 --out DIR                Numerai's data, through numerapi
    backing grid draw --staker 0x.. --nonce N --data DIR      draw through the gate, train, write the model
    backing grid train MODEL_DIR --data DIR                   retrain a manifest's configuration (reproduce it)
    backing grid predict MODEL_DIR --data DIR --out FILE      predict the live round
    backing grid submit FILE --model-id UUID                  upload predictions through numerapi
    backing grid claim MODEL_DIR --account NAME               claim the configuration on chain (GridRegistry)
    backing grid operator ADDRESS --account STAKER            let an operator claim for you (--revoke)
    backing grid list --staker 0x.. [--models DIR] [--json]   a staker's claimed grid models
    backing grid diversify --data DIR --k 8 --out DIR         k random models against one: table and PNG

Exit codes: 0 ok, 1 ``train`` did not reproduce the manifest's validation CORR on the same data and cap, 2 bad
input (in words, ``backing.errors.GRID_PROBLEMS``); the chain subcommands (claim, operator,
list) use the chain commands' codes 3-11 (a duplicate claim is 7: refused, nothing sent).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from backing.cli.common import EXIT_BAD_INPUT, EXIT_OK
from backing.errors import GridInputError

NUMERAI_KEYS = ("NUMERAI_PUBLIC_ID", "NUMERAI_SECRET_KEY")


def _say(text: str = "") -> None:
    print(text, flush=True)


def _nonce(text: str) -> int:
    from backing.errors import grid_problem

    try:
        return int(text, 0)
    except ValueError:
        raise grid_problem("bad_nonce", value=text) from None


def _load_data(args, record=None):
    """The dataset of --data; for a model's manifest (train, predict), its feature set and era stride unless given."""
    from backing.grid.data import load

    recorded = record.data if record is not None else {}
    feature_set = getattr(args, "feature_set", None) or recorded.get("feature_set", "all")
    stride = getattr(args, "train_era_stride", None) or recorded.get("train_era_stride", 1)
    return load(Path(args.data), feature_set, stride)


# ---------------------------------------------------------------------------------------------- offline


def cmd_space(args) -> int:
    from backing.grid import space

    n_targets = args.targets
    targets = None
    if args.data:
        targets = _load_data(args).targets
        n_targets = len(targets)
    rows = [
        (name, len(space.axis_values(name)), space.axis_values(name)[0], space.axis_values(name)[-1])
        for name in space.PARAMETER_NAMES
    ]
    result = {
        "grid": space.GRID_VERSION,
        "axes": {name: {"values": n, "first": lo, "last": hi} for name, n, lo, hi in rows},
        "targets": targets or n_targets,
        "distinct_configurations": space.distinct_count(n_targets),
        "per_target": space.distinct_count(1),
        "effective_configurations": space.effective_count(n_targets),
        "seed_text_claims": space.SEED_CLAIMED_TOTAL,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    _say(f"grid {space.GRID_VERSION} (seed 004's param_dict):")
    for name, n, lo, hi in rows:
        _say(f"  {name:<18} {n:>7,} values  {lo} .. {hi}")
    _say(f"  {'target':<18} {n_targets:>7,} {'(' + ', '.join(targets) + ')' if targets else 'target columns'}")
    _say(f"distinct configurations: {result['distinct_configurations']:,} ({result['per_target']:,} per target)")
    _say(f"growing different trees: {result['effective_configurations']:,} (max_depth x num_leaves pairs merged)")
    _say(f"the seed's text says {space.SEED_CLAIMED_TOTAL:,}: its product drops a factor of 100")
    return EXIT_OK


def cmd_synthetic(args) -> int:
    from backing.grid.data import synthetic_dataset

    out = synthetic_dataset(Path(args.dir), seed=args.seed, rows_per_era=args.rows_per_era)
    _say(f"synthetic Numerai-format dataset (seed {args.seed}) written to {out}: train, validation, live parquet")
    return EXIT_OK


def cmd_data(args) -> int:
    from backing.grid.data import download

    for path in download(args.version, Path(args.out)):
        _say(f"downloaded {path}")
    return EXIT_OK


def _attempt_line(a, cap: int | None = None) -> str:
    v = a.validation
    verdict = "passes" if a.passed else "fails"
    trees = a.config["n_estimators"]
    trained = f"{trees} trees" + (f" ({min(trees, cap)} trained: cap)" if cap and cap < trees else "")
    return (
        f"  attempt {a.attempt}: {a.config_hash[:12]}.. {a.config['target']}, {trained}: "
        f"CORR {v['mean']:+.4f} (sd {v['std']:.4f}, sharpe {v['sharpe']:.2f}, {v['eras']} eras) {verdict}"
    )


def cmd_draw(args) -> int:
    from backing.grid.draw import checked_nonce, checked_staker, config_hash, sequence
    from backing.grid.pipeline import draw_and_train, model_directory, save_model

    staker, nonce = checked_staker(args.staker), checked_nonce(_nonce(args.nonce))
    data = _load_data(args)
    if args.show is not None:
        rows = [
            {"attempt": a, "config_hash": "0x" + config_hash(c).hex(), "config": c.describe()}
            for a, c in sequence(staker, nonce, data.targets, args.show)
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    cap = args.max_estimators
    (print if not args.json else lambda *a, **k: None)(
        f"drawing for {staker}, nonce {nonce}, on {data.version} ({len(data.features)} features, "
        f"{len(data.targets)} targets); gate: validation CORR above {args.threshold}"
        + (f"; trees capped at {cap}" if cap else "")
    )
    printer = None if args.json else (lambda a: _say(_attempt_line(a, cap)))
    gate, model = draw_and_train(staker, nonce, data, args.threshold, args.max_attempts, cap, printer)
    summary = gate.summary()
    directory = model_directory(Path(args.out), gate.passed.config_hash)
    record = save_model(directory, staker, nonce, gate.passed.attempt, data, model, summary, cap)
    if args.json:
        print(json.dumps({"model_dir": str(directory), "manifest": json.loads(record.to_json())}, indent=2))
    else:
        _say(f"model {record.config_hash} written to {directory} (manifest.json, model.txt)")
        _say(f"next: `backing grid claim {directory} --account NAME` to record it on chain")
    return EXIT_OK


def cmd_train(args) -> int:
    from backing.grid import manifest as manifest_mod
    from backing.grid.model import train
    from backing.grid.pipeline import save_model

    directory = Path(args.model_dir)
    record = manifest_mod.load(directory)
    data = _load_data(args, record)
    cap = args.max_estimators if args.max_estimators is not None else record.training["max_estimators"]
    model = train(record.grid_config, data, cap)
    same_data = data.files == record.data["files"]
    reproduced = (
        same_data
        and cap == record.training["max_estimators"]
        and (abs(model.validation.mean - record.validation["mean"]) < 1e-9)
    )
    out = Path(args.out) if args.out else directory
    save_model(out, record.staker, record.nonce, record.attempt, data, model, record.gate, cap)
    _say(f"trained {record.config_hash} on {data.version}: validation CORR {model.validation.mean:+.4f}")
    if same_data and cap == record.training["max_estimators"]:
        _say(
            f"reproduced the manifest's validation CORR ({record.validation['mean']:+.4f}): "
            f"{'yes' if reproduced else 'NO'}"
        )
        if not reproduced:
            return 1
    return EXIT_OK


def cmd_predict(args) -> int:
    from backing.grid import manifest as manifest_mod
    from backing.grid.model import load_booster, predict_live, write_predictions

    directory = Path(args.model_dir)
    record = manifest_mod.load(directory)
    data = _load_data(args, record)
    data.require_target(record.config["target"])
    ids, predictions = predict_live(load_booster(directory / record.model_file), data)
    path = write_predictions(Path(args.out), ids, predictions)
    _say(f"{len(ids)} live predictions of {record.config_hash[:12]}.. written to {path}")
    return EXIT_OK


def cmd_submit(args) -> int:
    import numerapi
    from numerapi import base_api

    path = Path(args.predictions)
    if not path.exists():
        raise GridInputError(f"{path} is missing: write it with `backing grid predict MODEL_DIR --out {path}`")
    public_id, secret_key = (os.environ.get(k) for k in NUMERAI_KEYS)
    if not (public_id and secret_key):
        raise GridInputError("set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY (your Numerai API key with upload rights)")
    if args.api_url:
        base_api.API_TOURNAMENT_URL = args.api_url  # numerapi reads the module constant (as the oracle does)
    napi = numerapi.NumerAPI(public_id=public_id, secret_key=secret_key, verbosity="WARNING")
    try:
        submission = napi.upload_predictions(str(path), model_id=args.model_id)
    except ValueError as error:
        raise GridInputError(f"Numerai refused the upload: {error}") from None
    _say(f"submitted {path} for model {args.model_id}: submission {submission}")
    if args.manifest:
        from backing.grid import manifest as manifest_mod

        record = manifest_mod.load(Path(args.manifest))
        record.numerai_model_id = args.model_id
        record.save(Path(args.manifest) if Path(args.manifest).is_dir() else Path(args.manifest).parent)
        _say(f"the manifest now names Numerai model {args.model_id}")
    return EXIT_OK


def cmd_diversify(args) -> int:
    from backing.grid.diversify import report

    result = report(_load_data(args), args.k, Path(args.out), args.max_estimators, args.threshold, args.staker)
    _say(result["table"])
    _say(f"written: {result['markdown']}, {result['png']}, {result['json']}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- parser


def _data_options(p, required=True) -> None:
    p.add_argument(
        "--data",
        required=required,
        metavar="DIR",
        help="a Numerai data directory (train/validation/"
        "live parquet; `backing grid data` or `backing grid synthetic`)",
    )
    p.add_argument(
        "--feature-set",
        help="a feature set of features.json: small, medium, all (default all; a model's own for " "train and predict)",
    )
    p.add_argument(
        "--train-era-stride",
        type=int,
        metavar="N",
        help="train on every N-th era only (default 1; Numerai's "
        "examples use 4, eras overlap; a model's own for train)",
    )


def _cap_option(p) -> None:
    p.add_argument(
        "--max-estimators",
        type=int,
        metavar="N",
        help="compute cap: train at most N trees (the grid "
        "goes to 25,000); the manifest records it, the configuration stays the one drawn",
    )


def add_parser(commands) -> None:
    from backing.grid.gate import DEFAULT_MAX_ATTEMPTS, DEFAULT_THRESHOLD

    grid = commands.add_parser(
        "grid",
        help="randomized grid models for generic stakers: draw, train, predict, submit, claim, list",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grid.set_defaults(now=None)
    sub = grid.add_subparsers(dest="grid_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("space", help="the grid and its exact number of distinct configurations")
    p.add_argument("--targets", type=int, default=1, help="number of target columns (default 1)")
    _data_options(p, required=False)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_offline(cmd_space))

    p = sub.add_parser("synthetic", help="write a small synthetic dataset in Numerai's schema")
    p.add_argument("dir")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--rows-per-era", type=int, default=120)
    p.set_defaults(handler=_offline(cmd_synthetic))

    p = sub.add_parser("data", help="download Numerai's data with numerapi")
    p.add_argument("--version", default="v5.0", help="data version (default v5.0)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(handler=_offline(cmd_data))

    p = sub.add_parser("draw", help="draw the staker's configuration through the gate, train it, write the model")
    p.add_argument("--staker", required=True, metavar="ADDRESS", help="the staker's address (the draw's seed)")
    p.add_argument("--nonce", required=True, help="any whole number; a new nonce gives a new draw")
    _data_options(p)
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"the gate: mean validation CORR must be above this (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument(
        "--max-attempts",
        type=int,
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"give up after this many draws (default {DEFAULT_MAX_ATTEMPTS})",
    )
    _cap_option(p)
    p.add_argument("--out", default="grid-models", metavar="DIR", help="where model directories go")
    p.add_argument("--show", type=int, metavar="N", help="only print the first N configurations of the sequence")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_offline(cmd_draw))

    p = sub.add_parser("train", help="retrain a manifest's configuration (and check it reproduces)")
    p.add_argument("model_dir")
    _data_options(p)
    _cap_option(p)
    p.add_argument("--out", metavar="DIR", help="write the model here instead of over MODEL_DIR")
    p.set_defaults(handler=_offline(cmd_train))

    p = sub.add_parser("predict", help="predict the live round with a trained grid model")
    p.add_argument("model_dir")
    _data_options(p)
    p.add_argument("--out", required=True, metavar="FILE", help="the predictions CSV (id, prediction)")
    p.set_defaults(handler=_offline(cmd_predict))

    p = sub.add_parser("submit", help="upload a predictions CSV to Numerai (numerapi; keys from the environment)")
    p.add_argument("predictions")
    p.add_argument("--model-id", required=True, metavar="UUID", help="your Numerai model's id")
    p.add_argument("--manifest", metavar="MODEL_DIR", help="record the Numerai model id in this model's manifest")
    p.add_argument("--api-url", metavar="URL", help="Numerai's GraphQL API (default numerapi's)")
    p.set_defaults(handler=_offline(cmd_submit))

    p = sub.add_parser("diversify", help="k distinct random models against one: ensemble CORR, pairwise correlation")
    _data_options(p)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--staker", default="0x" + "04" * 20, help="the address the k models are drawn from")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    _cap_option(p)
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(handler=_offline(cmd_diversify))

    from backing.client.grid_cmd import add_chain_parsers

    add_chain_parsers(sub)


def _offline(function):
    """Bad input (``GridInputError``) -> its message on stderr, exit 2."""

    def run(args) -> int:
        try:
            return function(args)
        except GridInputError as error:
            print(f"backing: error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT

    return run
