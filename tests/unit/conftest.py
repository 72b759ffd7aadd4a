"""Fixtures for the pure-Python tests (no chain)."""

import json

import pytest
import yaml


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
