"""`backing oracle watch` without a chain: the comparison of posted reports with the source (`judge`), and what the
watcher does with each verdict (fake source and fake chain reads). The chain end of it (a wrong report disputed,
resolved, the agreement maturing on the right value) is tests/chain/oracle/test_oracle_operator_cli.py."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from oracle.errors import EXIT_OK, EXIT_REJECTED, EXIT_SOURCE, SourceError, plain
from oracle.health import Health
from oracle.log import JsonLog
from oracle.model import RoundResult, Source
from oracle.service import ModelEntry
from oracle.typed_data import model_id_from_uuid
from oracle.watch import DISPUTED, PendingRound, Watcher, judge

UUID = "0a1b2c3d-0000-4000-8000-00000000000a"
WATCHER = "0x" + "77" * 20
NOW = 1_000_000


def result(round_, corr="0.02", mmc="-0.01"):
    return RoundResult(
        UUID,
        round_,
        {"CORR20": Decimal(corr), "MMC": Decimal(mmc)},
        {"CORR20": Decimal("0.5"), "MMC": Decimal(2)},
        Decimal("0.75"),
        Decimal("0.05"),
    )


def report(round_, **kw):
    return result(round_, **kw).to_report(8)


def posted(rep, final_at=NOW + 100, disputer="0x" + "00" * 20):
    return PendingRound(rep.round, rep.struct_hash(), rep.round_return(), final_at, disputer)


# ============================================================================================ judge


def test_a_report_equal_to_the_source_agrees():
    [verdict] = judge([posted(report(3))], {3: report(3)}, NOW)
    assert verdict.kind == "agrees" and not verdict.disputable


def test_a_different_report_inside_the_window_is_disputable():
    wrong = report(3, corr="0.9")
    [verdict] = judge([posted(wrong, final_at=NOW + 1)], {3: report(3)}, NOW)
    assert verdict.kind == "differs" and verdict.disputable
    assert verdict.expected == report(3) and verdict.onchain.report_hash == wrong.struct_hash()


def test_any_field_that_changes_the_hash_counts_even_with_the_same_return():
    # the same round return (both clipped at 5%), but not the report Numerai gave: still wrong
    wrong, right = report(3, corr="0.9"), report(3, corr="0.8")
    assert wrong.round_return() == right.round_return()
    [verdict] = judge([posted(wrong)], {3: right}, NOW)
    assert verdict.kind == "differs" and verdict.disputable


def test_after_the_window_a_wrong_report_is_too_late():
    # the dispute is refused from finalAt on (block.timestamp >= finalAt): at now == finalAt it is too late
    [verdict] = judge([posted(report(3, corr="0.9"), final_at=NOW)], {3: report(3)}, NOW)
    assert verdict.kind == "differs" and not verdict.disputable
    assert "too late" in verdict.reason


def test_a_round_the_source_has_not_resolved_is_never_disputed():
    verdicts = judge([posted(report(3)), posted(report(4))], {3: report(3)}, NOW)
    assert [(v.round, v.kind, v.disputable) for v in verdicts] == [(3, "agrees", False), (4, "unresolved", False)]


def test_an_open_dispute_is_followed_not_disputed_again():
    disputed = PendingRound(3, report(3, corr="0.9").struct_hash(), 0, DISPUTED, WATCHER)
    [verdict] = judge([disputed], {3: report(3)}, NOW)
    assert verdict.kind == "disputed" and not verdict.disputable
    assert WATCHER in verdict.reason and "the source differs too" in verdict.reason


def test_each_round_is_judged_on_its_own():
    pending = [posted(report(2)), posted(report(3, corr="0.9")), posted(report(4))]
    verdicts = judge(pending, {r: report(r) for r in (2, 3, 4)}, NOW)
    assert [(v.round, v.kind) for v in verdicts] == [(2, "agrees"), (3, "differs"), (4, "agrees")]


# ============================================================================================ the watcher


class ListSource(Source):
    name = "list"

    def __init__(self, results, failing=False):
        self.results, self.failing = results, failing

    def resolved_results(self, model_id, after_round):
        if self.failing:
            raise SourceError("numerai answered HTTP 502")
        return [r for r in self.results if r.round > after_round]


class FakeService:
    """What Watcher asks of an OracleService, without a chain: the models and the source's reports."""

    def __init__(self, source):
        self.source, self.store, self.log = source, None, JsonLog(_Lines())
        self.entry = ModelEntry(model_id_from_uuid(UUID), UUID, WATCHER)
        self.health = Health("watcher")
        self.log.observers.append(self.health.observe)

    def _load_chain(self):
        pass

    def chain_time(self):
        return NOW

    def models(self):
        return [self.entry]

    def model_reports(self, entry, after_round, announced_through):
        reports = [r.to_report(8) for r in self.source.resolved_results(entry.uuid, after_round)]
        self.health.model(entry.uuid, resolved=reports[-1].round if reports else after_round)
        return reports


class _Lines:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


class RecordingWatcher(Watcher):
    """A watcher whose chain is a list of pending rounds; it records what it would send."""

    def __init__(self, source, pending, last_final=1):
        super().__init__(FakeService(source), account=None, say=lambda text: None)
        self._pending, self._last_final = pending, last_final
        self.disputed, self.expired = [], []

    def pending(self, entry):
        return self._last_final, self._pending

    def dispute(self, entry, round_):
        self.disputed.append(round_)
        return True

    def expire_if_overdue(self, entry, round_, wrong=False):
        self.expired.append((round_, wrong))

    def follow_events(self):
        pass


