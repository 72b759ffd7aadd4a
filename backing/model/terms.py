"""Agreement terms in human units (YAML, JSON or a dict) -> ``backing.model.agreement.Terms`` in wei and basis points.

A terms file looks like this (every key but ``fee_ladder`` is required; give ``open_for`` or ``open_until``)::

    unit_size: 100            # NMR per unit: a number or a decimal string ("0.5"), at most 18 decimals
    min_units: 1              # units needed to lock
    max_units: 50             # capacity
    profit_share: 0.5         # modeller's share of gains (a fraction, or a string such as "50%")
    burn_share: 0.5           # modeller's share of losses, paid from his reserve
    reserve_ratio: 0.5        # reserve required at lock, relative to the staked capital (may exceed 1)
    upfront_fee: 0.01         # paid to the modeller at lock, out of the backers' capital
    lockup_rounds: 12         # resolved rounds the agreement runs for
    open_for: 7d              # deposits close this long from now (or open_until: <unix time>)
    wind_down: 7d             # how long the modeller has to repay after maturity
    staking_address: "0x..."  # the modeller's Numerai staking wallet
    model_id: 1b7d7b0e-...    # Numerai model UUID, or 0x + 64 hex digits
    fee_ladder:               # optional: bigger positions pay a lower profit share
      - {min_units: 10, profit_share: 0.4}
    submission_commitments: every_round  # optional: you commit each round's predictions (not a contract term:
                                         # `backing agreement create` states it in the SubmissionLog)
    require_attested_model: true  # optional (default false): the contract creates and locks only while the
                                  # oracle attests that the model is yours (`backing model attest`)

Fractions become basis points exactly (through ``decimal.Decimal``, never a float) and must be a whole number
of basis points. Every problem raises ``TermsError`` with a message naming the field; the contract's own checks
(``Terms.validate``) run last and their errors are put in plain words by ``backing.errors`` (``TERMS_FIELDS``
names the field each concerns).
"""

from __future__ import annotations

import difflib
import json
import re
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from eth_utils import is_checksum_address, to_checksum_address

from backing.errors import TERMS_FIELDS, Context, plain
from backing.model.agreement import ContractError, FeeTier, Terms
from backing.report import fraction, nmr
from oracle.units import model_id_from_uuid, model_uuid  # noqa: F401  (re-exported for the CLI)

REQUIRED_KEYS = (
    "unit_size",
    "min_units",
    "max_units",
    "profit_share",
    "burn_share",
    "reserve_ratio",
    "upfront_fee",
    "lockup_rounds",
    "wind_down",
    "staking_address",
    "model_id",
)
OPEN_KEYS = ("open_for", "open_until")
OPTIONAL_KEYS = ("fee_ladder", "submission_commitments", "require_attested_model")
#: The one value of ``submission_commitments``.
EVERY_ROUND = "every_round"
KNOWN_KEYS = REQUIRED_KEYS + OPEN_KEYS + OPTIONAL_KEYS
TIER_KEYS = ("min_units", "profit_share")

NMR_DECIMALS = 18
BPS_DECIMALS = 4  # 1 bps = 0.0001
#: Largest power of ten a decimal may carry before we refuse it outright (far beyond any valid amount); keeps
#: "1e999999999" from building a gigantic integer.
MAX_EXPONENT = 80
DURATION_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_PART = re.compile(r"\s*(\d+)\s*([wdhms])\s*")


