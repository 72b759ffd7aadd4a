// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {ISubmissionLog} from "../interfaces/submissions/ISubmissionLog.sol";

/// @title SubmissionLog
/// @notice Per-round commitments to a model's predictions, written by the model's registered modeller (or his
///         agent) before the round's submission deadline at the oracle. No tokens, no owner, nothing to upgrade.
/// @dev The hashes are only emitted; storage keeps one bit per (model, round), 256 rounds of a model per slot, so
///      a model committing every round writes a fresh slot once per 256 rounds and otherwise sets a bit in a
///      non-zero word (5,000 gas instead of 22,100).
contract SubmissionLog is ISubmissionLog {
    /// @inheritdoc ISubmissionLog
    address public immutable oracle;

    /// @inheritdoc ISubmissionLog
    mapping(address modeller => address agent) public agentOf;

    /// @dev modelId => round / 256 => bit (round % 256) set once the round is committed.
    mapping(bytes32 modelId => mapping(uint256 word => uint256 bits)) private _committed;

    /// @notice A log following one oracle's model registry and round schedule.
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

    /// @inheritdoc ISubmissionLog
    function isCommitted(bytes32 modelId, uint256 round) external view returns (bool) {
        return (_committed[modelId][round >> 8] >> (round & 0xff)) & 1 == 1;
    }

    /// @notice Check and record one commitment.
    /// @param c The commitment.
    /// @param index Its position in the batch (quoted by `EmptyPredictionsHash`).
    function _commit(Commitment calldata c, uint256 index) private {
        bytes32 modelId = c.modelId;
        uint256 round = c.round;
        if (c.predictionsHash == bytes32(0)) revert EmptyPredictionsHash(index);
        // slither-disable-next-line unused-return -- only the owner matters here, not the model's rounds
        (address modeller,,,) = IScoreOracle(oracle).modelInfo(modelId);
        if (modeller == address(0)) revert ModelNotRegistered(modelId);
        if (msg.sender != modeller && msg.sender != agentOf[modeller]) {
            revert NotModellerOrAgent(modelId, msg.sender, modeller);
        }
        uint256 closeTime = IScoreOracle(oracle).roundCloseTime(round);
        if (closeTime == 0) revert RoundDeadlineUnknown(round);
        // slither-disable-next-line timestamp -- the deadline is a timestamp by nature; miners move it seconds
        if (block.timestamp >= closeTime) {
            revert SubmissionDeadlinePassed(modelId, round, closeTime, block.timestamp);
        }
        uint256 word = round >> 8;
        uint256 bit = 1 << (round & 0xff);
        uint256 bits = _committed[modelId][word];
        if (bits & bit != 0) revert AlreadyCommitted(modelId, round);
        _committed[modelId][word] = bits | bit;
        emit SubmissionCommitted(modelId, round, msg.sender, c.predictionsHash, c.submissionId, c.submissionHash);
    }
}
