"""backing.model.terms' series terms (clawback, commitments, high-water mark) and ``backing terms check`` on them:
every series error path names its field in plain words; a round trip keeps the terms; the on-chain values."""

import json

import pytest
import yaml
from samples import NOW, seed_terms_dict

from backing.cli import main
from backing.model.series import Commitment, SeriesTerms
from backing.model.terms import TermsError, dump_series_terms, is_series_terms, load_series_terms, load_terms


def series_dict(**overrides) -> dict:
    data = seed_terms_dict()
    data.update(
        {"clawback": {"share": 0.25, "agreements": 2}, "commitments": [{"agreements": 3, "profit_share": 0.15}]}
    )
    data.update(overrides)
    return data


def error_of(data) -> TermsError:
    with pytest.raises(TermsError) as caught:
        load_series_terms(data, now=NOW)
    return caught.value


def test_series_terms_load_exactly():
    terms = load_series_terms(series_dict(), now=NOW)
    assert terms == SeriesTerms(
        load_terms(seed_terms_dict(), now=NOW),
        clawback_bps=2500,
        clawback_agreements=2,
        commitments=(Commitment(3, 1500),),
    )
    assert load_series_terms(dump_series_terms(terms), now=NOW) == terms
    assert is_series_terms(series_dict()) and not is_series_terms(seed_terms_dict())


def test_plain_agreement_terms_are_a_series_without_extras():
    terms = load_series_terms(seed_terms_dict(), now=NOW)
    assert terms.clawback_bps == 0 and terms.commitments == ()


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"clawback": {"share": 1.5, "agreements": 2}}, "clawback", "clawback.share (1.5) must be at most 1"),
        ({"clawback": {"share": 0.25, "agreements": 5}}, "clawback", "clawback.agreements (5) must be at most 4"),
        ({"clawback": {"share": 0.25, "agreements": 0}}, "clawback", "needs both a share above 0 and at least 1"),
        ({"clawback": {"share": 0.25}}, "clawback", "clawback is missing agreements"),
        ({"clawback": 0.25}, "clawback", "clawback must be a mapping"),
        (
            {"commitments": [{"agreements": 1, "profit_share": 0.1}]},
            "commitments",
            "commitments[0].agreements must be more than the one before it",
        ),
        (
            {"commitments": [{"agreements": 3, "profit_share": 0.1}, {"agreements": 3, "profit_share": 0.1}]},
            "commitments",
            "commitments[1].agreements must be more than the one before it",
        ),
        (
            {"commitments": [{"agreements": 3, "profit_share": 2}]},
            "commitments",
            "commitments[0].profit_share (2) must be at most 1",
        ),
        (
            {"commitments": [{"agreements": n, "profit_share": 0.1} for n in (2, 3, 4, 5, 6)]},
            "commitments",
            "commitments lists 5 options; at most 4",
        ),
        ({"commitments": [{"agreements": 3}]}, "commitments", "commitments[0] is missing profit_share"),
        ({"high_water_mark": False}, "high_water_mark", "every position of a series keeps a high-water mark"),
        ({"high_water_mark": "yes"}, "high_water_mark", "must be true or false"),
        ({"clawbak": 1}, "clawbak", "did you mean 'clawback'?"),
        ({"profit_share": 2}, "profit_share", "profit_share (2) must be at most 1"),
    ],
)
def test_series_terms_errors_name_the_field(overrides, field, words):
    error = error_of(series_dict(**overrides))
    assert error.field == field
    assert words in str(error), str(error)


def test_terms_check_describes_series_terms(tmp_path, capsys):
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(series_dict()))
    assert main(["terms", "check", str(path), "--now", str(NOW)]) == 0
    out = capsys.readouterr().out
    assert "series terms (one agreement of a series) are valid" in out
    assert "25% of each profit fee held in escrow for 2 agreement(s)" in out
    assert "commit to 3 agreements: 15% profit share" in out and "high_water_mark  on" in out
    assert main(["terms", "check", str(path), "--now", str(NOW), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "series"
    assert data["on_chain"]["series"] == {
        "clawback_bps": 2500,
        "clawback_agreements": 2,
        "commitments": [{"agreements": 3, "profit_share_bps": 1500}],
    }


def test_terms_check_series_flag_and_error_exit(tmp_path, capsys):
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(seed_terms_dict()))
    assert main(["terms", "check", str(path), "--now", str(NOW), "--series"]) == 0
    assert "clawback         none" in capsys.readouterr().out
    path.write_text(yaml.safe_dump(series_dict(clawback={"share": 2, "agreements": 1})))
    assert main(["terms", "check", str(path), "--now", str(NOW)]) == 2
    assert "clawback.share (2) must be at most 1" in capsys.readouterr().err
