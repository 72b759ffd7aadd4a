"""Scenario runner: play a scenario through the real contracts on a local chain (or a fork), step by step in
lock-step with the reference model, and report who got what.

    backing simulate examples/scenarios/seed-gain-repaid.yaml --json out.json --plot plots/
    backing simulate SCENARIO --fork-url https://... --nmr-holder 0x...      (fork of mainnet, see
    ``backing.onchain.fork``)

A scenario file (YAML or JSON; amounts in NMR, fractions as decimals; read exactly, never through a float; every
key with its unit and bounds in docs/scenarios.md, as a JSON Schema in backing/scenario.schema.json)::

    model: {exposure: 1.0, attested: true} # optional: exposure default 1.0; attested (default false): the
                                           # oracle attests the modeller owns the model (else shown as unattested)
    agreements:                            # played in order, on the same model, on consecutive rounds
      - terms: {unit_size: 100, min_units: 1, max_units: 100, profit_share: 0.5, burn_share: 0.5,
                reserve_ratio: 0.5, upfront_fee: 0, lockup_rounds: 8,
                fee_ladder: [{min_units: 10, profit_share: 0.4}]}      # keys as in examples/terms.yaml;
                                           # open_for, wind_down default to 7d; staking_address and model_id
                                           # are the simulator's own
        reserve: 50                        # optional: default the minimum the terms require
        deposits: [{backer: alice, units: 1}, {backer: bob, units: 12}]
        repayment: full                    # full | none | an amount in NMR (less than due: a default)
    rounds:                                # consumed in order, lockup_rounds per agreement
      - {scores: {CORR20: 0.02, MMC: 0.01}, multipliers: {CORR20: 0.5, MMC: 2.0}, payout_factor: 1.0,
         clip: 0.05}                       # payout_factor defaults to 1; {missed: true} posts a missed round

Every action goes to the reference model (``backing.model.agreement.Agreement``) first and then to the chain; an
action either succeeds on both or fails on both with the same custom error, which ``ScenarioError`` states in
plain words. After the claims, everything the chain did (round returns and indices, lock and maturity amounts,
claims, every party's token flows) is compared with the reference to the wei: ``reference_match``.

**Series features.** A scenario whose terms give ``high_water_mark: true`` or ``clawback: {share: 0.5,
agreements: 2}`` (share of every profit fee held in escrow, for 1 to 4 later settlements), or whose agreements list
``rollover: [alice]`` (backers rolling their whole claim from the previous agreement), is played as one series
(``contracts/series/BackingSeries.sol``, rules in docs/series.md) through ``backing.onchain.series.SeriesMirror``: every
action on the reference model ``backing.model.series`` and on the chain, ``check()``ed to the wei after every stage
(``run_series``). Agreement k+1 opens while k is locked; its rollover backers consent to its terms; fresh deposits
go in; k matures and is repaid (full, none or partly; short of the amount due: default, which ends the series and
cancels k+1); the consented rolls are executed, the others claim; k+1 gets its reserve and locks. A series has a
high-water mark per position, so ``high_water_mark: false`` next to series features is refused (alone it means the
single-agreement path, which has no mark). Output: the same JSON schema with ``rolled`` filled (plus ``rolled_in``,
``fees_held``, ``clawback``, ``price``, ``series_index``); on a local chain or a fork alike.

**Oracle service.** By default the simulator's signer keys sign every announcement and report directly
(``SignedReporter``). With ``--oracle-service`` (``oracle_service=True``) a local fake Numerai GraphQL server
serves the rounds (scores, multipliers as each payout score's ``defaultMultiplier``, payout factor, clip as its
``clipThreshold``; a missed round has no scores) and the oracle service, run in-process by
``oracle.operator.OracleOperator`` (two signer keystores, its own funded sender), announces, posts and finalizes
them (``ServiceReporter``); score names differing only in case are refused (``oracle_service_problem``).

``run(scenario, ...)`` works on whatever network brownie is connected to (a test session's, or the node ``run_file``
starts or attaches to through ``backing.onchain.node``); it needs only the project's contract containers.

Layout (one module per responsibility): ``scenario`` (the file format and its checks), ``reporters`` (who signs
the rounds), ``single`` (one agreement in lock-step with the reference model), ``series`` (a series through
``SeriesMirror``), ``play`` (``run``: which of the two), ``output`` (JSON, tables, plots), ``command``
(``run_file``: node, run, files).
"""

from backing.simulate.command import run_file
from backing.simulate.output import plot, series_table, tables, to_json
from backing.simulate.play import run
from backing.simulate.reporters import MODEL_NAME, MODEL_UUID, ServiceReporter, SignedReporter, oracle_service_problem
from backing.simulate.scenario import (
    MODEL_BYTES,
    MODEL_ID,
    NMR_MAINNET,
    AgreementPlan,
    ReferenceMismatch,
    Round,
    Scenario,
    ScenarioError,
    load_scenario,
    load_scenario_file,
)
from backing.simulate.series import run_series
from backing.simulate.single import HolderFunder, MintFunder, Result, backer_account, run_agreement

__all__ = [
    "MODEL_BYTES",
    "MODEL_ID",
    "MODEL_NAME",
    "MODEL_UUID",
    "NMR_MAINNET",
    "AgreementPlan",
    "HolderFunder",
    "MintFunder",
    "ReferenceMismatch",
    "Result",
    "Round",
    "Scenario",
    "ScenarioError",
    "ServiceReporter",
    "SignedReporter",
    "backer_account",
    "load_scenario",
    "load_scenario_file",
    "oracle_service_problem",
    "plot",
    "run",
    "run_agreement",
    "run_file",
    "run_series",
    "series_table",
    "tables",
    "to_json",
]
