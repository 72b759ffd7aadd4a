// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title MockNMR
/// @notice Test double of Numeraire (NMR) that reproduces the quirks an integration must survive:
///         - `approve` only from or to zero; `changeApproval(spender, old, new)` otherwise;
///         - every call checks its exact ABI calldata length (`onlyPayloadSize`), as NMR's Safe.sol does;
///         - `decimals` is a uint256 (18); there is no `permit`;
///         - while stopped (NMR's `stopInEmergency`), transfers return false instead of reverting;
///         - `transferFrom` refuses the token's owner and the `numerai` address as `from`.
/// @dev Not a production token: `mintTo` is an unrestricted faucet for tests and demos.
contract MockNMR {
    string public constant name = "Numeraire";
    string public constant symbol = "NMR";
    uint256 public constant decimals = 18;

    uint256 public totalSupply;
    bool public stopped;
    address public immutable owner;
    address public numerai;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @dev NMR asserts the exact calldata length (short-address protection).
    modifier onlyPayloadSize(uint256 words) {
        assert(msg.data.length == words * 32 + 4);
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    /// @notice Test faucet: create `value` tokens for `to`.
    function mintTo(address to, uint256 value) external {
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    /// @notice Emergency stop as in NMR: while stopped, transfers return false (they do not revert).
    function setStopped(bool value) external {
        require(msg.sender == owner, "only owner");
        stopped = value;
    }

    /// @notice Set the address NMR refuses as `transferFrom` source.
    function setNumerai(address value) external {
        require(msg.sender == owner, "only owner");
        numerai = value;
    }

    function transfer(address to, uint256 value) external onlyPayloadSize(2) returns (bool ok) {
        if (stopped) return false;
        require(balanceOf[msg.sender] >= value, "insufficient balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external onlyPayloadSize(3) returns (bool ok) {
        if (stopped) return false;
        require(from != owner && from != numerai, "forbidden source");
        require(balanceOf[from] >= value, "insufficient balance");
        require(allowance[from][msg.sender] >= value, "insufficient allowance");
        // NMR always decrements the allowance: there is no infinite-allowance shortcut.
        allowance[from][msg.sender] -= value;
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external onlyPayloadSize(2) returns (bool ok) {
        if (stopped) return false;
        require(value == 0 || allowance[msg.sender][spender] == 0, "approve from or to zero only");
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function changeApproval(address spender, uint256 oldValue, uint256 newValue)
        external
        onlyPayloadSize(3)
        returns (bool ok)
    {
        if (stopped) return false;
        require(allowance[msg.sender][spender] == oldValue, "allowance changed");
        allowance[msg.sender][spender] = newValue;
        emit Approval(msg.sender, spender, newValue);
        return true;
    }
}
