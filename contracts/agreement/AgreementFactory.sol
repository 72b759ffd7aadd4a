// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAgreementFactory} from "../interfaces/agreement/IAgreementFactory.sol";
import {IBackingAgreement} from "../interfaces/agreement/IBackingAgreement.sol";
import {IModellerRecord} from "../interfaces/factory/IModellerRecord.sol";
import {IBackingFactory} from "../interfaces/factory/IBackingFactory.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {BackingFactory} from "../factory/BackingFactory.sol";
import {BackingAgreement} from "./BackingAgreement.sol";

/// @title AgreementFactory
/// @notice Deploys backing agreements and keeps a registry per modeller and per model; each modeller's defaults
///         go to the deployment's ModellerRecord (BackingFactory), so future backers see them with his series'.
/// @dev The implementation is created here, so its immutables (token, oracle, factory) are this factory's and
///      every clone shares them. Only the modeller the oracle registered for a model may offer terms on it.
contract AgreementFactory is IAgreementFactory, BackingFactory {
    /// @inheritdoc IBackingFactory
    address public immutable implementation;

    /// @inheritdoc IAgreementFactory
    mapping(address => bool) public isAgreement;
    mapping(address => address[]) private _byModeller;
    mapping(bytes32 => address[]) private _byModel;
    address[] private _all;

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    /// @param record_ The deployment's ModellerRecord, deployed first with this factory's future address.
    constructor(IERC20 token_, IScoreOracle oracle_, IModellerRecord record_) BackingFactory(token_, oracle_, record_) {
        implementation = address(new BackingAgreement(token_, oracle_, address(this)));
    }

    /// @inheritdoc IAgreementFactory
    function createAgreement(IBackingAgreement.Terms calldata terms, IBackingAgreement.FeeTier[] calldata feeLadder)
        external
        returns (address agreement)
    {
        _checkModelOwner(terms.modelId);
        agreement = Clones.clone(implementation);
        _register(agreement, terms, feeLadder, true);
    }

    /// @inheritdoc IAgreementFactory
    function createAgreementDirect(
        IBackingAgreement.Terms calldata terms,
        IBackingAgreement.FeeTier[] calldata feeLadder
    ) external returns (address agreement) {
        _checkModelOwner(terms.modelId);
        agreement = address(new BackingAgreement(token, oracle, address(this)));
        _register(agreement, terms, feeLadder, false);
    }

    /// @inheritdoc IAgreementFactory
    function agreementCountOf(address modeller) external view returns (uint256) {
        return _byModeller[modeller].length;
    }

    /// @inheritdoc IAgreementFactory
    function agreementCountForModel(bytes32 modelId) external view returns (uint256) {
        return _byModel[modelId].length;
    }

    /// @inheritdoc IAgreementFactory
    function agreementCount() external view returns (uint256) {
        return _all.length;
    }

    /// @inheritdoc IAgreementFactory
    function agreementsOf(address modeller, uint256 start, uint256 count) external view returns (address[] memory) {
        return _page(_byModeller[modeller], start, count);
    }

    /// @inheritdoc IAgreementFactory
    function agreementsForModel(bytes32 modelId, uint256 start, uint256 count)
        external
        view
        returns (address[] memory)
    {
        return _page(_byModel[modelId], start, count);
    }

    /// @inheritdoc IAgreementFactory
    function agreements(uint256 start, uint256 count) external view returns (address[] memory) {
        return _page(_all, start, count);
    }

    function _requireVehicle(address caller) internal view override {
        if (!isAgreement[caller]) revert NotAnAgreement(caller);
    }

    function _register(
        address agreement,
        IBackingAgreement.Terms calldata terms,
        IBackingAgreement.FeeTier[] calldata feeLadder,
        bool clone
    ) private {
        isAgreement[agreement] = true;
        _byModeller[msg.sender].push(agreement);
        _byModel[terms.modelId].push(agreement);
        _all.push(agreement);
        emit AgreementCreated(agreement, msg.sender, terms.modelId, clone);
        BackingAgreement(agreement).initialize(msg.sender, terms, feeLadder);
    }

    function _page(address[] storage list, uint256 start, uint256 count) private view returns (address[] memory page) {
        uint256 length = list.length;
        if (start >= length) return new address[](0);
        uint256 end = count > length - start ? length : start + count; // no overflow for any count
        page = new address[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = list[i];
        }
    }
}
