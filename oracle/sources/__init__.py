"""Where round results come from: Numerai's API (numerapi), a replay file, or a deterministic generator.

Every source returns only checked data (`oracle.validate`): `resolved_results` gives a consecutive list from
after_round + 1 or raises `SourceError` and gives nothing for that model. Every source also remembers what it
returned as resolved and raises if a later answer takes it back or changes it (`ResolutionMemory`).

One module per source: ``numerai`` (Numerai through numerapi), ``file`` (CSV/JSON replay), ``synthetic``
(deterministic rounds for simulations); ``base`` holds what they share.
"""

from oracle.sources.base import CLASSIC_TOURNAMENT, CheckedSource
from oracle.sources.file import FileSource
from oracle.sources.numerai import NumeraiSource
from oracle.sources.synthetic import SyntheticSource

__all__ = ["CLASSIC_TOURNAMENT", "CheckedSource", "FileSource", "NumeraiSource", "SyntheticSource"]
