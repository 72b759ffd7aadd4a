// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {ISubmissionLog} from "../interfaces/submissions/ISubmissionLog.sol";

/// @title SubmissionLog
/// @notice Per-round commitments to a model's predictions, recorded as events. No tokens, no owner, nothing to
///         upgrade, no storage per commitment.
/// @dev The log records and the readers judge (the rules are in ISubmissionLog): which commitment counts is decided
///      from the chain's own data (the committer, the block's time, the oracle's registry and schedule), so checking
///      it here would add the oracle's cold reads and a storage word (about 14,000 gas, half the 30,000 budget of a
///      commitment) without giving a backer anything the event does not already prove.
contract SubmissionLog is ISubmissionLog {
    /// @inheritdoc ISubmissionLog
    address public immutable oracle;

    /// @inheritdoc ISubmissionLog
    mapping(address modeller => address agent) public agentOf;

    /// @notice A log whose commitments are judged against one oracle's model registry and round schedule.
    /// @param oracle_ The ScoreOracle.
    constructor(address oracle_) {
        if (oracle_ == address(0)) revert ZeroAddress();
        oracle = oracle_;
    }

    /// @inheritdoc ISubmissionLog
    function setAgent(address agent) external {
        agentOf[msg.sender] = agent;
        emit AgentSet(msg.sender, agent);
    }

    /// @inheritdoc ISubmissionLog
    function expectCommitments(bytes32 modelId) external {
        emit CommitmentsExpected(modelId, msg.sender);
    }

    /// @inheritdoc ISubmissionLog
    function commit(Commitment calldata commitment) external {
        _commit(commitment, 0);
    }

    /// @inheritdoc ISubmissionLog
    function commitMany(Commitment[] calldata commitments) external {
        uint256 count = commitments.length;
        if (count == 0) revert NoCommitments();
        for (uint256 i; i < count; ++i) {
            _commit(commitments[i], i);
        }
    }

    /// @notice Record one commitment.
    /// @param c The commitment.
    /// @param index Its position in the batch (quoted by `EmptyPredictionsHash`).
    function _commit(Commitment calldata c, uint256 index) private {
        if (c.predictionsHash == bytes32(0)) revert EmptyPredictionsHash(index);
        emit SubmissionCommitted(c.modelId, c.round, msg.sender, c.predictionsHash, c.submissionId, c.submissionHash);
    }
}
