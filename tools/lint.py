#!/usr/bin/env python3
"""Static analysis of contracts/ with slither; fails on any High or Medium finding.

    python tools/lint.py --slither .venv-lint/bin/slither --solc ~/.solcx/solc-v0.8.24     (what `make lint` runs)

Every finding is printed (impact, confidence, detector, location, source line, first line of the description);
the exit status is 1 if any has impact High or Medium, 2 if slither could not run or compile, 0 otherwise.
Low, Informational and Optimization findings are printed but never fail the run. A finding that is accepted
is suppressed in the contract with `// slither-disable-next-line <detector>` and a comment giving the reason.

How slither is driven, and why (slither-analyzer 0.11.3 / crytic-compile 0.3.x):
  * Our solc is the npm (wasm) compiler behind tools/solcjs-shim.js, which only answers `--version` and
    `--standard-json`, so slither must compile through crytic-compile's standard-json platform ("Solc-json").
  * `slither contracts/ --solc-standard-json` globs contracts/*.sol only (not contracts/test/) and runs a
    compiler literally named `solc` from PATH whatever --solc says (--solc only serves `--version`); it also
    ignores --solc-args there, so the EVM version would silently be solc's default. Instead this script
    writes the standard-json input itself (every .sol under contracts/, recursively, with the remappings,
    EVM version and optimizer of brownie-config.yaml), hands that file to slither with
    `--compile-force-framework solc-json`, and puts a `solc` symlink to --solc first on PATH.
  * Results come back with `--json -` on stdout; slither's own exit status is not used (it is non-zero
    whenever there is any finding at all).
Standard library only: it runs under the slither venv's python (no PyYAML there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPACTS = ["High", "Medium", "Low", "Informational", "Optimization"]
FAILING = {"High", "Medium"}
CONFIDENCES = ["High", "Medium", "Low"]
# Used when brownie-config.yaml cannot be read; keep in step with it.
DEFAULT_SETTINGS = {
    "evm_version": "shanghai",
    "optimizer_enabled": True,
    "optimizer_runs": 200,
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
}
EXIT_OK, EXIT_FINDINGS, EXIT_TOOL = 0, 1, 2


class LintError(Exception):
    """Slither could not be run, or did not produce a usable report."""


# ------------------------------------------------------------------------------------------ settings


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def read_yaml_subset(path: Path) -> dict:
    """Flatten the block-style mappings and `- item` lists of a simple YAML file into {"a.b.c": value}.

    Enough for brownie-config.yaml (no flow style, anchors or multi-line scalars there)."""
    flat: dict = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing mappings
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        text = line.strip()
        if text.startswith("- "):
            while stack and stack[-1][0] > indent:
                stack.pop()
            if stack and stack[-1][0] == indent and not isinstance(flat.get(_key(stack)), list):
                stack.pop()  # a sibling key, not the list's owner ("key:\n- item" may share the key's indent)
            key = _key(stack)
            if isinstance(flat.get(key), list):
                flat[key].append(_unquote(text[2:]))
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name, sep, value = text.partition(":")
        if not sep:
            continue
        stack.append((indent, name.strip()))
        if value.strip():
            flat[_key(stack)] = _unquote(value)
        else:
            flat[_key(stack)] = []  # a mapping or a list follows; a mapping's keys simply never append to it
    return flat


def _key(stack: list[tuple[int, str]]) -> str:
    return ".".join(name for _, name in stack)


def compiler_settings(config: Path) -> tuple[dict, str | None]:
    """(settings, warning) taken from brownie-config.yaml's `compiler:` block, defaults where missing."""
    settings = dict(DEFAULT_SETTINGS)
    try:
        flat = read_yaml_subset(config)
    except OSError as error:
        return settings, f"could not read {config} ({error}); using built-in compiler settings"
    if isinstance(flat.get("compiler.evm_version"), str):
        settings["evm_version"] = flat["compiler.evm_version"]
    enabled = flat.get("compiler.solc.optimizer.enabled")
    if isinstance(enabled, str):
        settings["optimizer_enabled"] = enabled.lower() == "true"
    runs = flat.get("compiler.solc.optimizer.runs")
    if isinstance(runs, str) and runs.isdigit():
        settings["optimizer_runs"] = int(runs)
    remaps = flat.get("compiler.solc.remappings")
    if isinstance(remaps, list) and remaps:
        settings["remappings"] = remaps
    elif isinstance(remaps, str) and remaps:
        settings["remappings"] = [remaps]
    return settings, None


