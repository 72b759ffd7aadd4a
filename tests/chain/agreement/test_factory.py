"""AgreementFactory unit tests: creation (clone and direct), the registries and their pages, who may initialise
what, default recording through a real default, and every Terms validation error through the factory.

The factory does not depend on the token's quirks, so this module runs on one token (MockNMR, via the
``token_kind`` override below). Tests that create agreements run for both deployments (clone and direct);
tests that do not, run once."""

from dataclasses import replace

import pytest
import rlp
from brownie import ZERO_ADDRESS, BackingAgreement, chain, web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from backing.model.agreement import (
    BPS,
    MAX_FEE_TIERS,
    MAX_LOCKUP_ROUNDS,
    MAX_OPEN_PERIOD,
    MAX_RESERVE_RATIO_BPS,
    MAX_UNIT_SIZE,
    MAX_UNITS,
    MAX_UPFRONT_FEE_BPS,
    MAX_WIND_DOWN,
    MIN_WIND_DOWN,
    ONE,
    ContractError,
)
from support.chain import DAY, MODEL_ID, NMR, reverts_with

MID = bytes.fromhex(MODEL_ID[2:])
OTHER = b"\x22" * 32


@pytest.fixture(scope="module")
def token_kind():
    """One token for the whole module: the factory never touches it (BackingAgreement's own tests cover both)."""
    return "nmr"


@pytest.fixture
def create(factory, deployment, model_id, modeller, terms_for):
    """Create through the entry point of the ``deployment`` parameter; returns (tx, terms)."""

    def do(terms=None, sender=None, **overrides):
        terms = terms or terms_with(terms_for, **overrides)
        fn = factory.createAgreement if deployment == "clone" else factory.createAgreementDirect
        return fn(terms.as_tuple(), terms.ladder_tuples(), {"from": sender or modeller}), terms

    return do


@pytest.fixture
def other_model(signed, outsider):
    """A second model, registered to `outsider`."""
    signed.register(OTHER, outsider, ONE, 1)
    return OTHER


def terms_with(terms_for, **overrides):
    """``terms_for`` that also accepts a ``staking_address`` override."""
    staking = overrides.pop("staking_address", None)
    terms = terms_for(**overrides)
    return terms if staking is None else replace(terms, staking_address=str(staking))


def addresses(values):
    return [str(v) for v in values]


def plain(value):
    return tuple(v if isinstance(v, bool) else int(v) if isinstance(v, int) else str(v) for v in value)


def next_address(factory):
    """The address the factory's next CREATE yields: nonce 1 went to the implementation, one per agreement since."""
    nonce = 2 + factory.agreementCount()
    return to_checksum_address(keccak(rlp.encode([bytes(HexBytes(factory.address)), nonce]))[12:])


def terms_tuple(terms):
    """Terms as the agreement's `terms()` view returns them."""
    t = terms.as_tuple()
    return ("0x" + bytes(t[0]).hex(),) + tuple(t[1:11]) + (str(t[11]), t[12])


# ============================================================================================ deployment


def test_factory_constructor(factory, token, oracle):
    assert factory.token() == token
    assert factory.oracle() == oracle
    impl = BackingAgreement.at(factory.implementation())
    assert impl.token() == token
    assert impl.oracle() == oracle
    assert impl.factory() == factory
    assert factory.agreementCount() == 0
    assert not factory.isAgreement(impl)
    # the implementation carries the same limits as the reference model
    assert (impl.BPS(), impl.MAX_FEE_TIERS(), impl.MAX_UNITS(), impl.MAX_UNIT_SIZE()) == (
        BPS,
        MAX_FEE_TIERS,
        MAX_UNITS,
        MAX_UNIT_SIZE,
    )
    assert (impl.MAX_RESERVE_RATIO_BPS(), impl.MAX_UPFRONT_FEE_BPS(), impl.MAX_LOCKUP_ROUNDS()) == (
        MAX_RESERVE_RATIO_BPS,
        MAX_UPFRONT_FEE_BPS,
        MAX_LOCKUP_ROUNDS,
    )
    assert (impl.MAX_OPEN_PERIOD(), impl.MIN_WIND_DOWN(), impl.MAX_WIND_DOWN()) == (
        MAX_OPEN_PERIOD,
        MIN_WIND_DOWN,
        MAX_WIND_DOWN,
    )


