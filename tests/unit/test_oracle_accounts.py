"""`backing oracle ... --account NAME`: every keystore option of the operator's commands has a named-account twin
that reads ~/.brownie/accounts/NAME.json, the keystores `backing account` writes (one rule: oracle.keys)."""

import pytest

from backing.client.wallet import keystore_path
from oracle.cli import build_parser, main
from oracle.errors import EXIT_USAGE

UUID = "8e5b1a7c-7d2b-4f6e-9d1a-2c3b4d5e6f70"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("signer1", "signer2", "relayer"):  # parsing only finds the files; nothing is decrypted
        path = keystore_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return tmp_path


def test_every_keystore_option_has_an_account_twin(home):
    parser = build_parser()
    signer1, signer2, relayer = (str(keystore_path(n)) for n in ("signer1", "signer2", "relayer"))
    args = parser.parse_args(["run", "--account", "signer1", "--keystore", signer2, "--sender-account", "relayer"])
    assert args.keystore == [signer1, signer2] and args.sender_keystore == relayer
    args = parser.parse_args(["register", UUID, "--modeller", "0x" + "11" * 20, "--account", "signer1",
                              "--account", "signer2", "--sender-account", "relayer"])  # fmt: skip
    assert args.keystore == [signer1, signer2] and args.sender_keystore == relayer
    assert parser.parse_args(["dispute", UUID, "3", "--watcher-account", "relayer"]).watcher_keystore == relayer
    assert parser.parse_args(["watch", "--watcher-account", "relayer"]).watcher_keystore == relayer
    args = parser.parse_args(["resolve", UUID, "3", "--account", "signer1", "--sender-account", "relayer"])
    assert args.keystore == [signer1] and args.sender_keystore == relayer
    assert parser.parse_args(["signers", "cancel", "--owner-account", "relayer"]).owner_keystore == relayer
    assert parser.parse_args(["signers", "execute", "--sender-account", "relayer"]).sender_keystore == relayer


def test_an_unknown_account_is_a_usage_error_that_says_what_to_do(home, capsys):
    assert main(["run", "--once", "--account", "nobody", "--dry-run"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no account nobody" in err and "backing account new nobody" in err
    assert main(["run", "--once", "--account", "../x", "--dry-run"]) == EXIT_USAGE
    assert "is not an account name" in capsys.readouterr().err
