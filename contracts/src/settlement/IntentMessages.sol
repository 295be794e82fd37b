// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The `orderData` of an on-chain order (ERC-7683 `OnchainCrossChainOrder.orderData`,
/// `orderDataType` = {IntentMessages.ORDER_DATA_TYPEHASH}): the user escrows `inputAmount` of
/// `inputToken` on the origin chain; a solver delivers `outputAmount` of `outputToken` (a
/// destination-chain token) to `recipient` on `destinationChainId` and is repaid the input.
struct IntentOrderData {
    address inputToken;
    uint256 inputAmount;
    uint64 destinationChainId;
    address outputToken;
    uint256 outputAmount;
    address recipient;
}

/// @notice The full order as opened: the `originData` of its fill instruction. Its hash is the order
/// id, so every field (amounts, recipient, deadline, origin settler) is bound to the id and a filler
/// cannot alter any of them without changing the id.
struct IntentOrder {
    uint64 originChainId;
    address originSettler;
    address user;
    uint256 nonce;
    uint32 fillDeadline;
    IntentOrderData data;
}

/// @title IntentMessages
/// @notice Order encoding and the payloads the DestinationSettler sends to the OriginSettler. The
/// first word of a payload is its kind, so a receiver rejects anything else before decoding it.
library IntentMessages {
    /// @notice The order was filled on the destination: repay `solver` from the escrow.
    uint8 internal constant KIND_FILLED = 1;
    /// @notice The fill deadline passed on the destination with no fill, and the destination settler
    /// has closed the order there for good: return the escrow to the user.
    uint8 internal constant KIND_REFUND = 2;

    /// @notice ERC-7683 `orderDataType` of {IntentOrderData}.
    bytes32 internal constant ORDER_DATA_TYPEHASH = keccak256(
        "IntentOrderData(address inputToken,uint256 inputAmount,uint64 destinationChainId,address outputToken,uint256 outputAmount,address recipient)"
    );

    /// @dev kind, orderId, solver: three words.
    uint256 private constant PAYLOAD_LENGTH = 96;

    /// @notice The payload is not the kind this receiver accepts, or is malformed.
    error IntentMessageBadPayload(uint8 kind, uint256 length);

    /// @notice `originData`: the encoding the order id is the hash of.
    function encodeOrder(IntentOrder memory order) internal pure returns (bytes memory) {
        return abi.encode(order);
    }

    function decodeOrder(bytes calldata originData) internal pure returns (IntentOrder memory) {
        return abi.decode(originData, (IntentOrder));
    }

    function orderId(IntentOrder memory order) internal pure returns (bytes32) {
        return keccak256(abi.encode(order));
    }

    function encodeFilled(bytes32 id, address solver) internal pure returns (bytes memory) {
        return abi.encode(KIND_FILLED, id, solver);
    }

    function encodeRefund(bytes32 id) internal pure returns (bytes memory) {
        return abi.encode(KIND_REFUND, id, address(0));
    }

    /// @notice Decodes a settlement payload of either kind; `solver` is zero for a refund.
    function decode(bytes calldata payload) internal pure returns (uint8 kind, bytes32 id, address solver) {
        uint256 word = payload.length < 32 ? 0 : uint256(bytes32(payload[:32]));
        if (payload.length != PAYLOAD_LENGTH || (word != KIND_FILLED && word != KIND_REFUND)) {
            revert IntentMessageBadPayload(uint8(word), payload.length);
        }
        (kind, id, solver) = abi.decode(payload, (uint8, bytes32, address));
    }
}
