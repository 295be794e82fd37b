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

    function destChainId(bytes memory message) internal pure returns (uint64) {
        return uint64(_read(message, 37, 8));
    }

    function tokenCount(bytes memory message) internal pure returns (uint256) {
        return _read(message, 70, 1);
    }

    /// @notice Token transfer `i`: its token and amount.
    function tokenAt(bytes memory message, uint256 i) internal pure returns (address token, uint256 amount) {
        uint256 start = 71 + i * 53;
        token = address(uint160(_read(message, start, 20)));
        amount = _read(message, start + 20, 32);
    }

    /// @notice Everything after the header and the token transfers.
    function payload(bytes memory message) internal pure returns (bytes memory body) {
        uint256 start = 71 + tokenCount(message) * 53;
        body = new bytes(message.length - start);
        for (uint256 i; i < body.length; ++i) {
            body[i] = message[start + i];
        }
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