def test_implementation_cannot_be_initialised(factory, modeller, outsider, deployer, terms_for, model_id):
    impl = BackingAgreement.at(factory.implementation())
    terms = terms_for()
    for caller in (modeller, outsider, deployer):
        with reverts_with("NotFactory", caller):
            impl.initialize(caller, terms.as_tuple(), [], {"from": caller})
    assert impl.modeller() == ZERO_ADDRESS
    assert impl.terms()[1] == 0  # unitSize: never initialised
    assert impl.modelId() == "0x" + "00" * 32


# ============================================================================================ createAgreement


def test_create_agreement(create, factory, deployment, modeller, token, oracle, model_id):
    predicted = next_address(factory)
    tx, terms = create(fee_ladder=[(10, 4000), (50, 3000)])
    ev = tx.events["AgreementCreated"]
    agreement = BackingAgreement.at(ev["agreement"])
    assert agreement == predicted
    assert tx.return_value == agreement
    assert ev["modeller"] == modeller
    assert HexBytes(ev["modelId"]) == MID
    assert ev["clone"] == (deployment == "clone")
    assert list(tx.events.keys()) == ["AgreementCreated", "Initialized"]  # registered, then initialised

    # the agreement was initialised in the same transaction, with the caller as modeller
    init = tx.events["Initialized"][0]
    assert init.address == agreement
    assert init["modeller"] == modeller
    assert HexBytes(init["modelId"]) == MID
    assert agreement.modeller() == modeller
    assert agreement.factory() == factory
    assert agreement.token() == token
    assert agreement.oracle() == oracle
    assert agreement.phase() == 0
    assert plain(agreement.terms()) == terms_tuple(terms)
    assert [plain(t) for t in agreement.feeLadder()] == [(10, 4000), (50, 3000)]

    assert factory.isAgreement(agreement)
    assert factory.agreementCount() == 1
    assert factory.agreementCountOf(modeller) == 1
    assert factory.agreementCountForModel(MID) == 1
    assert addresses(factory.agreements(0, 10)) == [agreement]
    assert addresses(factory.agreementsOf(modeller, 0, 1)) == [agreement]
    assert addresses(factory.agreementsForModel(MID, 0, 1)) == [agreement]

    code = web3.eth.get_code(agreement.address)
    impl = factory.implementation()
    if deployment == "clone":  # EIP-1167 minimal proxy to the implementation
        assert code == HexBytes("0x363d3d373d3d3d363d73" + impl[2:].lower() + "5af43d82803e903d91602b57fd5bf3")
    else:  # a full copy of the implementation's code (same immutables)
        assert code == web3.eth.get_code(impl)


def test_create_both_kinds_share_registries(factory, model_id, modeller, terms_for):
    terms = terms_for()
    tx1 = factory.createAgreement(terms.as_tuple(), [], {"from": modeller})
    tx2 = factory.createAgreementDirect(terms.as_tuple(), [], {"from": modeller})
    assert tx1.events["AgreementCreated"]["clone"] is True
    assert tx2.events["AgreementCreated"]["clone"] is False
    both = [tx1.return_value, tx2.return_value]
    assert addresses(factory.agreements(0, 2)) == both
    assert addresses(factory.agreementsOf(modeller, 0, 2)) == both
    assert all(factory.isAgreement(a) for a in both)


def test_create_not_model_owner_unregistered(create, factory, modeller, model_id):
    with reverts_with("NotModelOwner", OTHER, modeller, ZERO_ADDRESS):
        create(model_id=OTHER)
    assert factory.agreementCount() == 0


