"""`backing account` and `backing deploy` on anvil and ganache, as a user runs them."""

import json

from backing.client import EXIT_ACCOUNT, EXIT_CHAIN, EXIT_DECLINED, EXIT_DEPLOYMENT, EXIT_NODE, EXIT_USAGE

PORT_OFFSET = 2  # anvil 8794, ganache 8795


def test_account_new_import_list(user, tmp_path):
    key = "0x" + "42" * 32
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    out = user.ok("account", "import", "imported", "--key-file", key_file)
    address = out.stdout.split(": ")[1].split()[0]
    assert key[2:] not in out.stdout + out.stderr
    out = user.ok("account", "new", "fresh").stdout
    fresh = out.split(": ")[1].split()[0]
    names = {row["name"]: row["address"] for row in user.json("account", "list")}
    assert names["imported"] == address and names["fresh"] == fresh and names["deployer"] == user.addresses["deployer"]
    # brownie's format: eth-account keystores, the key only encrypted
    data = json.loads((user.home / ".brownie" / "accounts" / "imported.json").read_text())
    assert "crypto" in data and key[2:] not in json.dumps(data)
    from eth_account import Account

    from support.cli import PASSWORD

    assert Account.from_key(Account.decrypt(data, PASSWORD)).address == address
    line = user.fails(EXIT_ACCOUNT, "account", "import", "imported", "--key-file", key_file)
    assert "exists" in line
    line = user.fails(EXIT_USAGE, "account", "import", "other")
    assert "--key-file" in line


def test_deploy_wrote_every_contract_and_resumes_with_nothing_to_do(user, fresh):
    contracts = fresh["contracts"]
    from backing.client.contracts import libraries_needed

    assert set(contracts) == {
        "NMR",
        "ScoreOracle",
        "ModellerRecord",
        "AgreementFactory",
        "BackingSeries",
        "SeriesFactory",
        "GridRegistry",
        "SubmissionLog",
        *libraries_needed("BackingSeries"),
        *libraries_needed("ScoreOracle"),
    }
    assert libraries_needed("ScoreOracle") == ["RoundReports"]
    block = user.node.rpc("eth_blockNumber")
    out = user.ok("deploy", "--account", "deployer", "--dev-token", "--yes").stdout
    assert "nothing to deploy" in out
    assert user.node.rpc("eth_blockNumber") == block  # nothing sent


def test_deploy_resumes_what_is_missing(user, fresh):
    from backing.client.contracts import abi, libraries_needed

    path = user.work / "deployments" / f"{user.node.chain_id}.json"
    original = path.read_text()
    partial = json.loads(original)
    for key in ("SeriesFactory", "BackingSeries"):
        del partial["contracts"][key]
    path.write_text(json.dumps(partial))
    try:
        out = user.ok("deploy", "--account", "deployer", "--yes").stdout
        assert "BackingSeries.deploy" in out and "SeriesFactory.deploy" in out and "ScoreOracle.deploy" not in out
        resumed = json.loads(path.read_text())["contracts"]
        assert resumed["ScoreOracle"] == partial["contracts"]["ScoreOracle"]
        before = json.loads(original)["contracts"]
        # the record names both factories: the four are deployed again together, on one new record
        for key in ("ModellerRecord", "AgreementFactory", "BackingSeries", "SeriesFactory"):
            assert f"{key}.deploy" in out and resumed[key]["address"] != before[key]["address"], key
        for key in ("NMR", "GridRegistry", "SubmissionLog", *libraries_needed("BackingSeries")):
            assert resumed[key] == before[key], key
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(user.node.url))
        record = resumed["ModellerRecord"]["address"]
        for key in ("AgreementFactory", "SeriesFactory"):
            factory = w3.eth.contract(address=resumed[key]["address"], abi=abi(key))
            assert factory.functions.record().call() == record, key
        assert user.ok("deploy", "--account", "deployer", "--yes").stdout.count("nothing to deploy") == 1
    finally:
        path.write_text(original)


def test_wrong_chain_id_is_refused(user, fresh):
    line = user.fails(EXIT_CHAIN, "deploy", "--account", "deployer", "--dev-token", "--yes", "--chain-id", 1)
    assert "chain id" in line


def test_wrong_password_is_refused_and_nothing_sent(user, fresh, tmp_path):
    block = user.node.rpc("eth_blockNumber")
    bad = tmp_path / "bad"
    bad.write_text("not the password\n")
    path = user.work / "deployments" / f"{user.node.chain_id}.json"
    original = path.read_text()
    path.unlink()
    try:
        line = user.fails(
            EXIT_ACCOUNT,
            "deploy",
            "--account",
            "deployer",
            "--dev-token",
            "--yes",
            "--signer",
            user.addresses["signer0"],
            "--quorum",
            1,
            "--dispute-quorum",
            1,
            "--password-file",
            bad,
        )
        assert "wrong password" in line
        line = user.fails(
            EXIT_ACCOUNT,
            "deploy",
            "--account",
            "deployer",
            "--dev-token",
            "--yes",
            "--signer",
            user.addresses["signer0"],
            password=False,
        )
        assert "no terminal" in line and "--password-file" in line
        line = user.fails(
            EXIT_DECLINED,
            "deploy",
            "--account",
            "deployer",
            "--dev-token",
            "--signer",
            user.addresses["signer0"],
            "--signer",
            user.addresses["signer1"],
            "--quorum",
            1,
            "--dispute-quorum",
            2,
        )
        assert "--yes" in line
        assert user.node.rpc("eth_blockNumber") == block
        assert not path.exists() or json.loads(path.read_text())["contracts"] == {}
    finally:
        path.write_text(original)


def test_dev_token_refused_on_mainnet_id_and_stale_manifest_detected(user, fresh):
    line = user.fails(
        EXIT_USAGE, "deploy", "--account", "deployer", "--nmr", fresh["contracts"]["NMR"]["address"], "--dev-token"
    )
    assert "not both" in line
    path = user.work / "deployments" / f"{user.node.chain_id}.json"
    original = path.read_text()
    stale = json.loads(original)
    stale["contracts"]["ScoreOracle"]["address"] = "0x" + "12" * 20
    path.write_text(json.dumps(stale))
    try:
        line = user.fails(EXIT_DEPLOYMENT, "deploy", "--account", "deployer", "--yes")
        assert "no contract there" in line
    finally:
        path.write_text(original)


def test_node_down(user):
    line = user.fails(EXIT_NODE, "deploy", "--account", "deployer", "--rpc-url", "http://127.0.0.1:8799")
    assert "cannot reach" in line