class TermsError(ValueError):
    """Terms that cannot be used. ``field`` names the offending key (None for problems with the whole file);
    the message is a plain sentence that names it too."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------- entry points


def load_terms(data: Any, now: int | None = None) -> Terms:
    """Parse and validate terms given as a dict in human units.

    @param data The terms (see the module docstring for the keys).
    @param now Unix time the terms are checked against (``open_for`` counts from it); default: the clock.
    @return The terms in wei and basis points, valid for an agreement created at ``now``.
    @raise TermsError naming the field and what is wrong with it.
    """
    now = int(time.time()) if now is None else now
    if not isinstance(data, dict):
        raise TermsError(f"terms must be a mapping of keys to values, not {_kind(data)}")
    _check_keys(data)
    expects_commitments(data)

    terms = Terms(
        unit_size=nmr_to_wei("unit_size", data["unit_size"]),
        min_units=_whole("min_units", data["min_units"]),
        max_units=_whole("max_units", data["max_units"]),
        profit_share_bps=_bps("profit_share", data["profit_share"]),
        burn_share_bps=_bps("burn_share", data["burn_share"]),
        reserve_ratio_bps=_bps("reserve_ratio", data["reserve_ratio"]),
        upfront_fee_bps=_bps("upfront_fee", data["upfront_fee"]),
        lockup_rounds=_whole("lockup_rounds", data["lockup_rounds"]),
        open_until=_open_until(data, now),
        wind_down=_duration("wind_down", data["wind_down"]),
        staking_address=_address("staking_address", data["staking_address"]),
        model_id=_model_id("model_id", data["model_id"]),
        fee_ladder=_fee_ladder(data.get("fee_ladder")),
        require_attested_model=_flag("require_attested_model", data.get("require_attested_model", False)),
    )
    try:
        terms.validate(now)
    except ContractError as error:
        raise explain(error, terms, now, data) from None
    return terms


def _flag(field: str, value) -> bool:
    """A yes/no term: true/false (YAML, JSON), or the text a form sends ("true", "on", "yes", "false", ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "on", "yes", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "off", "no", "0", ""):
        return False
    raise TermsError(f"{field} must be true or false, not {value!r}", field)


def expects_commitments(data: dict) -> bool:
    """Whether the terms say the modeller commits each round's predictions (``submission_commitments:
    every_round``). Not a contract term: the create commands state it in the SubmissionLog, and the tools count the
    rounds missed from then on. @raise TermsError for any other value."""
    value = data.get("submission_commitments")
    if value is None:
        return False
    if value == EVERY_ROUND:
        return True
    raise TermsError(
        f"submission_commitments: {value!r} is not {EVERY_ROUND!r}: give every_round (you commit each round's "
        "predictions before its deadline, docs/modeller.md) or leave the key out",
        "submission_commitments",
    )


def load_terms_file(path: str | Path, now: int | None = None) -> Terms:
    """Read terms from a YAML or JSON file (JSON when the name ends in .json) and ``load_terms`` them.

    Numbers are read as exact decimals (a YAML or JSON float never goes through binary floating point), hex
    literals such as an unquoted staking address stay text, and a key given twice is an error."""
    return load_terms(read_terms_file(path), now)