def test_create_not_model_owner_wrong_caller(create, factory, modeller, outsider, reporter, deployer, model_id):
    for caller in (outsider, reporter, deployer):
        with reverts_with("NotModelOwner", MID, caller, modeller):
            create(sender=caller)  # the modeller's own terms, sent by someone else
    assert factory.agreementCount() == 0
    assert factory.agreementCountOf(outsider) == 0


def test_create_model_owner_check_comes_first(create, modeller, outsider, model_id):
    # invalid terms from a non-owner: the ownership error wins
    with reverts_with("NotModelOwner", MID, outsider, modeller):
        create(sender=outsider, unit_size=0)


def test_clone_cannot_be_initialised_twice(create, modeller, outsider, terms_for):
    tx, terms = create()
    agreement = BackingAgreement.at(tx.return_value)
    hostile = terms_with(terms_for, unit_size=1, staking_address=outsider)
    for caller in (modeller, outsider):
        with reverts_with("NotFactory", caller):
            agreement.initialize(caller, hostile.as_tuple(), [], {"from": caller})
    assert agreement.modeller() == modeller
    assert plain(agreement.terms()) == terms_tuple(terms)


# ============================================================================================ registries


def test_registries_and_pages(create, factory, modeller, outsider, other_model, terms_for):
    created = []  # (creator, model, address) in creation order
    for creator, model in [(modeller, MID), (outsider, OTHER), (modeller, MID), (modeller, MID), (outsider, OTHER)]:
        tx, _ = create(sender=creator, model_id=model)
        assert tx.events["AgreementCreated"]["modeller"] == creator
        created.append((creator, model, tx.return_value))
    mine = [a for c, _, a in created if c == modeller]
    theirs = [a for c, _, a in created if c == outsider]
    everything = [a for _, _, a in created]

    assert factory.agreementCount() == 5
    assert factory.agreementCountOf(modeller) == 3
    assert factory.agreementCountOf(outsider) == 2
    assert factory.agreementCountOf(ZERO_ADDRESS) == 0
    assert factory.agreementCountForModel(MID) == 3
    assert factory.agreementCountForModel(OTHER) == 2
    assert factory.agreementCountForModel(b"\x33" * 32) == 0
    assert all(factory.isAgreement(a) for a in everything)
    assert not factory.isAgreement(modeller)
    assert not factory.isAgreement(factory.implementation())

    # full pages, partial pages, single entries, empty and out-of-range pages
    assert addresses(factory.agreements(0, 5)) == everything
    assert addresses(factory.agreements(0, 100)) == everything
    assert addresses(factory.agreements(1, 2)) == everything[1:3]
    assert addresses(factory.agreements(4, 1)) == everything[4:]
    assert addresses(factory.agreements(3, 10)) == everything[3:]
    assert addresses(factory.agreements(0, 0)) == []
    assert addresses(factory.agreements(5, 1)) == []
    assert addresses(factory.agreements(6, 10)) == []
    assert addresses(factory.agreements(2**256 - 1, 1)) == []

    assert addresses(factory.agreementsOf(modeller, 0, 10)) == mine
    assert addresses(factory.agreementsOf(modeller, 1, 1)) == mine[1:2]
    assert addresses(factory.agreementsOf(modeller, 2, 5)) == mine[2:]
    assert addresses(factory.agreementsOf(modeller, 3, 1)) == []
    assert addresses(factory.agreementsOf(outsider, 0, 2)) == theirs
    assert addresses(factory.agreementsOf(outsider, 1, 7)) == theirs[1:]
    assert addresses(factory.agreementsOf(ZERO_ADDRESS, 0, 10)) == []

    assert addresses(factory.agreementsForModel(MID, 0, 10)) == mine
    assert addresses(factory.agreementsForModel(MID, 1, 2)) == mine[1:]
    assert addresses(factory.agreementsForModel(MID, 3, 2)) == []
    assert addresses(factory.agreementsForModel(OTHER, 0, 1)) == theirs[:1]
    assert addresses(factory.agreementsForModel(OTHER, 2, 1)) == []
    assert addresses(factory.agreementsForModel(b"\x33" * 32, 0, 10)) == []