def _source_key(src: Path) -> str:
    """Source unit name: repository-relative (as brownie names them), absolute for files outside it."""
    return src.relative_to(ROOT).as_posix() if src.is_relative_to(ROOT) else src.as_posix()


def standard_json_input(sources: list[Path], settings: dict) -> dict:
    return {
        "language": "Solidity",
        "sources": {_source_key(src): {"content": src.read_text(encoding="utf-8")} for src in sources},
        "settings": {
            "remappings": settings["remappings"],
            "evmVersion": settings["evm_version"],
            "optimizer": {"enabled": settings["optimizer_enabled"], "runs": settings["optimizer_runs"]},
            "outputSelection": {
                "*": {
                    "*": ["abi", "metadata", "devdoc", "userdoc", "evm.bytecode", "evm.deployedBytecode"],
                    "": ["ast"],
                }
            },
        },
    }


# ------------------------------------------------------------------------------------------ running


def run_slither(args: argparse.Namespace, sources: list[Path], settings: dict) -> dict:
    slither = shutil.which(args.slither) or args.slither
    if not (os.path.isfile(slither) and os.access(slither, os.X_OK)):
        raise LintError(f"slither not found or not executable: {args.slither} (run `make .venv-lint/.installed`)")
    solc = Path(os.path.expanduser(args.solc))
    if not (solc.is_file() and os.access(solc, os.X_OK)):
        raise LintError(f"solc not found or not executable: {solc} (run `make solc`)")

    with tempfile.TemporaryDirectory(prefix="lint-slither-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "bin").mkdir()
        # crytic-compile's standard-json platform executes `solc` from PATH (see the module docstring).
        os.symlink(solc.resolve(), tmpdir / "bin" / "solc")
        input_file = tmpdir / "standard-input.json"
        input_file.write_text(json.dumps(standard_json_input(sources, settings)), encoding="utf-8")

        env = dict(os.environ)
        env["PATH"] = f"{tmpdir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        cmd = [
            slither,
            str(input_file),
            "--compile-force-framework",
            "solc-json",
            "--solc",
            str(solc),
            "--filter-paths",
            args.filter_paths,
            "--json",
            "-",
        ]
        if args.config_file:
            cmd += ["--config-file", args.config_file]
        if args.verbose:
            print("$ " + " ".join(cmd), file=sys.stderr)
        try:
            proc = subprocess.run(
                cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise LintError(f"slither did not finish within {args.timeout}s") from error
        except OSError as error:
            raise LintError(f"could not start slither: {error}") from error

    if args.verbose and proc.stderr:
        sys.stderr.write(proc.stderr)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise LintError(
            f"slither exited with status {proc.returncode} without a JSON report.\n" + _tail(proc.stderr or proc.stdout)
        ) from None
    if not isinstance(report, dict) or not report.get("success"):
        error = report.get("error") if isinstance(report, dict) else None
        raise LintError(
            "slither failed (compilation or analysis error):\n" + (str(error).strip() if error else _tail(proc.stderr))
        )
    return report


def _tail(text: str, lines: int = 40) -> str:
    kept = (text or "").strip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept) if kept else "    (no output)"


# ------------------------------------------------------------------------------------------ reporting


def _location(finding: dict) -> tuple[str, int | None]:
    """The most specific place of a finding: its first statement (node) element, else its first element."""
    elements = [e for e in finding.get("elements", []) if e.get("source_mapping", {}).get("lines")]
    if not elements:
        return "?", None
    chosen = next((e for e in elements if e.get("type") == "node"), elements[0])
    mapping = chosen["source_mapping"]
    filename = mapping.get("filename_relative") or mapping.get("filename_short") or "?"
    return filename, mapping["lines"][0]


def _source_line(filename: str, line: int | None) -> str:
    if line is None:
        return ""
    try:
        text = (ROOT / filename).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return text[line - 1].strip() if 0 < line <= len(text) else ""


def _summary_text(description: str) -> str:
    lines = [line.strip() for line in description.strip().splitlines()]
    first = lines[0] if lines else ""
    if first.endswith(":") and len(lines) > 1 and lines[1].startswith("- "):
        first = first[:-1].rstrip() + " " + lines[1][2:]  # "x shadows:" / "lacks a zero-check on :" + the object
    first = re.sub(r" \([^()]*\.sol#[0-9-]+\)", "", first)  # drop "(contracts/X.sol#12-20)" references
    return first.rstrip(":").strip()


