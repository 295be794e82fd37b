// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title MessageReader
/// @notice Reads v1 message fields from memory (MessageLib reads calldata only), for test bookkeeping.
library MessageReader {
    function nonce(bytes memory message) internal pure returns (uint64) {
        return uint64(_read(message, 1, 8));
    }

    function sourceChainId(bytes memory message) internal pure returns (uint64) {
        return uint64(_read(message, 9, 8));
    }

    function receiver(bytes memory message) internal pure returns (address) {
        return address(uint160(_read(message, 45, 20)));
    }

    function gasLimit(bytes memory message) internal pure returns (uint32) {
        return uint32(_read(message, 66, 4));
    }

    function id(bytes memory message) internal pure returns (bytes32) {
        return keccak256(message);
    }

    /// @dev The big-endian integer of `size` bytes at `offset` (size ≤ 32, bounds are the caller's job).
    function _read(bytes memory message, uint256 offset, uint256 size) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := shr(mul(sub(32, size), 8), mload(add(add(message, 0x20), offset)))
        }
    }
}
