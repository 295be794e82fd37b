// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice An escrow tells the coordinator that `depositor` locked `amount` of `token` (the escrow
/// chain's token) for deal `dealId`, to be paid to `counterparty` if the deal settles. The escrow's
/// chain and address are not in the payload: the coordinator takes them from the verified delivery.
struct EscrowedLeg {
    bytes32 dealId;
    address token;
    uint256 amount;
    address depositor;
    address counterparty;
    uint64 deadline;
}

/// @notice The coordinator's final word on the leg `(dealId, depositor)` held by the receiving escrow:
/// `settle` pays the counterparty, otherwise the depositor is refunded.
struct Decision {
    bytes32 dealId;
    address depositor;
    bool settle;
}

/// @title SettlementMessages
/// @notice The payloads settlement escrows and the DvP coordinator exchange over the messaging layer.
/// The first word is the kind, so a receiver rejects a payload meant for the other side before
/// decoding it.
library SettlementMessages {
    uint8 internal constant KIND_LEG_ESCROWED = 1;
    uint8 internal constant KIND_DECISION = 2;

    /// @notice The payload is not the kind this receiver accepts, or is malformed.
    error SettlementMessageBadKind(uint8 kind);

    function encodeLegEscrowed(EscrowedLeg memory leg) internal pure returns (bytes memory) {
        return abi.encode(KIND_LEG_ESCROWED, leg);
    }

    function encodeDecision(Decision memory decision) internal pure returns (bytes memory) {
        return abi.encode(KIND_DECISION, decision);
    }

    function decodeLegEscrowed(bytes calldata payload) internal pure returns (EscrowedLeg memory leg) {
        _requireKind(payload, KIND_LEG_ESCROWED);
        (, leg) = abi.decode(payload, (uint8, EscrowedLeg));
    }

    function decodeDecision(bytes calldata payload) internal pure returns (Decision memory decision) {
        _requireKind(payload, KIND_DECISION);
        (, decision) = abi.decode(payload, (uint8, Decision));
    }

    /// @dev Reads the kind word before decoding, so the wrong kind fails with a reason, not a bare revert.
    function _requireKind(bytes calldata payload, uint8 expected) private pure {
        uint256 kind = payload.length < 32 ? 0 : uint256(bytes32(payload[:32]));
        if (kind != expected) revert SettlementMessageBadKind(uint8(kind));
    }
}
