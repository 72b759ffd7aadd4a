"""The chain commands, for every role on a real network (``backing.client``):

    backing account new|import|list             keystores in ~/.brownie/accounts/ (brownie's format)
    backing deploy                              the protocol, resumable from deployments/<chainId>.json
    backing model claim|register|attest|show    a Numerai model at the oracle
    backing agreement create|list|show|reserve|lock|mature|repay|cancel|default|sweep
    backing deposit|withdraw|claim|position     a backer's actions
    backing submission hash|commit|agent|verify per-round predictions commitments
    backing consistency MODEL                   a model's consistency report

Exit codes: ``backing.client`` (0 ok ... 11 allowance too small), listed in each command's --help.
"""

from __future__ import annotations


def add_parser(commands) -> None:
    from backing.client.commands import add_parsers

    add_parsers(commands)
