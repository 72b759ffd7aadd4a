"""Drive the installed `backing` as a user would: subprocesses, keystore files in a temporary HOME, a node the
test starts itself (anvil or ganache, on ports 8790-8799), and chain snapshots between tests. The fixtures live here;
the helpers they use (and the tests import) in tests/support/cli.py."""

from __future__ import annotations

import json
import os

import pytest

from support.cli import PORTS, ROLES, Node, User, write_keystore


@pytest.fixture(scope="module", params=["anvil", "ganache"])
def node(request):
    # each module its own ports (PORT_OFFSET), so two modules can run side by side
    started = Node(request.param, PORTS[request.param] + getattr(request.module, "PORT_OFFSET", 0)).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def user(node, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"home-{node.kind}")
    u = User(home, node)
    funder = node.rpc("eth_accounts")[0]
    for i, role in enumerate(ROLES + [f"signer{j}" for j in range(3)]):
        key = node.keys[i] if i < len(node.keys) else "0x" + os.urandom(32).hex()
        u.addresses[role] = write_keystore(home, role, key)
        if role in ROLES:
            payment = {"from": funder, "to": u.addresses[role], "value": hex(100 * 10**18)}
            tx = node.rpc("eth_sendTransaction", [payment])
            assert tx
    return u


@pytest.fixture(scope="module")
def deployed(user):
    """The protocol deployed through `backing deploy --dev-token`, NMR minted to the modeller and backers."""
    a = user.addresses
    user.ok(
        "deploy",
        "--account",
        "deployer",
        "--dev-token",
        "--yes",
        *[x for i in range(3) for x in ("--signer", a[f"signer{i}"])],
        "--quorum",
        2,
        "--dispute-quorum",
        3,
        *[x for r in ("modeller", "alice", "bob") for x in ("--mint", f"{a[r]}=10000")],
    )
    manifest = json.loads((user.work / "deployments" / f"{user.node.chain_id}.json").read_text())
    return manifest


@pytest.fixture
def fresh(node, deployed):
    """Each test starts from the deployed state and leaves none of its own behind."""
    snap = node.snapshot()
    yield deployed
    node.revert(snap)
