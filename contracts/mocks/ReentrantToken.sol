// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice ERC-20 whose transfers call back into a target once, to prove the agreement's reentrancy guard.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public lastCallSucceeded;
    bytes public lastRevertData;

    constructor() ERC20("Reentrant Token", "REENT") {}

    function mintTo(address to, uint256 value) external {
        _mint(to, value);
    }

    /// @notice Arm a one-shot callback: the next transfer calls `target` with `payload`.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = target;
        if (t != address(0)) {
            target = address(0);
            (bool ok, bytes memory data) = t.call(payload);
            lastCallSucceeded = ok;
            lastRevertData = data;
        }
    }
}
