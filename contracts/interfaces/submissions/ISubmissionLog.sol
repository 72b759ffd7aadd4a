// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Submission log: a modeller's per-round commitments to the predictions he submits to Numerai.
/// @notice The model's owner as registered at the ScoreOracle (or the one agent key he names) records, for a
///         (model, round), the hash of that round's predictions before the round's submission deadline as the
///         oracle announced it. Once the modeller reveals the file, anyone can check it against the commitment
///         (`backing submission verify`). The hashes live in events; storage keeps one bit per (model, round) so
///         a second commitment is refused.
interface ISubmissionLog {
    /// @notice One commitment.
    /// @param modelId Numerai model id as the oracle knows it (the UUID's 16 bytes, left-aligned).
    /// @param round The Numerai round the predictions were submitted for.
    /// @param predictionsHash SHA-256 of the predictions in the canonical form (docs/modeller.md); never zero.
    /// @param submissionId Numerai's submission id (the UUID's 16 bytes, left-aligned), zero when not known.
    /// @param submissionHash Numerai's submission hash, zero when not known.
    struct Commitment {
        bytes32 modelId;
        uint256 round;
        bytes32 predictionsHash;
        bytes32 submissionId;
        bytes32 submissionHash;
    }

    /// @notice The log needs an oracle: the constructor was given the zero address.
    error ZeroAddress();

    /// @notice The model is not registered at the oracle, so it has no owner who could commit for it.
    /// @param modelId The model.
    error ModelNotRegistered(bytes32 modelId);

    /// @notice Only the model's registered modeller or the agent he named may commit for it.
    /// @param modelId The model.
    /// @param caller Who tried.
    /// @param modeller The model's registered modeller.
    error NotModellerOrAgent(bytes32 modelId, address caller, address modeller);

    /// @notice The oracle has not announced the round, so its submission deadline is not known yet.
    /// @param round The round.
    error RoundDeadlineUnknown(uint256 round);

    /// @notice The round's submission deadline has passed (commitments are accepted while
    ///         block.timestamp < closeTime).
    /// @param modelId The model.
    /// @param round The round.
    /// @param closeTime The round's submission deadline announced by the oracle.
    /// @param timestamp The block's time.
    error SubmissionDeadlinePassed(bytes32 modelId, uint256 round, uint256 closeTime, uint256 timestamp);

    /// @notice The model already has a commitment for the round (a commitment is never replaced).
    /// @param modelId The model.
    /// @param round The round.
    error AlreadyCommitted(bytes32 modelId, uint256 round);

    /// @notice A commitment without a predictions hash commits to nothing.
    /// @param index The commitment's position in the batch.
    error EmptyPredictionsHash(uint256 index);

    /// @notice A batch without commitments.
    error NoCommitments();

    /// @notice A predictions hash recorded for a model and round.
    /// @param modelId The model.
    /// @param round The round.
    /// @param committer The modeller or his agent, who sent it.
    /// @param predictionsHash SHA-256 of the canonical predictions.
    /// @param submissionId Numerai's submission id, or zero.
    /// @param submissionHash Numerai's submission hash, or zero.
    event SubmissionCommitted(
        bytes32 indexed modelId,
        uint256 indexed round,
        address indexed committer,
        bytes32 predictionsHash,
        bytes32 submissionId,
        bytes32 submissionHash
    );

    /// @notice A modeller named (or, with the zero address, removed) the agent key that may commit for his models.
    /// @param modeller The modeller.
    /// @param agent The agent, or zero.
    event AgentSet(address indexed modeller, address indexed agent);

    /// @notice Name the one key that may commit for every model registered to the caller (zero removes it). The
    ///         modeller himself can always commit.
    /// @param agent The agent key, or the zero address.
    function setAgent(address agent) external;

    /// @notice Commit to one round's predictions of one model.
    /// @dev Requirements: the model registered at the oracle (`ModelNotRegistered`); the caller its modeller or
    ///      his agent (`NotModellerOrAgent`); the round announced (`RoundDeadlineUnknown`) and its deadline not
    ///      reached (`SubmissionDeadlinePassed`); no commitment yet (`AlreadyCommitted`); a non-zero hash
    ///      (`EmptyPredictionsHash`).
    /// @param commitment The model, round, predictions hash and Numerai's optional ids.
    function commit(Commitment calldata commitment) external;

    /// @notice Commit several (model, round) pairs in one transaction; all or none are recorded.
    /// @dev Requirements: at least one (`NoCommitments`); each as in `commit`, and no pair twice.
    /// @param commitments The commitments.
    function commitMany(Commitment[] calldata commitments) external;

    /// @notice The ScoreOracle whose model registry and round schedule this log follows.
    function oracle() external view returns (address);

    /// @notice The agent key a modeller named (zero when none).
    /// @param modeller The modeller.
    function agentOf(address modeller) external view returns (address);

    /// @notice True when `round` of `modelId` has a commitment.
    /// @param modelId The model.
    /// @param round The round.
    function isCommitted(bytes32 modelId, uint256 round) external view returns (bool);
}
