"""The layer the user-facing commands stand on: a node (web3.py), a deployment manifest per chain id, contract
bindings from shipped ABIs, keystore accounts (eth-account) and one transaction sender. Brownie's network layer
is not used here (it test-runs deployments with eth_call and ignores the chain id).

Exit codes of every command that talks to a chain (``backing --help`` lists them too):
"""

EXIT_OK = 0
EXIT_FAILED = 1  # unexpected failure (a bug: please report it)
EXIT_USAGE = 2  # bad input: options, terms file, amounts
EXIT_NODE = 3  # the node cannot be reached, or stopped answering
EXIT_CHAIN = 4  # the node's chain id differs from the manifest's or --chain-id
EXIT_DEPLOYMENT = 5  # no manifest for this chain, or no (or the wrong) contract at an address
EXIT_ACCOUNT = 6  # keystore missing or unreadable, wrong password, no password source
EXIT_REFUSED = 7  # the contract would refuse the transaction (phase, capacity, lock window...); nothing sent
EXIT_REVERTED = 8  # the transaction was sent and mined but failed
EXIT_DECLINED = 9  # not confirmed (answered no, or no terminal to ask on and no --yes)
EXIT_BALANCE = 10  # not enough NMR for the action, or not enough ETH for gas; nothing sent
EXIT_ALLOWANCE = 11  # the contract may not spend enough of the account's NMR (with --no-approve); nothing sent

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "unexpected failure",
    EXIT_USAGE: "bad input",
    EXIT_NODE: "node unreachable or stopped answering",
    EXIT_CHAIN: "wrong chain id",
    EXIT_DEPLOYMENT: "deployment not found or wrong contract address",
    EXIT_ACCOUNT: "account, keystore or password problem",
    EXIT_REFUSED: "the contract would refuse; nothing sent",
    EXIT_REVERTED: "sent, but failed on chain",
    EXIT_DECLINED: "not confirmed; nothing sent",
    EXIT_BALANCE: "not enough NMR or ETH; nothing sent",
    EXIT_ALLOWANCE: "allowance too small; nothing sent",
}

__doc__ += "\n".join(f"    {code:>2}  {words}" for code, words in EXIT_CODES.items()) + "\n"


class CliError(Exception):
    """A failure with its exit code; the message is one line in plain words."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
