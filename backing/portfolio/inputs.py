"""What a portfolio is built from: candidates (agreements or series agreements with their terms, capacity, reserve
and phase), the backer's holdings, each model's score history, and the budget.

Two sources give the same objects: files (``load_candidates_file``, ``load_holdings_csv``, ``load_history_csv``)
and the chain (``backing.portfolio.chain``). Amounts are wei (int), scores and round returns 1e18 fixed point.

Candidates file (YAML or JSON)::

    candidates:
      - id: alpha-1            # any name (or the agreement address); holdings refer to it
        model: alpha           # the model's name in the history
        terms: terms.yaml      # a terms file, relative to this file, or the terms inline (backing terms check)
        kind: agreement        # or series (valued on its base terms)
        phase: Open            # Open, Locked, Matured, Settled, Defaulted, Cancelled
        units_sold: 10         # units others already hold (default 0)
        reserve: 600           # NMR the modeller posted (default: what locking needs at full capacity)
        modeller: bob          # defaults are drawn per modeller (default: the model's name)
        default_probability: 0 # chance the modeller repays nothing (default 0; on chain: his record)
        exposure: 1            # the oracle's fraction of the stake at risk per round (default 1)

Holdings CSV: ``candidate,units`` (one row per position; a candidate may repeat). History CSV: ``round,model,
return`` (round returns as the oracle posts them, fractions) or ``round,model,corr20,mmc`` (scores, turned into
returns with a payout scheme, ``backing.montecarlo.SCHEMES``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from backing.errors import PortfolioError, portfolio_problem
from backing.model.agreement import ONE, Terms, lock_amounts
from backing.model.terms import TermsError, load_terms, nmr_to_wei, read_terms_file

PHASES = ("Open", "Locked", "Matured", "Settled", "Defaulted", "Cancelled")


@dataclass(frozen=True)
class Candidate:
    """An agreement a backer may hold units of.

    @param id What holdings and actions call it (an address on chain).
    @param model The model's name in the history (a UUID on chain).
    @param units_sold Units held by everyone (the backer's own included) right now.
    @param reserve The reserve posted, wei; the outcome uses at least what locking needs.
    @param series The series address and agreement index for a series agreement (else None).
    """

    id: str
    model: str
    terms: Terms
    kind: str = "agreement"
    phase: str = "Open"
    units_sold: int = 0
    reserve: int = 0
    modeller: str = ""
    default_probability: float = 0.0
    exposure: int = ONE
    series: tuple[str, int] | None = None
    open_until: int | None = None
    rounds_left: int | None = None  # a locked agreement: rounds still to come (default: the whole lockup)
    index_so_far: int = ONE  # a locked agreement: index now / index at lock, 1e18 fixed point
    end_round: int | None = None  # a locked agreement: its last round (when it matures)

    @property
    def horizon(self) -> int:
        """Rounds of score history the outcome still depends on."""
        return self.terms.lockup_rounds if self.rounds_left is None else self.rounds_left

    @property
    def unit_cost(self) -> int:
        return self.terms.unit_size

    @property
    def open_units(self) -> int:
        """Units still for sale (only an open agreement sells units)."""
        return max(0, self.terms.max_units - self.units_sold) if self.phase == "Open" else 0

    def valued_reserve(self, total_units: int) -> int:
        """The reserve the outcome assumes: what is posted, and at least what locking ``total_units`` needs."""
        return max(self.reserve, self.terms.required_reserve(lock_amounts(self.terms, total_units).staked))


@dataclass(frozen=True)
class Holding:
    candidate: str
    units: int
    position: int | None = None  # a series position id


@dataclass
class History:
    """Round returns per model on common rounds: ``returns[r, m]`` int64 (1e18 = +100%)."""

    rounds: np.ndarray
    models: list[str]
    returns: np.ndarray
    source: str = ""
    present: np.ndarray | None = None  # bool per (round, model): the model has this round (default: all)

    def column(self, model: str) -> int:
        return self.models.index(model)

    def restricted(self, models: list[str], needed: int, where: str = "") -> History:
        """The rounds every one of ``models`` has (their columns only); refuses when fewer than ``needed``."""
        missing = [m for m in models if m not in self.models]
        if missing:
            raise portfolio_problem(
                "unknown_model", where=where or self.source, model=missing[0], known=_names(self.models)
            )
        cols = [self.models.index(m) for m in models]
        block = self.returns[:, cols]
        common = self.present[:, cols].all(axis=1) if self.present is not None else np.ones(len(block), bool)
        out = History(self.rounds[common], list(models), block[common], self.source)
        if len(out.rounds) < needed:
            raise portfolio_problem("short_history", models=_names(models), rounds=len(out.rounds), needed=needed)
        return out


@dataclass
class Inputs:
    candidates: list[Candidate]
    holdings: list[Holding]
    history: History
    budget: int
    source: str = ""
    account: str | None = None
    now_round: int | None = None
    notes: list[str] = field(default_factory=list)

    def candidate(self, name: str, where: str = "holdings") -> Candidate:
        for c in self.candidates:
            if c.id == name or c.id.lower() == name.lower():
                return c
        raise portfolio_problem(
            "unknown_agreement", where=where, name=name, known=_names([c.id for c in self.candidates])
        )

    def held_units(self) -> np.ndarray:
        """Units held per candidate (in candidate order)."""
        index = {c.id: i for i, c in enumerate(self.candidates)}
        out = np.zeros(len(self.candidates), dtype=np.int64)
        for h in self.holdings:
            out[index[self.candidate(h.candidate).id]] += h.units
        return out

    def validate(self) -> None:
        if not self.candidates:
            raise portfolio_problem("no_candidates", where=self.source)
        for h in self.holdings:
            self.candidate(h.candidate)
        models = sorted({c.model for c in self.candidates})
        if len(self.history.rounds) == 0:
            raise portfolio_problem("empty_history", where=self.history.source)
        for m in models:
            if m not in self.history.models:
                raise portfolio_problem(
                    "unknown_model", where=self.history.source, model=m, known=_names(self.history.models)
                )


def _names(items, limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return (shown + f", ... ({len(items)} in all)") if len(items) > limit else (shown or "none")


# ---------------------------------------------------------------------------------------------- files


def _fraction(text: str, where: str) -> int:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise portfolio_problem("bad_file", where=where, why=f"{text!r} is not a number") from None
    if not value.is_finite() or abs(value) > 1:
        raise portfolio_problem("bad_file", where=where, why=f"{text!r} must be between -1 and 1")
    return int((value * ONE).to_integral_value())


def _read_csv(path: Path, what: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise portfolio_problem(
            "bad_file", where=str(path), why=f"cannot read the {what}: {getattr(error, 'strerror', None) or error}"
        ) from None
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        return [], []
    rows = list(csv.reader([line for _, line in numbered]))
    header = [h.strip().lower() for h in rows[0]]
    return header, [(n, [c.strip() for c in r]) for (n, _), r in zip(numbered[1:], rows[1:])]


def load_history_csv(path: str | Path, scheme: str = "v2") -> History:
    """A long history CSV: ``round,model,return`` or ``round,model,corr20,mmc`` (scores through ``scheme``)."""
    from backing.montecarlo import SCHEMES, round_returns

    path = Path(path)
    header, rows = _read_csv(path, "history")
    if not header or not rows:
        raise portfolio_problem("empty_history", where=str(path))
    if "round" not in header or "model" not in header:
        raise portfolio_problem(
            "bad_file", where=str(path), why="the header must name round,model and return (or corr20,mmc)"
        )
    scores = "return" not in header
    if scores and not ("corr20" in header and "mmc" in header):
        raise portfolio_problem("bad_file", where=str(path), why="the header needs a return column, or corr20 and mmc")
    ri, mi = header.index("round"), header.index("model")
    data: dict[tuple[int, str], list[int]] = {}
    for lineno, row in rows:
        where = f"{path}:{lineno}"
        if len(row) < len(header):
            raise portfolio_problem("bad_file", where=where, why=f"expected {len(header)} columns, got {len(row)}")
        try:
            rnd = int(row[ri])
        except ValueError:
            raise portfolio_problem("bad_file", where=where, why=f"round {row[ri]!r} is not a whole number") from None
        model = row[mi]
        if not model:
            raise portfolio_problem("bad_file", where=where, why="the model is empty")
        if (rnd, model) in data:
            raise portfolio_problem("bad_file", where=where, why=f"round {rnd} of model {model!r} is listed twice")
        if scores:
            data[(rnd, model)] = [
                _fraction(row[header.index("corr20")], where),
                _fraction(row[header.index("mmc")], where),
            ]
        else:
            data[(rnd, model)] = [_fraction(row[header.index("return")], where)]
    models = sorted({m for _, m in data})
    rounds = np.array(sorted({r for r, _ in data}), dtype=np.int64)
    position = {int(r): i for i, r in enumerate(rounds)}
    width = 2 if scores else 1
    raw = np.zeros((len(rounds), len(models), width), dtype=np.int64)
    present = np.zeros((len(rounds), len(models)), dtype=bool)
    for (r, m), v in data.items():
        raw[position[r], models.index(m)] = v
        present[position[r], models.index(m)] = True
    returns = round_returns(raw, SCHEMES[scheme]) if scores else raw[..., 0]
    return History(rounds, models, returns, str(path), present)


def load_holdings_csv(path: str | Path) -> list[Holding]:
    path = Path(path)
    header, rows = _read_csv(path, "holdings")
    if not header:
        return []
    if "candidate" not in header or "units" not in header:
        raise portfolio_problem("bad_file", where=str(path), why="the header must name the columns candidate,units")
    ci, ui = header.index("candidate"), header.index("units")
    out = []
    for lineno, row in rows:
        where = f"{path}:{lineno}"
        try:
            units = int(row[ui])
        except (ValueError, IndexError):
            raise portfolio_problem("bad_file", where=where, why="units must be a whole number") from None
        if units < 0:
            raise portfolio_problem("bad_file", where=where, why="units must not be negative")
        out.append(Holding(row[ci], units))
    return out


def load_candidates_file(path: str | Path, now: int | None = None) -> list[Candidate]:
    """Candidates from a YAML/JSON file (see the module docstring)."""
    path = Path(path)
    try:
        data = read_terms_file(path)
    except TermsError as error:
        raise portfolio_problem("bad_file", where=str(path), why=str(error)) from None
    items = data.get("candidates") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise portfolio_problem("no_candidates", where=f"in {path} (expected a list under `candidates:`)")
    out, seen = [], set()
    for i, item in enumerate(items):
        where = f"{path}: candidates[{i}]"
        if not isinstance(item, dict) or "id" not in item or "model" not in item or "terms" not in item:
            raise portfolio_problem("bad_file", where=where, why="each candidate needs id, model and terms")
        raw = item["terms"]
        try:
            if isinstance(raw, str):
                raw = read_terms_file(path.parent / raw)
            terms = load_terms(raw, now)
        except TermsError as error:
            raise portfolio_problem("bad_file", where=where, why=str(error)) from None
        phase = str(item.get("phase", "Open")).capitalize()
        if phase not in PHASES:
            raise portfolio_problem("bad_file", where=where, why=f"phase {phase!r} is not one of {', '.join(PHASES)}")
        cid = str(item["id"])
        if cid in seen:
            raise portfolio_problem("bad_file", where=where, why=f"id {cid!r} is used twice")
        seen.add(cid)
        try:
            reserve = nmr_to_wei("reserve", item.get("reserve", 0))
            exposure = nmr_to_wei("exposure", item.get("exposure", 1))
        except TermsError as error:
            raise portfolio_problem("bad_file", where=where, why=str(error)) from None
        p = float(item.get("default_probability", 0))
        if not 0 <= p <= 1:
            raise portfolio_problem("bad_file", where=where, why="default_probability must be between 0 and 1")
        sold = int(item.get("units_sold", 0))
        if not 0 <= sold <= terms.max_units:
            raise portfolio_problem("bad_file", where=where, why=f"units_sold must be 0..max_units ({terms.max_units})")
        kind = str(item.get("kind", "agreement"))
        if kind not in ("agreement", "series"):
            raise portfolio_problem("bad_file", where=where, why="kind must be agreement or series")
        out.append(
            Candidate(
                id=cid,
                model=str(item["model"]),
                terms=terms,
                kind=kind,
                phase=phase,
                units_sold=sold,
                reserve=reserve,
                modeller=str(item.get("modeller", item["model"])),
                default_probability=p,
                exposure=exposure,
                series=(cid, int(item.get("index", 0))) if kind == "series" else None,
                open_until=terms.open_until,
            )
        )
    return out


def with_holdings_counted(candidates: list[Candidate], holdings: list[Holding]) -> list[Candidate]:
    """Files give ``units_sold`` for others; make sure it is at least the backer's own units."""
    own: dict[str, int] = {}
    for h in holdings:
        own[h.candidate] = own.get(h.candidate, 0) + h.units
    return [replace(c, units_sold=max(c.units_sold, own.get(c.id, 0))) for c in candidates]


def parse_budget(text: str) -> int:
    try:
        value = nmr_to_wei("--budget", text)
    except TermsError as error:
        raise PortfolioError(str(error)) from None
    return value
