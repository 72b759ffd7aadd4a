"""The chain commands' shipped ABIs/bytecode match the compiled contracts; linking, address prediction and
revert decoding work on them."""

import subprocess
import sys
from pathlib import Path

from eth_abi import encode
from eth_utils import keccak

from backing.client.contracts import CONTRACTS, artifact, libraries_needed, link
from backing.client.deploy_cmd import contract_address
from backing.client.errors import decode_revert, explain_revert

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_artifacts_match_the_compiled_contracts():
    missing = [n for n in CONTRACTS if not (ROOT / "build" / "contracts" / f"{n}.json").exists()]
    assert not missing, f"build/contracts lacks {missing}: run `brownie compile` before the unit tests"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "ship_artifacts.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_shipped_contract_has_abi_and_bytecode():
    for name in CONTRACTS:
        data = artifact(name)
        assert data["abi"] and len(data["bytecode"]) > 100, name


def test_link_fills_every_library_slot():
    needed = libraries_needed("BackingSeries")
    assert "SeriesTerms" in needed and set(needed) <= set(CONTRACTS)  # every library ships
    assert all(not libraries_needed(library) for library in needed)  # linked libraries link nothing themselves
    addresses = {library: "0x" + f"{i + 1:02x}" * 20 for i, library in enumerate(needed)}
    code = link("BackingSeries", addresses)
    assert "__" not in code and all(a[2:] in code for a in addresses.values())
    assert len(code) == len("0x" + artifact("BackingSeries")["bytecode"].removeprefix("0x"))


def test_contract_address_prediction():
    # the first contract anvil's default account 0 deploys
    assert (
        contract_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0)
        == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    )


def test_revert_data_decodes_to_words():
    data = keccak(text="CapacityExceeded(uint256,uint256)")[:4] + encode(["uint256", "uint256"], [5, 2])
    assert decode_revert("0x" + data.hex()) == ("CapacityExceeded", (5, 2))
    assert "only 2 are left" in explain_revert(data)
    text = bytes.fromhex("08c379a0") + encode(["string"], ["insufficient allowance"])
    assert explain_revert(text) == "the contract refused: insufficient allowance"
    assert decode_revert("0x1234") is None