def read_terms_file(path: str | Path) -> dict:
    """The raw mapping in a terms file, before any conversion. @raise TermsError if it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TermsError(f"cannot read terms file {str(path)!r}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise TermsError(f"terms file {str(path)!r} is not UTF-8 text") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_json_object)
        return yaml.load(text, Loader=_TermsLoader)
    except TermsError:
        raise
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise TermsError(f"terms file {str(path)!r} is not valid {_format_name(path)}: {error}") from None


def dump_terms(terms: Terms) -> dict:
    """Terms in human units, as a dict that ``load_terms`` turns back into the same ``Terms``.

    Amounts are exact decimal strings, fractions decimal strings, ``open_until`` an absolute unix time and the
    model id its 0x hex form."""
    data = {
        "unit_size": nmr(terms.unit_size),
        "min_units": terms.min_units,
        "max_units": terms.max_units,
        "profit_share": fraction(terms.profit_share_bps),
        "burn_share": fraction(terms.burn_share_bps),
        "reserve_ratio": fraction(terms.reserve_ratio_bps),
        "upfront_fee": fraction(terms.upfront_fee_bps),
        "lockup_rounds": terms.lockup_rounds,
        "open_until": terms.open_until,
        "wind_down": terms.wind_down,
        "staking_address": terms.staking_address,
        "model_id": "0x" + terms.model_id.hex(),
    }
    if terms.require_attested_model:
        data["require_attested_model"] = True
    if terms.fee_ladder:
        data["fee_ladder"] = [
            {"min_units": t.min_units, "profit_share": fraction(t.profit_share_bps)} for t in terms.fee_ladder
        ]
    return data


# ---------------------------------------------------------------------------------------------- contract errors


def explain(error: ContractError, terms: Terms, now: int, raw: dict | None = None) -> TermsError:
    """Translate a ``ContractError`` from ``Terms.validate`` into a ``TermsError`` naming the field
    (the sentence comes from the one catalogue of contract errors, ``backing.errors``)."""
    if error.name not in TERMS_FIELDS:
        return TermsError(f"the contract would reject these terms: {error}")
    context = Context(terms=terms, now=now, raw=raw or {})
    field = TERMS_FIELDS[error.name]
    if field == "open_until":
        field = context.open_key
    return TermsError(plain(error.name, error.args_, context), field)


# ---------------------------------------------------------------------------------------------- field parsers


def _check_keys(data: dict) -> None:
    for key in data:
        if not isinstance(key, str):
            raise TermsError(f"key {key!r} is not text: every key must be one of {', '.join(KNOWN_KEYS)}")
    unknown = [k for k in data if k not in KNOWN_KEYS]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys are {', '.join(KNOWN_KEYS)}"
        raise TermsError(f"unknown key {key!r}{hint}", key)
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise TermsError(f"missing required key{'s' if len(missing) > 1 else ''}: {', '.join(missing)}", missing[0])
    given = [k for k in OPEN_KEYS if k in data]
    if not given:
        raise TermsError(
            'missing open_for (a duration, e.g. "7d") or open_until (a unix time): ' "say when deposits close",
            "open_for",
        )
    if len(given) > 1:
        raise TermsError("give either open_for or open_until, not both", "open_until")


def _open_until(data: dict, now: int) -> int:
    if "open_for" in data:
        return now + _duration("open_for", data["open_for"])
    return _whole("open_until", data["open_until"], what="a unix time in seconds")


def _kind(value: Any) -> str:
    """A plain name for a value's type, for error messages."""
    if value is None:
        return "nothing (empty)"
    if isinstance(value, bool):
        return f"a true/false value ({str(value).lower()})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (int, float, Decimal)):
        return f"a number ({value})"
    return f"a {type(value).__name__}"


def _decimal(field: str, value: Any, what: str) -> Decimal:
    """A finite Decimal from a number or numeric text (floats through their shortest repr, e.g. 0.1 -> "0.1")."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise TermsError(f"{field} must be {what}, not {_kind(value)}", field)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise TermsError(f"{field} must be {what}, not {_kind(value)}", field) from None
    if not number.is_finite():
        raise TermsError(f"{field} must be a finite number, not {value}", field)
    if number < 0:
        raise TermsError(f"{field} must not be negative (got {value})", field)
    return number


def _scaled(field: str, number: Decimal, places: int) -> int | None:
    """number * 10**places as an exact int, or None when that is not a whole number (no rounding, no context
    precision involved: the digits are shifted directly)."""
    sign, digits, exponent = number.as_tuple()
    shift = exponent + places
    if shift > MAX_EXPONENT:
        raise TermsError(f"{field} is far too large ({number})", field)
    mantissa = int("".join(map(str, digits)) or "0")
    if shift >= 0:
        return mantissa * 10**shift
    divisor = 10**-shift
    if mantissa % divisor:
        return None
    return mantissa // divisor


def nmr_to_wei(field: str, value: Any) -> int:
    """An NMR amount (number or decimal text) in wei, exactly; at most 18 decimals, not negative.

    Public because the CLI parses its own NMR options (--reserve, --final-value) with the same rules.
    @param field The name to quote in the error message.
    @raise TermsError naming ``field``."""
    number = _decimal(field, value, 'an amount of NMR such as 100 or "0.5"')
    wei = _scaled(field, number, NMR_DECIMALS)
    if wei is None:
        raise TermsError(
            f"{field} ({value}) has more than {NMR_DECIMALS} decimals; NMR is divisible to "
            f"{NMR_DECIMALS} decimal places only",
            field,
        )
    return wei


def _bps(field: str, value: Any) -> int:
    """A fraction (0.5, "0.5" or "50%") in basis points, exactly; refuses fractions of a basis point."""
    percent = isinstance(value, str) and value.strip().endswith("%")
    text = value.strip()[:-1].strip() if percent else value
    number = _decimal(field, text, 'a fraction such as 0.5 (or text such as "50%")')
    bps = _scaled(field, number, BPS_DECIMALS - 2 if percent else BPS_DECIMALS)
    if bps is None:
        raise TermsError(
            f"{field} ({value}) is not a whole number of basis points: the smallest step is " f"0.0001 (0.01%)", field
        )
    return bps


def _whole(field: str, value: Any, what: str = "a whole number") -> int:
    """A non-negative int (an integral Decimal from a JSON/YAML file counts, e.g. 5.0 -> 5)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TermsError(f"{field} must be {what}, not {_kind(value)}", field)
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise TermsError(f"{field} must be {what}, not {value}", field)
        if value.adjusted() > MAX_EXPONENT:
            raise TermsError(f"{field} is far too large ({value})", field)
        value = int(value)
    if value < 0:
        raise TermsError(f"{field} must not be negative (got {value})", field)
    return value


