// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Tokens a message delivered to its receiver before the call, in destination-chain terms.
struct DeliveredToken {
    address token;
    uint256 amount;
}

/// @notice What an application receives from the Inbox.
struct Delivery {
    bytes32 messageId;
    uint64 sourceChainId;
    address sender;
    DeliveredToken[] tokens;
    bytes payload;
}

/// @title IMessageReceiver
/// @notice Implemented by applications that accept messages. The Inbox calls it only for messages with
/// a payload, only on receivers allowlisted for the lane, with the gas limit the sender chose. Tokens
/// listed in `delivery.tokens` have already been released or minted to the receiver; if this call
/// reverts, that transfer is undone too and the message can be retried.
interface IMessageReceiver {
    function receiveMessage(Delivery calldata delivery) external;
}
