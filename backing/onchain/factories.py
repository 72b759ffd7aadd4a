"""Deploy the factories of one deployment around their shared ``ModellerRecord`` (brownie).

The record counts each modeller's defaults across single agreements and series; its two writers are fixed in its
constructor, so it is deployed first, naming the factories' addresses predicted from the deployer's nonce, and each
factory checks in its constructor that the record names it. Order (one transaction each):

  ModellerRecord(agreement factory, series factory) -> AgreementFactory(token, oracle, record)
  -> the series' libraries (once per chain: brownie links BackingSeries to the last deployed)
  -> BackingSeries implementation(token, oracle, the series factory's address) -> SeriesFactory(..., implementation)

``agreements=False`` or ``series=False`` leaves that factory out (the record names address(0) in its place).
"""

from __future__ import annotations

from dataclasses import dataclass

ZERO = "0x" + "00" * 20


@dataclass
class Factories:
    record: object  # ModellerRecord
    agreements: object | None  # AgreementFactory
    series: object | None  # SeriesFactory


def deploy_factories(deployer, token, oracle, silent: bool = True, agreements: bool = True, series: bool = True):
    """The record, then the factories asked for, on `token` and `oracle`; returns ``Factories``."""
    from brownie import (
        AgreementFactory,
        BackingSeries,
        ModellerRecord,
        SeriesFactory,
        SeriesPositions,
        SeriesSettlement,
    )
    from brownie import SeriesTerms as SeriesTermsLibrary

    libraries = [lib for lib in (SeriesTermsLibrary, SeriesSettlement, SeriesPositions) if series and not len(lib)]
    nonce = deployer.nonce
    agreement_address = deployer.get_deployment_address(nonce + 1) if agreements else ZERO
    # after the record, the agreement factory, the libraries and the implementation
    series_nonce = nonce + 1 + int(agreements) + len(libraries) + 1
    series_address = deployer.get_deployment_address(series_nonce) if series else ZERO
    tx = {"from": deployer}
    record = ModellerRecord.deploy(agreement_address, series_address, tx, silent=silent)
    agreement_factory = AgreementFactory.deploy(token, oracle, record, tx, silent=silent) if agreements else None
    series_factory = None
    if series:
        for library in libraries:
            library.deploy(tx, silent=silent)
        implementation = BackingSeries.deploy(token, oracle, series_address, tx, silent=silent)
        series_factory = SeriesFactory.deploy(token, oracle, record, implementation, tx, silent=silent)
    for got, expected in ((agreement_factory, agreement_address), (series_factory, series_address)):
        assert got is None or got.address == expected, "a factory was not deployed where the record expects it"
    return Factories(record, agreement_factory, series_factory)


def series_factory_of(factory):
    """The SeriesFactory sharing `factory`'s record (brownie), or None when the deployment has none."""
    from brownie import ModellerRecord, SeriesFactory, web3

    address = ModellerRecord.at(factory.record()).seriesFactory()
    return SeriesFactory.at(address) if address != ZERO and web3.eth.get_code(address) else None
