"""backing/scenario.schema.json (for editors; shipped in the package) and the scenario loader agree: every example
scenario passes both, and each change below is refused by both.

jsonschema is not among the project's dependencies, so ``validate`` here implements the keywords the schema uses
(and the first test fails if the schema starts using another one)."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from backing.model.terms import read_terms_file
from backing.simulate import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "scenarios").glob("*.yaml"))
SCHEMA = json.loads(resources.files("backing").joinpath("scenario.schema.json").read_text(encoding="utf-8"))
ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "pattern",
    "oneOf",
    "anyOf",
    "not",
    "$ref",
    "minProperties",
    "maxProperties",
}
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def keywords(node, found=None):
    found = set() if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "$defs"):
                found.add(key)
                for sub in value.values():
                    keywords(sub, found)
                continue
            found.add(key)
            keywords(value, found)
    elif isinstance(node, list):
        for item in node:
            keywords(item, found)
    return found


def errors(value, schema, where="$"):
    """The places where `value` breaks `schema` (empty: valid)."""
    if "$ref" in schema:
        target = SCHEMA
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return errors(value, target, where)
    found = []
    kind = schema.get("type")
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind:
        ok = isinstance(value, TYPES[kind])
    else:
        ok = True
    if not ok:
        return [f"{where}: not {kind}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: above maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            found.append(f"{where}: not above exclusiveMinimum")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{where}: {key} missing")
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                found += errors(item, props[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unknown key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(item, schema["additionalProperties"], f"{where}.{key}")
        if len(value) < schema.get("minProperties", 0) or len(value) > schema.get("maxProperties", len(value)):
            found.append(f"{where}: wrong number of keys")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            found.append(f"{where}: wrong number of items")
        if schema.get("uniqueItems") and len(set(map(json.dumps, value))) != len(value):
            found.append(f"{where}: repeated items")
        if "items" in schema:
            for i, item in enumerate(value):
                found += errors(item, schema["items"], f"{where}[{i}]")
    if "oneOf" in schema and sum(not errors(value, s, where) for s in schema["oneOf"]) != 1:
        found.append(f"{where}: not exactly one of oneOf")
    if "anyOf" in schema and not any(not errors(value, s, where) for s in schema["anyOf"]):
        found.append(f"{where}: none of anyOf")
    if "not" in schema and not errors(value, schema["not"], where):
        found.append(f"{where}: matches not")
    return found


def plain_json(value):
    """The scenario as a JSON document would hold it (the loader reads numbers as exact Decimals)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    return value


def loader_accepts(data) -> bool:
    try:
        load_scenario(copy.deepcopy(data))
        return True
    except ScenarioError:
        return False


def test_schema_uses_only_the_keywords_checked_here():
    assert keywords(SCHEMA) - ANNOTATIONS <= KEYWORDS


def test_schema_is_package_data():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"backing" = ["scenario.schema.json"]' in text


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_pass_schema_and_loader(path):
    data = read_terms_file(path)
    assert loader_accepts(data)
    assert errors(plain_json(data), SCHEMA) == []


def seed():
    return read_terms_file(ROOT / "examples" / "scenarios" / "seed-gain-repaid.yaml")


def series():
    return read_terms_file(ROOT / "examples" / "scenarios" / "series-rollover.yaml")


