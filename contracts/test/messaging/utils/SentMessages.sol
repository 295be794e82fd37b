// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";

/// @title SentMessages
/// @notice Reads the full message out of an Outbox's MessageSent event, as an indexer would.
library SentMessages {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 internal constant MESSAGE_SENT_TOPIC = keccak256("MessageSent(bytes32,uint64,uint64,uint256,bytes)");

    error SentMessagesNone(address outbox);

    /// @notice The `message` of the last MessageSent by `outbox` among the logs recorded since
    /// vm.recordLogs (consumes them).
    function last(address outbox) internal returns (bytes memory message) {
        Vm.Log[] memory logs = VM.getRecordedLogs();
        for (uint256 i = logs.length; i > 0; --i) {
            Vm.Log memory entry = logs[i - 1];
            if (entry.emitter == outbox && entry.topics[0] == MESSAGE_SENT_TOPIC) {
                (, message) = abi.decode(entry.data, (uint256, bytes));
                return message;
            }
        }
        revert SentMessagesNone(outbox);
    }
}
