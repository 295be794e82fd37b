// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title Guardable
/// @notice Emergency brakes for a component: a guardian (a fast key or an anomaly-detection service)
/// can pause one lane or everything, per kind of action; only the owner (slow governance) unpauses,
/// so a compromised guardian can stop the system but never move funds.
/// @dev Lane flags live in the derived contract's own lane struct (one storage read per message);
/// the global flags share a slot with the guardian address.
abstract contract Guardable is Ownable2Step {
    /// @notice Kinds of action that can be paused separately.
    uint8 public constant PAUSE_SEND = 1;
    uint8 public constant PAUSE_EXECUTE = 2;
    uint8 public constant PAUSE_DEPOSIT = 4;
    uint8 public constant PAUSE_WITHDRAW = 8;
    uint8 public constant PAUSE_LIQUIDATE = 16;
    /// @notice `chainId` 0 in the events below means "all lanes".
    uint64 public constant ALL_LANES = 0;

    address private _guardian;
    uint8 private _globalPauseFlags;

    event GuardianChanged(address indexed previousGuardian, address indexed newGuardian);
    event Paused(uint64 indexed chainId, uint8 flags, address indexed by);
    event Unpaused(uint64 indexed chainId, uint8 flags, address indexed by);

    /// @notice Only the guardian or the owner may pause.
    error GuardianUnauthorized(address caller);
    /// @notice The action `flag` is paused on lane `chainId` (0 = globally); wait for the owner to unpause.
    error GuardianPaused(uint64 chainId, uint8 flag);

    constructor(address initialOwner, address initialGuardian) Ownable(initialOwner) {
        _guardian = initialGuardian;
        emit GuardianChanged(address(0), initialGuardian);
    }

    function guardian() public view returns (address) {
        return _guardian;
    }

    function globalPauseFlags() public view returns (uint8) {
        return _globalPauseFlags;
    }

    function lanePauseFlags(uint64 chainId) public view returns (uint8) {
        return _lanePauseFlags(chainId);
    }

    function setGuardian(address newGuardian) external onlyOwner {
        emit GuardianChanged(_guardian, newGuardian);
        _guardian = newGuardian;
    }

    /// @notice Pauses `flags` on lane `chainId`, or on every lane when `chainId` is ALL_LANES.
    function pause(uint64 chainId, uint8 flags) external {
        if (msg.sender != _guardian && msg.sender != owner()) revert GuardianUnauthorized(msg.sender);
        if (chainId == ALL_LANES) _globalPauseFlags |= flags;
        else _setLanePauseFlags(chainId, _lanePauseFlags(chainId) | flags);
        emit Paused(chainId, flags, msg.sender);
    }

    /// @notice Lifts `flags` on lane `chainId` (or globally). Owner only.
    function unpause(uint64 chainId, uint8 flags) external onlyOwner {
        if (chainId == ALL_LANES) _globalPauseFlags &= ~flags;
        else _setLanePauseFlags(chainId, _lanePauseFlags(chainId) & ~flags);
        emit Unpaused(chainId, flags, msg.sender);
    }

    /// @dev Reverts when `flag` is paused globally or in `laneFlags` (the caller read them with its lane).
    function _requireNotPaused(uint64 chainId, uint8 laneFlags, uint8 flag) internal view {
        if (_globalPauseFlags & flag != 0) revert GuardianPaused(ALL_LANES, flag);
        if (laneFlags & flag != 0) revert GuardianPaused(chainId, flag);
    }

    function _lanePauseFlags(uint64 chainId) internal view virtual returns (uint8);

    function _setLanePauseFlags(uint64 chainId, uint8 flags) internal virtual;
}
