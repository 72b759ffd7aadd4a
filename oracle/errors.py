"""Every error of the oracle service, and the exit codes they map to.

Exit codes (`OracleService.run_once`; when several things fail in one pass, the highest code wins):
    0 ok (nothing to do also counts; another instance holding the lease is reported apart, see oracle.health)
    1 internal error (a bug: the traceback is logged)
    2 usage (bad arguments, keystore or ABI not readable) -- from the CLI
    3 a source failed or returned garbage for some model or for the schedule (the others were posted)
    4 RPC error (node unreachable, timed out, transaction not mined after every re-send)
    5 the chain rejected a transaction (revert other than the benign races the service handles)
    6 signatures: quorum not reached (too few local keys, co-signers silent until the timeout)
"""

from __future__ import annotations

import requests

from oracle.log import jsonable

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_SOURCE = 3
EXIT_RPC = 4
EXIT_REJECTED = 5
EXIT_QUORUM = 6


class SourceError(Exception):
    """A source could not answer or answered garbage; the message says what, for the log line."""


class KeystoreError(Exception):
    """A keystore or its password could not be read or did not decrypt; the message says which."""


class ServiceError(Exception):
    exit_code = EXIT_INTERNAL


class RpcError(ServiceError):
    """The node could not be reached or did not answer in time."""

    exit_code = EXIT_RPC


class ChainRejected(ServiceError):
    """A transaction (or its gas estimate) reverted. `name` is the custom error, `args` its arguments."""

    exit_code = EXIT_REJECTED

    def __init__(self, name: str, args: tuple = (), detail: str = ""):
        self.name, self.error_args = name, tuple(args)
        super().__init__(f"{name}{tuple(jsonable(a) for a in args)}" + (f": {detail}" if detail else ""))


class QuorumMissing(ServiceError):
    exit_code = EXIT_QUORUM

    def __init__(self, have: int, need: int, statement: str):
        self.have, self.need = have, need
        super().__init__(f"{statement}: {have} of {need} signatures")


class LeaseLost(ServiceError):
    """Another instance took over the sending lease (ours expired): stop sending."""

    exit_code = EXIT_OK


# web3's own errors, re-exported so the service's modules take every error from here
from web3.exceptions import ContractLogicError, ProviderConnectionError, TimeExhausted, Web3RPCError  # noqa: E402,F401

#: Exceptions that mean "the RPC endpoint is down or misbehaving" rather than "the chain said no".
NETWORK_ERRORS: tuple = (requests.exceptions.RequestException, ConnectionError, TimeoutError, ProviderConnectionError)