CHANGES = {
    "unknown top key": (seed, lambda s: s.update(extra=1)),
    "no rounds": (seed, lambda s: s.pop("rounds")),
    "no agreements": (seed, lambda s: s.update(agreements=[])),
    "unknown model key": (seed, lambda s: s["model"].update(size=1)),
    "exposure 0": (seed, lambda s: s["model"].update(exposure=0)),
    "exposure 2": (seed, lambda s: s["model"].update(exposure=2)),
    "attested not boolean": (seed, lambda s: s["model"].update(attested="yes")),
    "agreement without terms": (seed, lambda s: s["agreements"][0].pop("terms")),
    "agreement without deposits": (seed, lambda s: s["agreements"][0].pop("deposits")),
    "unknown agreement key": (seed, lambda s: s["agreements"][0].update(bonus=1)),
    "staking_address given": (seed, lambda s: s["agreements"][0]["terms"].update(staking_address="0x" + "1" * 40)),
    "model_id given": (seed, lambda s: s["agreements"][0]["terms"].update(model_id="0x" + "1" * 64)),
    "zero units": (seed, lambda s: s["agreements"][0]["deposits"][0].update(units=0)),
    "fractional units": (seed, lambda s: s["agreements"][0]["deposits"][0].update(units=1.5)),
    "reserved backer name": (seed, lambda s: s["agreements"][0]["deposits"][0].update(backer="total")),
    "empty backer name": (seed, lambda s: s["agreements"][0]["deposits"][0].update(backer=" ")),
    "unknown deposit key": (seed, lambda s: s["agreements"][0]["deposits"][0].update(when=1)),
    "negative reserve": (seed, lambda s: s["agreements"][0].update(reserve=-1)),
    "repayment word": (seed, lambda s: s["agreements"][0].update(repayment="half")),
    "high_water_mark not boolean": (seed, lambda s: s["agreements"][0]["terms"].update(high_water_mark="yes")),
    "clawback without agreements": (seed, lambda s: s["agreements"][0]["terms"].update(clawback={"share": 0.5})),
    "clawback for 5": (seed, lambda s: s["agreements"][0]["terms"].update(clawback={"share": 0.5, "agreements": 5})),
    "clawback share 0": (seed, lambda s: s["agreements"][0]["terms"].update(clawback={"share": 0, "agreements": 1})),
    "round unknown key": (seed, lambda s: s["rounds"][0].update(bonus=1)),
    "round without clip": (seed, lambda s: s["rounds"][0].pop("clip")),
    "round clip 0": (seed, lambda s: s["rounds"][0].update(clip=0)),
    "round clip 2": (seed, lambda s: s["rounds"][0].update(clip=2)),
    "round without scores": (seed, lambda s: s["rounds"][0].pop("scores")),
    "round no scores": (seed, lambda s: s["rounds"][0].update(scores={}, multipliers={})),
    "nine scores": (
        seed,
        lambda s: s["rounds"][0].update(
            scores={f"S{i}": 0 for i in range(9)}, multipliers={f"S{i}": 1 for i in range(9)}
        ),
    ),
    "missed with scores": (seed, lambda s: s["rounds"][0].update(missed=True)),
    "score as words": (seed, lambda s: s["rounds"][0]["scores"].update(MMC="high")),
    "rollover twice": (series, lambda s: s["agreements"][1].update(rollover=["alice", "alice"])),
    "rollover not a list": (series, lambda s: s["agreements"][1].update(rollover="alice")),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_schema_and_loader_refuse_the_same_changes(name):
    make, change = CHANGES[name]
    data = make()
    change(data)
    assert not loader_accepts(data), "the loader accepts it"
    assert errors(plain_json(data), SCHEMA), "the schema accepts it"


def test_a_missed_round_passes_both():
    data = seed()
    data["rounds"][0] = {"missed": True}
    assert loader_accepts(data) and errors(plain_json(data), SCHEMA) == []


def doc_examples():
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("number", range(len(doc_examples())))
def test_the_docs_examples_pass_schema_and_loader(number, tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(doc_examples()[number])
    data = read_terms_file(path)
    assert loader_accepts(data)
    assert errors(plain_json(data), SCHEMA) == []


def test_the_docs_error_example_is_the_loaders():
    data = seed()
    data["rounds"][0]["clip"] = 2
    with pytest.raises(ScenarioError, match=r"^rounds\[0\]\.clip \(2\) must be more than 0 and at most 1$"):
        load_scenario(data)
    assert "`backing: error: rounds[0].clip (2) must be more\nthan 0 and at most 1`" in (
        ROOT / "docs" / "scenarios.md"
    ).read_text(encoding="utf-8")
