// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @title BenchVault
/// @notice The plainest OpenZeppelin 5.0.2 ERC-4626 vault (no overrides, decimals offset 0), deployed over the
///         same token as our agreements so `scripts/bench.py` can compare `deposit`/`redeem` gas in one run.
/// @dev Benchmark only; not part of the protocol.
contract BenchVault is ERC4626 {
    /// @param asset_ The vault's underlying token (the NMR mock in the benchmark).
    constructor(IERC20 asset_) ERC20("Bench ERC4626 Vault", "bvNMR") ERC4626(asset_) {}
}
