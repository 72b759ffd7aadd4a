"""Every error of the oracle service, and the exit codes they map to.

Exit codes (`OracleService.run_once`; when several things fail in one pass, the highest code wins):
    0 ok (nothing to do also counts; another instance holding the lease is reported apart, see oracle.health)
    1 internal error (a bug: the traceback is logged)
    2 usage (bad arguments, keystore or ABI not readable) -- from the CLI
    3 a source failed or returned garbage for some model or for the schedule (the others were posted)
    4 RPC error (node unreachable, timed out, transaction not mined after every re-send)
    5 the chain rejected a transaction (revert other than the benign races the service handles)
    6 signatures: quorum not reached (too few local keys, co-signers silent until the timeout)
    7 not confirmed (answered no, or no terminal to ask on and no --yes): nothing sent -- operator commands
    8 not enough NMR for the dispute bond, or not enough ETH for gas: nothing sent -- operator commands
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
EXIT_DECLINED = 7
EXIT_BALANCE = 8


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


class OperatorError(Exception):
    """A one-shot operator command (register, dispute, resolve, signers) cannot go on: one line in plain words,
    saying what to do next, and the exit code."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def _short(value) -> str:
    """An argument for a person: a model id as its Numerai UUID when it is one, other bytes as 0x hex."""
    if isinstance(value, (bytes, bytearray)):
        from oracle.units import model_uuid

        raw = bytes(value)
        return (model_uuid(raw) if len(raw) == 32 else None) or "0x" + raw.hex()
    return str(value)


def duration(seconds: int) -> str:
    """Seconds in words: 45 s, 12 min, 2 h 5 min, 3 d 4 h."""
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _when(value) -> str:
    import datetime

    try:
        return datetime.datetime.fromtimestamp(int(value), datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)


when = _when  # a unix time in words, for the commands' summaries


#: The ScoreOracle's refusals an operator command can meet, in plain words (argument positions as in
#: contracts/interfaces/oracle/IScoreOracle.sol). Anything else is shown by its name and arguments.
PLAIN = {
    "ZeroAddress": lambda a: "an address given is the zero address: give a real one",
    "SignerSetInvalid": lambda a: (
        f"{a[0]} signers with quorum {a[1]} and dispute quorum {a[2]} is not a valid "
        f"signer set: 1 <= quorum < dispute quorum <= signers"
    ),
    "SignatureExpired": lambda a: f"the signatures expired at {_when(a[0])}: sign again",
    "QuorumNotMet": lambda a: f"{a[0]} signatures given, {a[1]} needed: give more signer keystores",
    "InvalidSignature": lambda a: f"signature {a[0]} is malformed: sign again",
    "NotSigner": lambda a: f"signature {a[0]} is from {a[1]}, who is not an oracle signer: use signers' keystores",
    "SignersNotAscending": lambda a: f"signature {a[0]} is out of order or repeated: each signer once",
    "NotSignerOrWatcher": lambda a: (
        f"{a[0]} is neither a signer nor a watcher: dispute from one, or ask the "
        f"oracle's owner to run `backing oracle signers watcher {a[0]}`"
    ),
    "NoSignerSetProposed": lambda a: "no signer set is proposed: `backing oracle signers propose` first",
    "SignerSetMismatch": lambda a: (
        f"the signer set given ({_short(a[1])}) is not the one proposed "
        f"({_short(a[0])}): give exactly the proposed signers and quorums"
    ),
    "TimelockNotOver": lambda a: f"the change can be executed from {_when(a[0])} (its timelock): wait until then",
    "SignerSetProposalExpired": lambda a: f"the signer-set proposal expired at {_when(a[0])}: propose it again",
    "ModelAlreadyRegistered": lambda a: f"model {_short(a[0])} is already registered",
    "ModelNotRegistered": lambda a: f"model {_short(a[0])} is not registered at this oracle",
    "ModellerUnchanged": lambda a: f"model {_short(a[0])} is registered to {a[1]} already: nothing to change",
    "NoModellerChangeProposed": lambda a: (
        f"no change of model {_short(a[0])}'s modeller is pending: propose one with "
        f"`backing oracle change-modeller {_short(a[0])} --to ADDRESS`"
    ),
    "ModellerChangeExpired": lambda a: (
        f"the change of model {_short(a[0])}'s modeller expired at {_when(a[1])}: the signers propose it again"
    ),
    "ExposureOutOfBounds": lambda a: f"the exposure must be above 0 and at most 1 (given {int(a[0]) / 1e18:g})",
    "FirstRoundZero": lambda a: "the first round must be at least 1",
    "RoundOutOfRange": lambda a: f"round {a[0]} is above the largest the oracle accepts ({a[1]})",
    "RoundNotPosted": lambda a: f"model {_short(a[0])}: round {a[1]} is not posted",
    "RoundNotPending": lambda a: (
        f"model {_short(a[0])}: round {a[1]} is not pending (already final, or not " f"posted): nothing to dispute"
    ),
    "ChallengeWindowOver": lambda a: (
        f"model {_short(a[0])}: round {a[1]}'s challenge window closed at "
        f"{_when(a[2])}: it can no longer be disputed"
    ),
    "AlreadyDisputed": lambda a: f"model {_short(a[0])}: round {a[1]} is already disputed",
    "NotDisputed": lambda a: f"model {_short(a[0])}: round {a[1]} is not disputed",
    "DisputeTimeoutNotOver": lambda a: f"the dispute can be expired from {_when(a[0])}: wait until then",
    "WrongTournament": lambda a: f"the report is for tournament {a[0]}, the oracle's is {a[1]}",
    "OwnableUnauthorizedAccount": lambda a: f"{a[0]} is not the oracle's owner: send it from the owner's account",
    "SafeERC20FailedOperation": lambda a: "the NMR token refused the bond transfer: check balance and allowance",
}


def plain(name: str, args: tuple = ()) -> str:
    """A contract refusal in plain words (its name and arguments when the catalogue does not know it)."""
    render = PLAIN.get(name)
    if render is not None:
        try:
            return render(tuple(args))
        except (IndexError, TypeError, ValueError):
            pass
    if name == "Error" and args:
        return f"the contract refused: {args[0]}"
    return f"the contract refused ({name}{tuple(_short(x) for x in args)})"