def _duration(field: str, value: Any) -> int:
    """Seconds from an int or from text such as "3600", "7d", "12h", "1d12h", "90m", "2w"."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return _whole(field, value, "a duration")
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == re.sub(r"\s+", "", text):
            return sum(int(n) * DURATION_UNITS[u] for n, u in parts)
        if text.startswith("-"):
            raise TermsError(f"{field} must not be negative (got {value})", field)
    raise TermsError(
        f'{field} must be a duration: seconds (e.g. 3600) or text such as "7d", "12h" or "1d12h" '
        f"(units w, d, h, m, s), not {_kind(value)}",
        field,
    )


def _address(field: str, value: Any) -> str:
    """A 0x Ethereum address, returned checksummed; a mixed-case address must carry a valid checksum."""
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", value.strip()):
        raise TermsError(
            f"{field} must be an Ethereum address (0x followed by 40 hex digits), " f"not {_kind(value)}", field
        )
    text = value.strip()
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise TermsError(
            f"{field} ({text}) has a wrong checksum: check for a typo, or write it in lower case " f"to skip the check",
            field,
        )
    return to_checksum_address(text)


def _model_id(field: str, value: Any) -> bytes:
    """bytes32 from "0x" + 64 hex digits, or from a Numerai model UUID (its 16 bytes, left-aligned)."""
    hint = "a Numerai model UUID (such as 0f5c3a7e-59c1-4c55-9a8e-2e4dbb3a6f11) or 0x followed by " "64 hex digits"
    if not isinstance(value, str):
        raise TermsError(f"{field} must be {hint}, not {_kind(value)}", field)
    text = value.strip()
    if text.lower().startswith("0x"):
        if not re.fullmatch(r"[0-9a-fA-F]{64}", text[2:]):
            raise TermsError(
                f"{field} ({text}) must be 0x followed by exactly 64 hex digits "
                f"(got {len(text) - 2} characters after 0x), or a model UUID",
                field,
            )
        return bytes.fromhex(text[2:])
    try:
        return model_id_from_uuid(text)
    except ValueError:
        raise TermsError(f"{field} must be {hint}, not {_kind(value)}", field) from None


def _fee_ladder(value: Any) -> tuple[FeeTier, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise TermsError(
            f"fee_ladder must be a list of tiers such as [{{min_units: 10, profit_share: 0.4}}], "
            f"not {_kind(value)}",
            "fee_ladder",
        )
    tiers = []
    for i, tier in enumerate(value):
        where = f"fee_ladder[{i}]"
        if not isinstance(tier, dict):
            raise TermsError(
                f"{where} must be a mapping with min_units and profit_share, not {_kind(tier)}", "fee_ladder"
            )
        unknown = [k for k in tier if k not in TIER_KEYS]
        if unknown:
            raise TermsError(
                f"{where} has an unknown key {unknown[0]!r}; a tier has exactly min_units and " f"profit_share",
                "fee_ladder",
            )
        missing = [k for k in TIER_KEYS if k not in tier]
        if missing:
            raise TermsError(f"{where} is missing {' and '.join(missing)}", "fee_ladder")
        try:
            tiers.append(
                FeeTier(
                    _whole(f"{where}.min_units", tier["min_units"]), _bps(f"{where}.profit_share", tier["profit_share"])
                )
            )
        except TermsError as error:
            raise TermsError(str(error), "fee_ladder") from None
    return tuple(tiers)


# ---------------------------------------------------------------------------------------------- file formats


def _format_name(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "YAML"


def _unique_json_object(pairs):
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise TermsError(f"key {key!r} is given more than once", key)
    return dict(pairs)


class _TermsLoader(yaml.SafeLoader):
    """YAML with exact numbers: floats become Decimal from their text, hex integers (addresses, model ids
    written without quotes) stay text, and duplicate keys are refused."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node)
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text  # .inf, .nan, 1:30.5 and the like: the field parser reports "not a number"


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node)
    if text.lower().startswith(("0x", "+0x", "-0x")):
        return text
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str) and key in seen:
            raise TermsError(f"key {key!r} is given more than once (line {key_node.start_mark.line + 1})", key)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_TermsLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_TermsLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_TermsLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ---------------------------------------------------------------------------------------------- series terms

