"""Fixtures for the pure-Python tests (no chain)."""

import json

import pytest
import yaml
from hypothesis import HealthCheck, settings

# The machine is shared (2 cores, other suites beside): slow example generation under load is not a failure.
# Examples stay as many as each test asks for; only the timing health check is off.
settings.register_profile("unit", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("unit")


@pytest.fixture
def write_terms(tmp_path):
    """Write a terms dict (or raw text) to a file; the suffix picks the format. Returns the path as text."""
    counter = iter(range(10**6))

    def write(data, suffix=".yaml") -> str:
        path = tmp_path / f"terms{next(counter)}{suffix}"
        if isinstance(data, str):
            path.write_text(data)
        elif suffix == ".json":
            path.write_text(json.dumps(data))
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False))
        return str(path)

    return write
