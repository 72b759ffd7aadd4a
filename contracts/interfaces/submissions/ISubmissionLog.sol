// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Submission log: a modeller's per-round commitments to the predictions he submits to Numerai.
/// @notice A modeller (or the one agent key he names) records, for a (model, round), the hash of that round's
///         predictions; once he reveals the file, anyone can check it against the commitment
///         (`backing submission verify`). The log only records: anyone may emit a commitment, and readers decide
///         which one counts by these rules, from the chain's own data:
///         1. the committer is the model's modeller at the oracle when the commitment was made (its
///            `ModelRegistered` and `ModellerChanged` events before it), or the agent that modeller named here
///            (`AgentSet`) most recently before the commitment;
///         2. only the first commitment satisfying rule 1 counts for its (model, round); later ones are ignored,
///            so a commitment is never replaced;
///         3. it counts as made in time when its block's timestamp is before the round's submission deadline at
///            the oracle (`roundCloseTime`); otherwise it is late. A round without a commitment is missed once its
///            deadline passes.
///         `backing submission commit` checks all three before it sends, so a modeller does not pay for a
///         commitment that would not count. A modeller may also state that he commits every round of a model
///         (`expectCommitments`, sent by `backing agreement create` and `backing series create` when the terms say
///         `submission_commitments: every_round`); readers count it when he is the model's registered modeller, and
///         from then on every round whose deadline passes without a commitment that counts is a missed promise.
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






    /// @notice A commitment without a predictions hash commits to nothing.
    /// @param index The commitment's position in the batch.
    error EmptyPredictionsHash(uint256 index);

    /// @notice A batch without commitments.
    error NoCommitments();

    /// @notice A predictions hash recorded for a model and round (it counts by the rules above).
    /// @param modelId The model.
    /// @param round The round.
    /// @param committer Who sent it (counts only if the modeller or his agent at the time).
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

    /// @notice A modeller stated that he commits every round of a model from now on (it counts when he is the
    ///         model's registered modeller).
    /// @param modelId The model.
    /// @param modeller Who stated it.
    event CommitmentsExpected(bytes32 indexed modelId, address indexed modeller);

    /// @notice A modeller named (or, with the zero address, removed) the agent key that may commit for his models.
    /// @param modeller The modeller.
    /// @param agent The agent, or zero.
    event AgentSet(address indexed modeller, address indexed agent);

    /// @notice Name the one key that may commit for every model registered to the caller (zero removes it). The
    ///         modeller himself can always commit.
    /// @param agent The agent key, or the zero address.
    function setAgent(address agent) external;

    /// @notice State that you commit every round of `modelId` from now on, so backers can count the rounds you
    ///         miss (it counts when you are the model's registered modeller). It cannot be taken back.
    /// @param modelId The model.
    function expectCommitments(bytes32 modelId) external;

    /// @notice Commit to one round's predictions of one model (it counts by the rules above).
    /// @dev Requirements:
    ///      - a non-zero predictions hash (`EmptyPredictionsHash`).
    /// @param commitment The model, round, predictions hash and Numerai's optional ids.
    function commit(Commitment calldata commitment) external;

    /// @notice Commit several (model, round) pairs in one transaction; all or none are recorded.
    /// @dev Requirements:
    ///      - at least one commitment (`NoCommitments`);
    ///      - each as in `commit`.
    /// @param commitments The commitments.
    function commitMany(Commitment[] calldata commitments) external;

    /// @notice The ScoreOracle whose model registry and round schedule the rules refer to.
    function oracle() external view returns (address);

    /// @notice The agent key a modeller named last (zero when none); `AgentSet` events give its history.
    /// @param modeller The modeller.
    function agentOf(address modeller) external view returns (address);
}
