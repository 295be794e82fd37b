// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";

/// @title DevnetReceiver
/// @notice The devnet's message sink: records every delivery (so tests can prove exactly-once) and
/// obeys two payload commands that demonstrate failure handling:
///   "revert"                       reverts with {DevnetReceiverRefused}
///   bytes4("burn") ‖ uint32 gas    spends that much gas first (fails when the gas limit is lower,
///                                  succeeds on a retry with more)
contract DevnetReceiver is IMessageReceiver {
    address public immutable inbox;
    mapping(bytes32 messageId => uint256) public deliveries;

    event Received(
        bytes32 indexed messageId, uint64 indexed sourceChainId, address indexed sender, uint256 tokens, bytes payload
    );

    error DevnetReceiverOnlyInbox(address caller);
    error DevnetReceiverRefused(bytes32 messageId);

    constructor(address inbox_) {
        inbox = inbox_;
    }

    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external {
        if (msg.sender != inbox) revert DevnetReceiverOnlyInbox(msg.sender);
        bytes calldata payload = delivery.payload;
        if (keccak256(payload) == keccak256("revert")) revert DevnetReceiverRefused(delivery.messageId);
        if (payload.length == 8 && bytes4(payload[0:4]) == bytes4("burn")) _burn(uint32(bytes4(payload[4:8])));
        ++deliveries[delivery.messageId];
        emit Received(delivery.messageId, delivery.sourceChainId, delivery.sender, delivery.tokens.length, payload);
    }

    function _burn(uint256 amount) private view {
        uint256 start = gasleft();
        while (start - gasleft() < amount) {}
    }
}
