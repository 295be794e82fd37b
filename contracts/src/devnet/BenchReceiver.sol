// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";

/// @title BenchReceiver
/// @notice The same minimal application behind both messaging systems in side-by-side gas benchmarks:
/// it counts deliveries (one warm storage write), so the figures compare protocols, not receivers.
/// Implements Isthmus's IMessageReceiver and Hyperlane's IMessageRecipient.handle.
contract BenchReceiver is IMessageReceiver {
    uint256 public deliveries;

    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata) external {
        ++deliveries;
    }

    /// @notice Hyperlane's IMessageRecipient entry point.
    function handle(uint32, bytes32, bytes calldata) external payable {
        ++deliveries;
    }
}
