"""Registers the chain commands (account, deploy, model, agreement, series, deposit, ...) on the `backing` parser."""

from __future__ import annotations


def add_parsers(commands) -> None:
    from backing.client import account_cmd, agreement_cmd, deploy_cmd, series_cmd, submission_cmd

    account_cmd.add_parsers(commands)
    deploy_cmd.add_parsers(commands)
    agreement_cmd.add_parsers(commands)
    series_cmd.add_parsers(commands)
    submission_cmd.add_parsers(commands)
