// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A spoke vault tells the hub that `amount` of `token` (the spoke's token address) is now
/// locked for `account`. `depositedAt` is the spoke's block time: the source time the credit reflects.
/// A non-zero `borrowAmount` makes it deposit-and-borrow: once credited, the hub borrows that much
/// for `account` and delivers it on `borrowChainId` (the hub's own id = on the hub) to `borrowRecipient`.
struct Credit {
    address account;
    address token;
    uint256 amount;
    uint64 depositedAt;
    uint256 borrowAmount;
    uint64 borrowChainId;
    address borrowRecipient;
}

/// @notice The hub tells a spoke vault to release `amount` of `token` to `recipient`, after it debited
/// `account` (a withdrawal, a seizure paid to a liquidator) or refused its credit (a refund).
struct Release {
    address account;
    address token;
    uint256 amount;
    address recipient;
    uint8 reason;
}

/// @title MarginMessages
/// @notice The payloads vaults and the margin engine exchange over the messaging layer
/// (docs/margin.md, "Messages"). The first word is the kind, so a receiver rejects a payload meant
/// for the other side before decoding it.
library MarginMessages {
    uint8 internal constant KIND_CREDIT = 1;
    uint8 internal constant KIND_RELEASE = 2;

    uint8 internal constant REASON_WITHDRAW = 0;
    uint8 internal constant REASON_SEIZE = 1;
    /// @dev The hub could not take a credit (asset not eligible there, over its cap, too many
    /// positions): the collateral goes back to the depositor instead of sitting locked unaccounted.
    uint8 internal constant REASON_REFUND = 2;

    /// @notice The payload is not the kind this receiver accepts, or is malformed.
    error MarginMessageBadKind(uint8 kind);

    function encodeCredit(Credit memory credit) internal pure returns (bytes memory) {
        return abi.encode(KIND_CREDIT, credit);
    }

    function encodeRelease(Release memory release) internal pure returns (bytes memory) {
        return abi.encode(KIND_RELEASE, release);
    }

    function decodeCredit(bytes calldata payload) internal pure returns (Credit memory credit) {
        _requireKind(payload, KIND_CREDIT);
        (, credit) = abi.decode(payload, (uint8, Credit));
    }

    function decodeRelease(bytes calldata payload) internal pure returns (Release memory release) {
        _requireKind(payload, KIND_RELEASE);
        (, release) = abi.decode(payload, (uint8, Release));
    }

    /// @dev Reads the kind word before decoding, so the wrong kind fails with a reason, not a bare revert.
    function _requireKind(bytes calldata payload, uint8 expected) private pure {
        uint256 kind = payload.length < 32 ? 0 : uint256(bytes32(payload[:32]));
        if (kind != expected) revert MarginMessageBadKind(uint8(kind));
    }
}
