// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainToken
/// @notice A plain OpenZeppelin ERC-20 (18 decimals) for tests, so every test also runs against a
///         well-behaved token. `mintTo` is an unrestricted test faucet.
contract PlainToken is ERC20 {
    constructor() ERC20("Plain Token", "PLAIN") {}

    /// @notice Test faucet: create `value` tokens for `to`.
    function mintTo(address to, uint256 value) external {
        _mint(to, value);
    }
}
