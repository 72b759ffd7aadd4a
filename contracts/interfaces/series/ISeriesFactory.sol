// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Series factory: deploys backing series and keeps the registry backers consult.
interface ISeriesFactory {
    error NotModelOwner(bytes32 modelId, address caller, address registeredModeller);
    error NotASeries(address caller);
    error DefaultAlreadyRecorded(address series);

    event SeriesCreated(address indexed series, address indexed modeller, bytes32 indexed modelId, bool clone);
    event DefaultRecorded(address indexed series, address indexed modeller, uint256 defaults);

    /// @notice Deploy a series for `modelId` as an EIP-1167 clone; the caller must own the model at the oracle.
    /// @param modelId The model.
    /// @return series The new series.
    function createSeries(bytes32 modelId) external returns (address series);

    /// @notice Called by a series of this factory when its modeller defaults.
    function recordDefault(address modeller) external;

    /// @notice How many series of this modeller ended in default.
    function defaultsOf(address modeller) external view returns (uint256);
}