def test_page_with_unbounded_count(factory, model_id, modeller, terms_for):
    """CONTRACT BUG (minor): _page computes `start + count`, which overflows (Panic 0x11) when a caller asks
    for "everything from here" with count = type(uint256).max instead of returning the rest of the list."""
    terms = terms_for()
    created = [factory.createAgreement(terms.as_tuple(), [], {"from": modeller}).return_value for _ in range(3)]
    assert addresses(factory.agreements(1, 2**256 - 1)) == created[1:]
    assert addresses(factory.agreementsOf(modeller, 0, 2**256 - 1)) == created
    assert addresses(factory.agreementsForModel(MID, 2, 2**256 - 1)) == created[2:]


# ============================================================================================ defaults


def test_record_default_not_an_agreement(factory, modeller, outsider, deployer):
    for caller in (outsider, modeller, deployer):
        with reverts_with("NotAnAgreement", caller):
            factory.recordDefault(modeller, {"from": caller})
    assert factory.defaultsOf(modeller) == 0


def test_record_default_through_a_real_default(
    make_agreement, run_to_maturity, factory, modeller, outsider, alice, bob
):
    first, terms1 = make_agreement()
    second, terms2 = make_agreement()
    # both lose 20% and the modeller never repays
    run_to_maturity(first, terms1, {alice: 1}, 50 * NMR, [0] * 7 + [-2 * ONE // 10])
    run_to_maturity(second, terms2, {bob: 2}, 100 * NMR, [-2 * ONE // 10] + [0] * 7)
    assert first.amountDue() > 0 and second.amountDue() > 0
    assert factory.defaultsOf(modeller) == 0

    chain.sleep(max(terms1.wind_down, terms2.wind_down) + 60)
    tx = first.declareDefault({"from": alice})
    recorded = {"modeller": modeller, "vehicle": first, "factory": factory, "defaults": 1}
    assert tx.events["DefaultRecorded"] == recorded
    assert tx.events["DefaultRecorded"][0].address == factory.record()  # the shared record counts it
    assert tx.events["Defaulted"][0].address == first
    assert factory.defaultsOf(modeller) == 1

    tx = second.declareDefault({"from": outsider})
    assert tx.events["DefaultRecorded"] == {"modeller": modeller, "vehicle": second, "factory": factory, "defaults": 2}
    assert factory.defaultsOf(modeller) == 2
    assert factory.defaultsOf(outsider) == 0
    assert factory.defaultsOf(alice) == 0

    # an agreement defaults once: the second declaration fails in the agreement, before the factory
    # (so the record's DefaultAlreadyRecorded cannot be reached by an agreement of this factory)
    with reverts_with("WrongPhase", 4):
        first.declareDefault({"from": alice})
    assert factory.defaultsOf(modeller) == 2


# ============================================================================================ terms validation


def tiers(*pairs):
    return [tuple(p) for p in pairs]


INVALID_TERMS = [
    ("unit-size-zero", dict(unit_size=0), "UnitSizeOutOfRange", (0,)),
    ("unit-size-above-uint80", dict(unit_size=MAX_UNIT_SIZE + 1), "UnitSizeOutOfRange", (MAX_UNIT_SIZE + 1,)),
    ("min-units-zero", dict(min_units=0), "MinUnitsZero", ()),
    ("max-below-min", dict(min_units=5, max_units=4), "MaxUnitsBelowMinUnits", (5, 4)),
    ("max-units-too-large", dict(max_units=MAX_UNITS + 1), "MaxUnitsTooLarge", (MAX_UNITS + 1, MAX_UNITS)),
    ("profit-share", dict(profit_share_bps=BPS + 1), "ProfitShareTooHigh", (BPS + 1,)),
    ("burn-share", dict(burn_share_bps=BPS + 1), "BurnShareTooHigh", (BPS + 1,)),
    (
        "reserve-ratio",
        dict(reserve_ratio_bps=MAX_RESERVE_RATIO_BPS + 1),
        "ReserveRatioTooHigh",
        (MAX_RESERVE_RATIO_BPS + 1, MAX_RESERVE_RATIO_BPS),
    ),
    (
        "upfront-fee",
        dict(upfront_fee_bps=MAX_UPFRONT_FEE_BPS + 1),
        "UpfrontFeeTooHigh",
        (MAX_UPFRONT_FEE_BPS + 1, MAX_UPFRONT_FEE_BPS),
    ),
    ("lockup-zero", dict(lockup_rounds=0), "LockupRoundsOutOfRange", (0, MAX_LOCKUP_ROUNDS)),
    (
        "lockup-too-long",
        dict(lockup_rounds=MAX_LOCKUP_ROUNDS + 1),
        "LockupRoundsOutOfRange",
        (MAX_LOCKUP_ROUNDS + 1, MAX_LOCKUP_ROUNDS),
    ),
    ("open-until-zero", dict(open_until=0), "OpenUntilNotInFuture", (0,)),
    ("wind-down-zero", dict(wind_down=0), "WindDownOutOfRange", (0, MIN_WIND_DOWN, MAX_WIND_DOWN)),
    (
        "wind-down-below",
        dict(wind_down=MIN_WIND_DOWN - 1),
        "WindDownOutOfRange",
        (MIN_WIND_DOWN - 1, MIN_WIND_DOWN, MAX_WIND_DOWN),
    ),
    (
        "wind-down-above",
        dict(wind_down=MAX_WIND_DOWN + 1),
        "WindDownOutOfRange",
        (MAX_WIND_DOWN + 1, MIN_WIND_DOWN, MAX_WIND_DOWN),
    ),
    ("staking-zero", dict(staking_address=ZERO_ADDRESS), "StakingAddressZero", ()),
    (
        "ladder-too-long",
        dict(fee_ladder=tiers(*[(i + 1, 100) for i in range(MAX_FEE_TIERS + 1)])),
        "FeeLadderTooLong",
        (MAX_FEE_TIERS + 1, MAX_FEE_TIERS),
    ),
    ("tier-zero", dict(fee_ladder=tiers((0, 100))), "FeeTierMinUnitsNotAscending", (0,)),
    ("tier-equal", dict(fee_ladder=tiers((5, 4000), (5, 3000))), "FeeTierMinUnitsNotAscending", (1,)),
    ("tier-descending", dict(fee_ladder=tiers((5, 4000), (10, 3000), (9, 2000))), "FeeTierMinUnitsNotAscending", (2,)),
    (
        "tier-above-max-units",
        dict(max_units=100, fee_ladder=tiers((10, 4000), (101, 3000))),
        "FeeTierMinUnitsNotAscending",
        (1,),
    ),
    ("tier-share", dict(fee_ladder=tiers((10, 4000), (20, BPS + 1))), "FeeTierShareTooHigh", (1, BPS + 1)),
    ("first-tier-share", dict(fee_ladder=tiers((1, 2**16))), "FeeTierShareTooHigh", (0, 2**16)),
]


@pytest.mark.parametrize("overrides, error, args", [c[1:] for c in INVALID_TERMS], ids=[c[0] for c in INVALID_TERMS])
def test_invalid_terms(create, factory, terms_for, overrides, error, args):
    terms = terms_with(terms_for, **overrides)
    # the reference model agrees on the error and its arguments
    with pytest.raises(ContractError) as excinfo:
        terms.validate(chain.time())
    assert (excinfo.value.name, excinfo.value.args_) == (error, args)
    with reverts_with(error, *args):
        create(terms)
    assert factory.agreementCount() == 0


def test_first_violation_wins(create, terms_for):
    # several violations at once: the checks run in a fixed order
    with reverts_with("MinUnitsZero"):
        create(min_units=0, profit_share_bps=BPS + 1, staking_address=ZERO_ADDRESS)
    with reverts_with("ProfitShareTooHigh", BPS + 1):
        create(profit_share_bps=BPS + 1, burn_share_bps=BPS + 1, lockup_rounds=0)
    with reverts_with("StakingAddressZero"):
        create(staking_address=ZERO_ADDRESS, fee_ladder=tiers((0, BPS + 1)))
    with reverts_with("FeeTierMinUnitsNotAscending", 0):
        create(fee_ladder=tiers((0, BPS + 1)))


def test_open_until_not_in_future(create, terms_for):
    latest = chain[-1].timestamp  # the transaction's block is at least this late
    with reverts_with("OpenUntilNotInFuture", latest):
        create(open_until=latest)
    with reverts_with("OpenUntilNotInFuture", latest - DAY):
        create(open_until=latest - DAY)


def test_open_until_too_far(create, terms_for):
    open_until = chain.time() + MAX_OPEN_PERIOD + 600
    with pytest.raises(VirtualMachineError) as excinfo:
        create(open_until=open_until)
    # the limit is measured from the (reverted) transaction's own block
    block_time = web3.eth.get_block(web3.eth.get_transaction_receipt(excinfo.value.txid)["blockNumber"])["timestamp"]
    assert excinfo.value.revert_msg == f"OpenUntilTooFar: {open_until}, {block_time + MAX_OPEN_PERIOD}"


def test_staking_address_is_the_agreement_itself(create, factory, modeller):
    with reverts_with("StakingAddressZero"):
        create(staking_address=next_address(factory))
    # the prediction is right: the same address is what the factory then deploys
    predicted = next_address(factory)
    tx, _ = create()
    assert tx.return_value == predicted


def test_upper_bounds_accepted(create, factory, staking):
    open_until = chain[-1].timestamp + MAX_OPEN_PERIOD  # at most the limit, whatever the block's time
    ladder = tiers(*[(MAX_UNITS - MAX_FEE_TIERS + 1 + i, BPS - i) for i in range(MAX_FEE_TIERS - 1)], (MAX_UNITS, BPS))
    tx, terms = create(
        unit_size=MAX_UNIT_SIZE,
        min_units=MAX_UNITS,
        max_units=MAX_UNITS,
        profit_share_bps=BPS,
        burn_share_bps=BPS,
        reserve_ratio_bps=MAX_RESERVE_RATIO_BPS,
        upfront_fee_bps=MAX_UPFRONT_FEE_BPS,
        lockup_rounds=MAX_LOCKUP_ROUNDS,
        open_until=open_until,
        wind_down=MAX_WIND_DOWN,
        fee_ladder=ladder,
    )
    agreement = BackingAgreement.at(tx.return_value)
    assert plain(agreement.terms()) == terms_tuple(terms)
    assert [plain(t) for t in agreement.feeLadder()] == ladder
    assert agreement.profitShareFor(MAX_UNITS) == BPS
    assert agreement.requiredReserveFor(NMR) == 10 * NMR


def test_lower_bounds_accepted(create, staking):
    tx, terms = create(
        unit_size=1,
        min_units=1,
        max_units=1,
        profit_share_bps=0,
        burn_share_bps=0,
        reserve_ratio_bps=0,
        upfront_fee_bps=0,
        lockup_rounds=1,
        open_until=chain.time() + 120,
        wind_down=MIN_WIND_DOWN,
        fee_ladder=tiers((1, 0)),
    )
    agreement = BackingAgreement.at(tx.return_value)
    assert plain(agreement.terms()) == terms_tuple(terms)
    assert [plain(t) for t in agreement.feeLadder()] == [(1, 0)]
    assert agreement.requiredReserveFor(100 * NMR) == 0