#: The keys a series agreement's terms may add to an agreement's (docs/series.md).
SERIES_KEYS = ("high_water_mark", "clawback", "commitments")
CLAWBACK_KEYS = ("share", "agreements")
COMMITMENT_KEYS = ("agreements", "profit_share")
#: The series' own terms errors (``SeriesTerms.validate``) -> the terms field each concerns.
SERIES_TERMS_FIELDS = {
    "ClawbackTooHigh": "clawback",
    "ClawbackWindowTooLong": "clawback",
    "ClawbackHalfSet": "clawback",
    "TooManyCommitments": "commitments",
    "CommitmentNotAscending": "commitments",
    "CommitmentShareTooHigh": "commitments",
}


def is_series_terms(data: Any) -> bool:
    """Whether a raw terms mapping uses a series key (clawback, commitments, high_water_mark)."""
    return isinstance(data, dict) and any(k in data for k in SERIES_KEYS)


def load_series_terms(data: Any, now: int | None = None):
    """Parse and validate the terms of one agreement of a series: an agreement's terms (``load_terms``) plus

        high_water_mark: true                     # optional: every series position has one (false is refused)
        clawback: {share: 0.25, agreements: 2}    # optional: part of each profit fee held in escrow, and for how
                                                  #   many agreements it covers the position's later losses
        commitments:                              # optional: a lower profit share for committing to N agreements
          - {agreements: 3, profit_share: 0.15}

    @return ``backing.model.series.SeriesTerms``, valid for an agreement opened at ``now``.
    @raise TermsError naming the field (the sentence from the one catalogue, ``backing.errors``).
    """
    from backing.model.series import Commitment, SeriesTerms

    now = int(time.time()) if now is None else now
    if not isinstance(data, dict):
        raise TermsError(f"terms must be a mapping of keys to values, not {_kind(data)}")
    known = KNOWN_KEYS + SERIES_KEYS
    for key in data:
        if isinstance(key, str) and key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys are {', '.join(known)}"
            raise TermsError(f"unknown key {key!r}{hint}", key)
    base = load_terms({k: v for k, v in data.items() if k not in SERIES_KEYS}, now)
    mark = data.get("high_water_mark", True)
    if not isinstance(mark, bool):
        raise TermsError(f"high_water_mark must be true or false, not {_kind(mark)}", "high_water_mark")
    if mark is False:
        raise TermsError(
            "high_water_mark: every position of a series keeps a high-water mark (it pays a profit "
            "fee only above the price it last paid at); leave the key out or set it true",
            "high_water_mark",
        )
    clawback_bps, clawback_agreements = _clawback(data.get("clawback"))
    terms = SeriesTerms(
        base,
        clawback_bps=clawback_bps,
        clawback_agreements=clawback_agreements,
        commitments=tuple(Commitment(n, bps) for n, bps in _commitments(data.get("commitments"))),
    )
    try:
        terms.validate(now)
    except ContractError as error:
        if error.name in SERIES_TERMS_FIELDS:
            raise TermsError(
                plain(error.name, error.args_, Context(contract="SeriesTerms")), SERIES_TERMS_FIELDS[error.name]
            ) from None
        raise explain(error, base, now, data) from None
    return terms


