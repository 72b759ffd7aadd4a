// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

/// @title Modeller record: one count of defaults per modeller, across single agreements and series.
/// @notice A backer checking a modeller sees every default he made, whichever factory's vehicle (an agreement or
///         a series) it was in. Only the two factories named at deployment may write, each only for its own
///         vehicles (the factory checks the vehicle is one it deployed), and a vehicle counts at most once.
interface IModellerRecord {
    /**
     * @dev The caller is neither of the two factories this record was deployed for.
     * @param caller The caller.
     */
    error UnknownFactory(address caller);
    /**
     * @dev The vehicle's default is recorded already: a vehicle counts once.
     * @param vehicle The agreement or series.
     */
    error DefaultAlreadyRecorded(address vehicle);

    /**
     * @dev A modeller's default was recorded.
     * @param modeller The modeller.
     * @param vehicle The agreement or series he defaulted in.
     * @param factory The factory that deployed it (and recorded the default).
     * @param defaults The modeller's defaults after this one.
     */
    event DefaultRecorded(address indexed modeller, address indexed vehicle, address indexed factory, uint256 defaults);

    /// @notice Count a default of `modeller` in `vehicle`. Called by a factory when one of its agreements or series
    ///         is declared in default.
    /// @dev Requirements: the caller is the agreement factory or the series factory this record was deployed for
    ///      (`UnknownFactory`); `vehicle`'s default is not recorded yet (`DefaultAlreadyRecorded`).
    /// @param vehicle The agreement or series (the factory checked that it deployed it).
    /// @param modeller Its modeller.
    function recordDefault(address vehicle, address modeller) external;

    /// @notice The factory of single agreements allowed to write (address(0): none).
    function agreementFactory() external view returns (address);

    /// @notice The factory of series allowed to write (address(0): none).
    function seriesFactory() external view returns (address);

    /// @notice How many agreements and series of this modeller ended in default.
    /// @param modeller The modeller.
    /// @return The count.
    function defaultsOf(address modeller) external view returns (uint256);

    /// @notice Whether `vehicle`'s default is recorded.
    /// @param vehicle The agreement or series.
    /// @return True once recorded.
    function defaultRecorded(address vehicle) external view returns (bool);
}