def _order(finding: dict) -> tuple:
    impact = finding.get("impact", "")
    confidence = finding.get("confidence", "")
    filename, line = _location(finding)
    return (
        IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS),
        CONFIDENCES.index(confidence) if confidence in CONFIDENCES else len(CONFIDENCES),
        finding.get("check", ""),
        filename,
        line or 0,
    )


def count_suppressions(sources: list[Path]) -> int:
    pattern = re.compile(r"//\s*slither-disable")
    return sum(len(pattern.findall(src.read_text(encoding="utf-8"))) for src in sources)


def report(findings: list[dict], suppressions: int, scope: str) -> int:
    findings = sorted(findings, key=_order)
    counts = Counter(f.get("impact", "?") for f in findings)
    print(f"slither: {len(findings)} finding(s) in {scope}")
    for finding in findings:
        filename, line = _location(finding)
        where = f"{filename}:{line}" if line else filename
        impact = finding.get("impact", "?")
        mark = "!!" if impact in FAILING else "  "
        print(f"{mark} {impact:<13} conf={finding.get('confidence', '?'):<6} {finding.get('check', '?'):<28} {where}")
        source = _source_line(filename, line)
        if len(source) > 110:
            source = source[:107] + "..."
        if source:
            print(f"       | {source}")
        summary = _summary_text(finding.get("description", ""))
        if summary:
            print(f"       {summary}")
    print()
    print("Summary by impact: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in IMPACTS))
    print(f"In-line suppressions (slither-disable comments) under {scope}: {suppressions}")
    failing = sum(counts.get(name, 0) for name in FAILING)
    if failing:
        print(
            f"FAILED: {failing} High/Medium finding(s). Fix them, or suppress an accepted one with "
            "`// slither-disable-next-line <detector>` plus a comment saying why."
        )
        return EXIT_FINDINGS
    print("OK: no High or Medium findings.")
    return EXIT_OK


# ------------------------------------------------------------------------------------------ main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slither", default="slither", help="slither executable (default: slither on PATH)")
    parser.add_argument(
        "--solc",
        default=None,
        help="solc executable answering --version and --standard-json (default: ~/.solcx/solc-v<brownie version>)",
    )
    parser.add_argument("--contracts", default="contracts", help="directory analysed, recursively (default: contracts)")
    parser.add_argument("--config", default="brownie-config.yaml", help="brownie config giving the compiler settings")
    parser.add_argument(
        "--filter-paths", default="node_modules", help="slither --filter-paths regex (default: node_modules)"
    )
    parser.add_argument("--config-file", default=None, help="slither config file (default: slither's own lookup)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds before slither is given up on")
    parser.add_argument("--json-out", default=None, help="also write slither's raw JSON report here")
    parser.add_argument("-v", "--verbose", action="store_true", help="echo the slither command and its log")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    config = (ROOT / args.config) if not os.path.isabs(args.config) else Path(args.config)
    settings, warning = compiler_settings(config)
    if warning:
        print(f"lint: warning: {warning}", file=sys.stderr)
    if args.solc is None:
        flat = read_yaml_subset(config) if config.is_file() else {}
        version = flat.get("compiler.solc.version")
        if not isinstance(version, str) or not version:
            print("lint: error: no --solc given and no compiler.solc.version in the brownie config", file=sys.stderr)
            return EXIT_TOOL
        args.solc = str(Path.home() / ".solcx" / f"solc-v{version}")

    contracts = (ROOT / args.contracts).resolve()
    sources = sorted(contracts.rglob("*.sol"))
    if not sources:
        print(f"lint: error: no .sol files under {contracts}", file=sys.stderr)
        return EXIT_TOOL
    scope = contracts.relative_to(ROOT).as_posix() + "/" if contracts.is_relative_to(ROOT) else str(contracts)
    print(
        f"lint: slither over {len(sources)} file(s) in {scope} (evm {settings['evm_version']}, optimizer "
        f"{'on' if settings['optimizer_enabled'] else 'off'}/{settings['optimizer_runs']}, "
        f"remappings {' '.join(settings['remappings'])}; results under {args.filter_paths!r} dropped)",
        flush=True,
    )
    try:
        result = run_slither(args, sources, settings)
    except LintError as error:
        print(f"lint: ERROR: {error}", file=sys.stderr)
        return EXIT_TOOL
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    findings = (result.get("results") or {}).get("detectors") or []
    return report(findings, count_suppressions(sources), scope)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
