"""``run``: play a scenario on the connected network by the path its features need: one agreement
(``single.run_agreement``) or one series (``series.run_series``, for scenarios with series features)."""

from __future__ import annotations

from backing.simulate.scenario import Scenario
from backing.simulate.series import run_series
from backing.simulate.single import Result, run_agreement


def run(scenario: Scenario, token=None, funder=None, out=print, oracle_service: bool = False) -> Result:
    """Play ``scenario`` on the connected network and compare everything with the reference model to the wei.

    @param token An NMR token to use (default: a fresh MockNMR); on a fork, the real NMR.
    @param funder How backers get their NMR (default: the mock's faucet; on a fork, a holder's transfers).
    @return the ``Result``; raises ``ScenarioError`` (plain words) when the contracts refuse an action.
    """
    play = run_series if scenario.series else run_agreement
    return play(scenario, token=token, funder=funder, out=out, oracle_service=oracle_service)
