"""BackingSeries against the reference model (backing/model/series.py), to the wei: the worked example of
docs/series.md (four agreements: rollover, a committed backer leaving early, a clawback covering a loss, an
underwater late entrant, a transfer mid-lockup), on both tokens and both deployments. The play-through is
``backing.onchain.series.play_worked_example``, which narrates it (``say``); it checks the mirror after every
step."""

import pytest

from backing.onchain.series import SeriesMirror, play_worked_example


@pytest.fixture
def mirror(series, token, modeller, staking, backers, outsider):
    names = {
        "modeller": modeller,
        "alice": backers[0],
        "bob": backers[1],
        "carol": backers[2],
        "dave": backers[3],
        "erin": outsider,
    }
    return SeriesMirror(series, token, names, staking.address)


def test_worked_example(mirror, signed, staking, model_id):
    lines = []
    done = play_worked_example(mirror, signed, staking.address, model_id, say=lines.append)
    m = mirror
    erin = next(p for p in m.model.agreements[0].positions.values() if p.owner == "erin")
    assert erin.charged_back > 0
    assert done["checks"] > 30
    assert set(done["claims"]) == {"alice", "bob", "carol", "dave"}
    assert m.token.balanceOf(m.series) == 0
    assert m.series.modellerCredit() == 0