def test_the_watcher_disputes_exactly_the_wrong_rounds_in_their_window():
    source = ListSource([result(r) for r in (2, 3, 4)])
    pending = [posted(report(2)), posted(report(3, corr="0.9")), posted(report(4, mmc="0.3"))]
    watcher = RecordingWatcher(source, pending)
    assert watcher.run_once() == EXIT_OK
    assert watcher.disputed == [3, 4]
    assert watcher.service.health.snapshot()["models"][UUID]["wrong_reports"] == 0  # both disputed now
    assert [(v.round, v.kind) for _, v in watcher.verdicts] == [(2, "agrees"), (3, "differs"), (4, "differs")]


def test_the_health_output_shows_the_wrong_reports_and_the_pass():
    source = ListSource([result(r) for r in (2, 3)])
    disputed = PendingRound(3, report(3, corr="0.9").struct_hash(), 0, DISPUTED, WATCHER)
    watcher = RecordingWatcher(source, [posted(report(2, corr="0.9")), disputed])
    watcher.dispute = lambda entry, round_: False  # the dispute could not be sent (no bond, declined, ...)
    assert watcher.run_once() == EXIT_OK
    health = watcher.service.health.snapshot()
    assert health["role"] == "watcher" and health["last_exit_code"] == 0
    assert health["models"][UUID] == {
        "final": 1,
        "posted": 3,
        "resolved": 3,
        "lag_rounds": 0,
        "disputes_open": 1,
        "wrong_reports": 1,
    }
    assert f'backing_oracle_model_wrong_reports{{model="{UUID}"}} 1' in watcher.service.health.prometheus()
    assert health["warnings"] == {"dispute_open:warning": 1, "report_differs:error": 1}


def test_a_source_failure_disputes_nothing():
    watcher = RecordingWatcher(ListSource([], failing=True), [posted(report(2, corr="0.9"))])
    assert watcher.run_once() == EXIT_SOURCE
    assert watcher.disputed == []
    assert [v.kind for _, v in watcher.verdicts] == ["unresolved"]


def test_an_empty_answer_disputes_nothing():
    watcher = RecordingWatcher(ListSource([]), [posted(report(2, corr="0.9"))])
    assert watcher.run_once() == EXIT_OK
    assert watcher.disputed == []


def test_a_wrong_round_past_its_window_is_an_error_but_not_disputed():
    watcher = RecordingWatcher(ListSource([result(2)]), [posted(report(2, corr="0.9"), final_at=NOW - 1)])
    assert watcher.run_once() == EXIT_REJECTED
    assert watcher.disputed == []


def test_open_disputes_are_followed_and_expired_when_overdue():
    disputed = PendingRound(2, report(2, corr="0.9").struct_hash(), 0, DISPUTED, WATCHER)
    watcher = RecordingWatcher(ListSource([result(2), result(3)]), [disputed, posted(report(3))])
    assert watcher.run_once() == EXIT_OK
    assert watcher.disputed == [] and watcher.expired == [(2, True)]  # the source says the disputed one is wrong


def test_without_an_account_the_watcher_only_says_what_it_would_dispute():
    lines = []
    watcher = Watcher(FakeService(ListSource([result(2)])), account=None, say=lines.append)
    watcher.pending = lambda entry: (1, [posted(report(2, corr="0.9"))])
    watcher.follow_events = lambda: None
    assert watcher.run_once() == EXIT_OK
    assert any(f"backing oracle dispute {UUID} 2" in line for line in lines)


def test_a_bug_in_a_pass_is_exit_1_with_its_traceback_logged():
    watcher = RecordingWatcher(ListSource([result(2)]), [])

    def broken(entry):
        raise KeyError("reportOf")

    watcher.pending = broken
    assert watcher.run_once() == 1
    assert (
        '"event": "internal_error"' in watcher.service.log.stream.text
        and "Traceback" in watcher.service.log.stream.text
    )


# ============================================================================================ words, layout


def test_refusals_read_as_plain_words():
    assert "challenge window closed" in plain("ChallengeWindowOver", (b"\x01" * 32, 3, 1_700_000_000))
    assert "signers watcher 0xabc" in plain("NotSignerOrWatcher", ("0xabc",))
    assert plain("SomethingNew", (1, 2)) == "the contract refused (SomethingNew('1', '2'))"


def test_the_oracle_package_imports_nothing_from_backing():
    """oracle/ is a leaf: the service and its commands run without the rest of the product."""
    root = Path(__file__).resolve().parents[2] / "oracle"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root.parent)}: {n}" for n in names if n == "backing" or n.startswith("backing.")
            ]
    assert offenders == []


@pytest.mark.parametrize(
    "argv, words",
    [
        (["watch", "--oracle", "0x" + "12" * 20], "no node: give --rpc URL"),
        (["dispute", UUID, "3", "--rpc", "http://127.0.0.1:1"], "no oracle: give --oracle ADDRESS"),
    ],
)
def test_operator_commands_say_what_is_missing(argv, words, capsys, monkeypatch):
    from oracle import cli as oracle_cli

    monkeypatch.delenv("BACKING_RPC_URL", raising=False)
    monkeypatch.delenv("BACKING_ORACLE", raising=False)
    assert oracle_cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("backing oracle: error: ") and words in err[0]


def test_an_unreachable_node_is_exit_4_in_one_line(capsys):
    from oracle import cli as oracle_cli

    assert oracle_cli.main(["signers", "--rpc", "http://127.0.0.1:1", "--oracle", "0x" + "12" * 20]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not answer" in err[0]
