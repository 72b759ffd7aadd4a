// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IBackingFactory} from "../factory/IBackingFactory.sol";

/// @title Series factory: deploys backing series and keeps the registry backers consult.
/// @notice A registry per model; each modeller's defaults are counted in the deployment's `IModellerRecord`,
///         together with his single agreements' (`defaultsOf`).
interface ISeriesFactory is IBackingFactory {
    /**
     * @dev The address is not a series of this factory: it may not record a default, or (`adoptSeries`, the
     * constructor) its code is not this factory's implementation's, or it is the implementation itself.
     * @param caller The address refused.
     */
    error NotASeries(address caller);

    /**
     * @dev A series was deployed (or adopted) and initialised.
     * @param series The series.
     * @param modeller Its modeller (the caller).
     * @param modelId Its model.
     * @param clone True for an EIP-1167 clone, false for an adopted full deployment (`adoptSeries`).
     */
    event SeriesCreated(address indexed series, address indexed modeller, bytes32 indexed modelId, bool clone);

    /// @notice Deploy a series for `modelId` as an EIP-1167 clone; the caller becomes its modeller.
    /// @dev Requirements: the caller is the modeller the oracle registered for `modelId` (`NotModelOwner`).
    /// @param modelId The model.
    /// @return series The new series.
    function createSeries(bytes32 modelId) external returns (address series);

    /// @notice Register a series deployed as a full contract instead of a clone (same code and rules, more gas),
    ///         so tests run every scenario against both deployments.
    /// @dev Requirements: the caller is the modeller the oracle registered for `modelId` (`NotModelOwner`); the
    ///      series runs the implementation's code (so its token, oracle and factory are this factory's) and is not
    ///      the implementation itself (every clone runs its code: it must never hold a series' state)
    ///      (`NotASeries`); it is not initialised yet (`AlreadyInitialized`).
    /// @param series A BackingSeries deployed with this factory's token, oracle and address.
    /// @param modelId The model.
    function adoptSeries(address series, bytes32 modelId) external;

    /// @notice True for every series this factory deployed or adopted.
    /// @param series The address to check.
    /// @return Whether it is one of this factory's series.
    function isSeries(address series) external view returns (bool);

    /// @notice The series started on a model, oldest first.
    /// @param modelId The model.
    /// @return The series.
    function seriesForModel(bytes32 modelId) external view returns (address[] memory);
}
