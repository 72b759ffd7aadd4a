"""Helpers for brownie scripts that drive the contracts (deploy, demo, simulate).

``set_allowance`` copes with NMR's approve rule; ``agreement_from_chain`` reads a deployed agreement back into
the shape of ``backing.model.agreement.Agreement``, so ``backing.report`` can print it and a script can compare it with
the reference model field by field.
"""

from __future__ import annotations

from backing.errors import revert_error  # noqa: F401  (its home is backing.errors; kept importable from here)
from backing.model.agreement import ONE, Agreement, LockAmounts, Maturity, Phase, Terms


def set_allowance(token, owner, spender, amount: int, silent: bool = False) -> None:
    """Make ``token.allowance(owner, spender) == amount``, the way NMR requires.

    NMR's ``approve`` only goes from zero or to zero (it reverts otherwise); a change between two non-zero values
    needs ``changeApproval(spender, old, new)``. Tokens without ``changeApproval`` get a plain ``approve``.
    @param token The token contract (brownie ``Contract``).
    @param owner The account whose tokens ``spender`` may move; it sends the transaction.
    @param spender The address allowed to spend.
    @param amount The allowance wanted, in wei.
    @param silent Passed to brownie: True keeps the transaction off the console.
    """
    current = token.allowance(owner, spender)
    if current == amount:
        return
    if hasattr(token, "changeApproval") and current != 0 and amount != 0:
        token.changeApproval(spender, current, amount, {"from": owner}, silent=silent)
    else:
        token.approve(spender, amount, {"from": owner}, silent=silent)


def token_flows(token, agreement_address: str, from_block: int, to_block: int | None = None) -> dict:
    """Net NMR flow between the agreement and every other address, from the token's Transfer events.

    Same sign convention as ``Agreement.transfers``: positive = received from the agreement, negative = paid in.
    @param from_block First block to scan (the agreement's creation block is enough).
    """
    flows: dict[str, int] = {}
    for event in token.events.get_sequence(from_block, to_block, event_type="Transfer"):
        source, destination, value = event.args["from"], event.args["to"], event.args["value"]
        if destination == agreement_address:
            flows[source] = flows.get(source, 0) - value
        if source == agreement_address:
            flows[destination] = flows.get(destination, 0) + value
    return flows


def agreement_from_chain(agreement, token, terms: Terms, from_block: int) -> Agreement:
    """A deployed agreement's state and token flows as a ``backing.model.agreement.Agreement``.

    Positions come from the agreement's Deposited events and ``positionOf``; amounts from its public state;
    ``transfers`` from the token's Transfer events (so they show what actually moved, not what the contract
    recorded); ``balance`` is what the agreement still holds, as in the model. The staking
    wallet appears in ``transfers`` under its address, not under the model's ``"staking"`` key.
    @param agreement The BackingAgreement (brownie ``Contract``).
    @param token The NMR token.
    @param terms The terms the agreement was created with (``agreement.terms()`` holds the same values).
    @param from_block A block at or before the agreement's creation.
    """
    backers = []
    for event in agreement.events.get_sequence(from_block, event_type="Deposited"):
        if event.args["backer"] not in backers:
            backers.append(event.args["backer"])
    phase = Phase(agreement.phase())
    result = Agreement(terms=terms, modeller=agreement.modeller())
    for backer in backers:
        units, claimed = agreement.positionOf(backer)
        result.units[backer] = units
        if claimed:
            result.claimed.add(backer)
    result.reserve = agreement.reserve()
    result.repaid = agreement.repaid()
    result.phase = phase
    result.start_round = agreement.startRound()
    result.deadline = agreement.deadline()
    result.claims_remaining = agreement.claimsRemaining()
    if phase not in (Phase.Open, Phase.Cancelled):
        fee, staked = agreement.upfrontFee(), agreement.stakedCapital()
        result.locked = LockAmounts(fee + staked, fee, staked)
    if phase in (Phase.Matured, Phase.Settled, Phase.Defaulted):
        result.matured = Maturity(
            agreement.finalValue(), agreement.amountDue(), agreement.owedTotal(), agreement.coverBound()
        )
    if phase in (Phase.Settled, Phase.Defaulted, Phase.Cancelled):
        result.reserve_returned = agreement.reserveReturned()
        # the contract keeps what it returned; what it used is the rest (cancellation uses nothing)
        result.reserve_used = result.reserve - result.reserve_returned
    result.default_pool = agreement.defaultPool()
    result.transfers = token_flows(token, agreement.address, from_block)
    result.balance = token.balanceOf(agreement)
    return result


def deploy_stack(
    deployer,
    relayer,
    nmr_address=None,
    max_clip=ONE // 20,
    max_multiplier=10 * ONE,
    min_round_spacing=22 * 3600,
    signer_addresses=None,
    quorum=2,
    dispute_quorum=3,
    params=None,
    series=False,
):
    """Deploy the protocol without console output: the token (a fresh MockNMR, or the one at ``nmr_address``),
    the score oracle (dispute bonds in the token), the ModellerRecord and the agreement factory, and with `series`
    the series factory on the same record (``backing.onchain.factories.series_factory_of(factory)`` finds it).

    Signers: ``signer_addresses`` when given (a real deployment: the operators' keys stay with them), else three
    deterministic local keys, which only a development chain should trust. Returns (token, oracle, factory,
    signed) where `signed` is a ``SignedOracle`` over the local keys, relayed by `relayer` (None with
    ``signer_addresses``). Used by scripts/deploy.py and ``backing simulate``."""
    from dataclasses import replace

    from brownie import Contract, MockNMR

    from backing.onchain.factories import deploy_factories
    from backing.onchain.oracle import OracleParams, SignedOracle, deploy_oracle, oracle_container, signer_keys

    if nmr_address:
        token = Contract.from_abi("NMR", nmr_address, MockNMR.abi)
    else:
        token = MockNMR.deploy({"from": deployer}, silent=True)
    params = replace(
        params or OracleParams(), max_clip=max_clip, max_multiplier=max_multiplier, min_round_spacing=min_round_spacing
    )
    if signer_addresses:
        addresses = sorted(signer_addresses, key=lambda a: int(a, 16))
        oracle = oracle_container(deployer).deploy(
            deployer, params.config(token), addresses, quorum, dispute_quorum, {"from": deployer}, silent=True
        )
        signed = None
    else:
        keys = signer_keys(3)
        oracle = deploy_oracle(deployer, token, keys, quorum, dispute_quorum, params)
        signed = SignedOracle(oracle, keys, relayer, silent=True)
    factory = deploy_factories(deployer, token, oracle, series=series).agreements
    return token, oracle, factory, signed