def load_series_terms_file(path: str | Path, now: int | None = None):
    """``load_series_terms`` of a YAML or JSON file (read as ``load_terms_file`` reads)."""
    return load_series_terms(read_terms_file(path), now)


def dump_series_terms(terms) -> dict:
    """Series terms in human units (``dump_terms`` plus the series keys), loadable by ``load_series_terms``."""
    data = dump_terms(terms.base)
    data["high_water_mark"] = True
    if terms.clawback_bps:
        data["clawback"] = {"share": fraction(terms.clawback_bps), "agreements": terms.clawback_agreements}
    if terms.commitments:
        data["commitments"] = [
            {"agreements": c.agreements, "profit_share": fraction(c.profit_share_bps)} for c in terms.commitments
        ]
    return data


def _clawback(value: Any) -> tuple[int, int]:
    if value is None:
        return 0, 0
    if not isinstance(value, dict):
        raise TermsError(
            f"clawback must be a mapping such as {{share: 0.25, agreements: 2}}, not {_kind(value)}", "clawback"
        )
    unknown = [k for k in value if k not in CLAWBACK_KEYS]
    if unknown:
        raise TermsError(f"clawback has an unknown key {unknown[0]!r}; it has exactly share and agreements", "clawback")
    missing = [k for k in CLAWBACK_KEYS if k not in value]
    if missing:
        raise TermsError(f"clawback is missing {' and '.join(missing)}", "clawback")
    try:
        return _bps("clawback.share", value["share"]), _whole("clawback.agreements", value["agreements"])
    except TermsError as error:
        raise TermsError(str(error), "clawback") from None


def _commitments(value: Any) -> list[tuple[int, int]]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise TermsError(
            f"commitments must be a list such as [{{agreements: 3, profit_share: 0.15}}], not " f"{_kind(value)}",
            "commitments",
        )
    out = []
    for i, item in enumerate(value):
        where = f"commitments[{i}]"
        if not isinstance(item, dict):
            raise TermsError(
                f"{where} must be a mapping with agreements and profit_share, not {_kind(item)}", "commitments"
            )
        unknown = [k for k in item if k not in COMMITMENT_KEYS]
        if unknown:
            raise TermsError(
                f"{where} has an unknown key {unknown[0]!r}; a commitment has exactly agreements and " f"profit_share",
                "commitments",
            )
        missing = [k for k in COMMITMENT_KEYS if k not in item]
        if missing:
            raise TermsError(f"{where} is missing {' and '.join(missing)}", "commitments")
        try:
            out.append(
                (_whole(f"{where}.agreements", item["agreements"]), _bps(f"{where}.profit_share", item["profit_share"]))
            )
        except TermsError as error:
            raise TermsError(str(error), "commitments") from None
    return out


# ---------------------------------------------------------------------------------------------- every violation


