// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAgreementFactory} from "../interfaces/agreement/IAgreementFactory.sol";
import {IBackingAgreement} from "../interfaces/agreement/IBackingAgreement.sol";
import {IScoreOracle} from "../interfaces/oracle/IScoreOracle.sol";
import {BackingAgreement} from "./BackingAgreement.sol";

/// @title AgreementFactory
/// @notice Deploys backing agreements, keeps a registry per modeller and per model, and counts each modeller's
///         defaults so future backers can see them.
/// @dev The implementation is created here, so its immutables (token, oracle, factory) are this factory's and
///      every clone shares them. Only the modeller the oracle registered for a model may offer terms on it.
contract AgreementFactory is IAgreementFactory {
    /// @notice The staked token (NMR).
    IERC20 public immutable token;
    /// @notice The score oracle every agreement of this factory reads.
    IScoreOracle public immutable oracle;
    /// @notice The code every clone delegates to. It is never initialised itself (only this factory could).
    address public immutable implementation;

    /// @notice True for every agreement this factory deployed.
    mapping(address => bool) public isAgreement;
    mapping(address => uint256) private _defaults;
    mapping(address => bool) private _defaultRecorded;
    mapping(address => address[]) private _byModeller;
    mapping(bytes32 => address[]) private _byModel;
    address[] private _all;

    /// @param token_ The staked token (NMR).
    /// @param oracle_ The score oracle.
    constructor(IERC20 token_, IScoreOracle oracle_) {
        token = token_;
        oracle = oracle_;
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

    /// @notice Deploy an agreement as a full contract instead of a clone (same code, same rules; costs more
    ///         gas). It exists so tests can run every scenario against both deployments.
    /// @param terms The terms offered; the caller becomes the modeller and must own `terms.modelId`.
    /// @param feeLadder Up to 8 tiers, ascending by minUnits.
    /// @return agreement The new agreement.
    function createAgreementDirect(
        IBackingAgreement.Terms calldata terms,
        IBackingAgreement.FeeTier[] calldata feeLadder
    ) external returns (address agreement) {
        _checkModelOwner(terms.modelId);
        agreement = address(new BackingAgreement(token, oracle, address(this)));
        _register(agreement, terms, feeLadder, false);
    }

    /// @inheritdoc IAgreementFactory
    function recordDefault(address modeller) external {
        if (!isAgreement[msg.sender]) revert NotAnAgreement(msg.sender);
        if (_defaultRecorded[msg.sender]) revert DefaultAlreadyRecorded(msg.sender);
        _defaultRecorded[msg.sender] = true;
        uint256 count = ++_defaults[modeller];
        emit DefaultRecorded(msg.sender, modeller, count);
    }

    /// @inheritdoc IAgreementFactory
    function defaultsOf(address modeller) external view returns (uint256) {
        return _defaults[modeller];
    }

    /// @notice Number of agreements a modeller has created.
    function agreementCountOf(address modeller) external view returns (uint256) {
        return _byModeller[modeller].length;
    }

    /// @notice Number of agreements offered on a model.
    function agreementCountForModel(bytes32 modelId) external view returns (uint256) {
        return _byModel[modelId].length;
    }

    /// @notice Number of agreements this factory created.
    function agreementCount() external view returns (uint256) {
        return _all.length;
    }

    /// @notice A page of a modeller's agreements, oldest first.
    /// @param modeller The modeller.
    /// @param start Index of the first entry.
    /// @param count Maximum number of entries returned.
    function agreementsOf(address modeller, uint256 start, uint256 count) external view returns (address[] memory) {
        return _page(_byModeller[modeller], start, count);
    }

    /// @notice A page of the agreements offered on a model, oldest first.
    /// @param modelId The model.
    /// @param start Index of the first entry.
    /// @param count Maximum number of entries returned.
    function agreementsForModel(bytes32 modelId, uint256 start, uint256 count)
        external
        view
        returns (address[] memory)
    {
        return _page(_byModel[modelId], start, count);
    }

    /// @notice A page of all agreements, oldest first.
    /// @param start Index of the first entry.
    /// @param count Maximum number of entries returned.
    function agreements(uint256 start, uint256 count) external view returns (address[] memory) {
        return _page(_all, start, count);
    }

    function _checkModelOwner(bytes32 modelId) private view {
        // slither-disable-next-line unused-return -- a view returning a tuple; only the owner is needed here
        (address registered,,,) = oracle.modelInfo(modelId);
        if (registered != msg.sender) revert NotModelOwner(modelId, msg.sender, registered);
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