def _form_number(value: Any) -> Any:
    """A form's text as the number a YAML file would give (exact Decimal or int); other text stays text."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+", text):
            return int(text)
        try:
            number = Decimal(text)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    return value


#: field -> (Terms attribute, parser of the field's value); the order of a form.
_FIELD_PARSERS = {
    "model_id": ("model_id", lambda v: _model_id("model_id", v)),
    "unit_size": ("unit_size", lambda v: nmr_to_wei("unit_size", v)),
    "min_units": ("min_units", lambda v: _whole("min_units", _form_number(v))),
    "max_units": ("max_units", lambda v: _whole("max_units", _form_number(v))),
    "profit_share": ("profit_share_bps", lambda v: _bps("profit_share", v)),
    "burn_share": ("burn_share_bps", lambda v: _bps("burn_share", v)),
    "reserve_ratio": ("reserve_ratio_bps", lambda v: _bps("reserve_ratio", v)),
    "upfront_fee": ("upfront_fee_bps", lambda v: _bps("upfront_fee", v)),
    "lockup_rounds": ("lockup_rounds", lambda v: _whole("lockup_rounds", _form_number(v))),
    "wind_down": ("wind_down", lambda v: _duration("wind_down", _form_number(v))),
    "staking_address": ("staking_address", lambda v: _address("staking_address", v)),
    "fee_ladder": ("fee_ladder", lambda v: _fee_ladder(v)),
    "require_attested_model": ("require_attested_model", lambda v: _flag("require_attested_model", v)),
}
#: A value that passes its field's checks, put in place of a refused field so the contract's checks of the
#: other fields still run.
_PASSING = {
    "model_id": b"\x00" * 32,
    "unit_size": 10**18,
    "min_units": 1,
    "profit_share_bps": 0,
    "burn_share_bps": 0,
    "reserve_ratio_bps": 0,
    "upfront_fee_bps": 0,
    "lockup_rounds": 1,
    "wind_down": 3600,
    "staking_address": "0x000000000000000000000000000000000000dEaD",
    "fee_ladder": (),
    "require_attested_model": False,
}


def field_errors(data: dict, now: int | None = None) -> tuple[Terms | None, dict[str, str]]:
    """Every violation in terms given as a form gives them (text per field, keys of a terms file), by the same
    rules as ``load_terms``: each field's own parsing, then the contract's checks (``Terms.validate``), each
    refused field replaced by a passing value so that the checks of the others still run.

    @param data {field: value}; text values such as "5" or "0.5" count as the numbers they spell; an empty
        value counts as missing. ``open_for`` (a duration) or ``open_until`` (a unix time).
    @param now The unix time the terms are checked against (the chain's).
    @return (the terms when there is no violation else None, {field: the sentence saying what is wrong}).
    """
    now = int(time.time()) if now is None else now
    data = {k: v for k, v in data.items() if v not in (None, "")}
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key in data:
        if key not in KNOWN_KEYS:
            errors[key] = f"unknown field {key!r}"
    for key, (attribute, parse) in _FIELD_PARSERS.items():
        if key not in data:
            if key not in OPTIONAL_KEYS:
                errors[key] = f"{key} is required"
            continue
        try:
            values[attribute] = parse(data[key])
        except TermsError as error:
            errors[key] = str(error)
    open_key = "open_until" if "open_until" in data and "open_for" not in data else "open_for"
    try:
        if open_key not in data:
            raise TermsError('open_for is required (a duration such as "7d")', "open_for")
        if open_key == "open_for":
            values["open_until"] = now + _duration("open_for", _form_number(data["open_for"]))
        else:
            values["open_until"] = _whole("open_until", _form_number(data["open_until"]), what="a unix time")
    except TermsError as error:
        errors[open_key] = str(error)
    passing = dict(_PASSING, max_units=max(values.get("min_units", 1), 1), open_until=now + 1)
    checked = {attribute: values.get(attribute, passing[attribute]) for attribute in passing}
    raw = {open_key: data.get(open_key)}
    for _ in range(len(passing) + 1):
        terms = Terms(**checked)
        try:
            terms.validate(now)
            break
        except ContractError as error:
            refused = explain(error, terms, now, raw)
            field = refused.field or "terms"
            errors.setdefault(field, str(refused))
            attribute = _FIELD_PARSERS[field][0] if field in _FIELD_PARSERS else field
            if attribute not in passing or checked[attribute] == passing[attribute]:
                break  # no other value to try: stop rather than loop
            checked[attribute] = passing[attribute]
    if errors:
        return None, errors
    return Terms(**checked), {}
