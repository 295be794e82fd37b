// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A token movement inside a message, in source-chain terms.
struct TokenTransfer {
    address token;
    uint256 amount;
    /// @dev What the source did with the tokens: MODE_LOCK or MODE_BURN.
    uint8 mode;
}

/// @notice The fixed-size fields of a message, in layout order (version is implied).
struct Header {
    uint64 nonce;
    uint64 sourceChainId;
    address sender;
    uint64 destChainId;
    address receiver;
    uint8 finality;
    uint32 gasLimit;
}

/// @title MessageLib
/// @notice The v1 message layout (docs/messaging.md): fixed, big-endian, no padding. Reads are
/// calldata slices, so a message is never copied to memory to be inspected.
library MessageLib {
    uint8 internal constant VERSION = 1;
    uint8 internal constant FINALITY_FINAL = 0;
    uint8 internal constant FINALITY_FAST = 1;
    uint8 internal constant MODE_LOCK = 0;
    uint8 internal constant MODE_BURN = 1;
    uint256 internal constant MAX_TOKENS = 8;
    uint256 internal constant MAX_PAYLOAD_BYTES = 16_384;

    uint256 private constant VERSION_OFFSET = 0;
    uint256 private constant NONCE_OFFSET = 1;
    uint256 private constant SOURCE_CHAIN_OFFSET = 9;
    uint256 private constant SENDER_OFFSET = 17;
    uint256 private constant DEST_CHAIN_OFFSET = 37;
    uint256 private constant RECEIVER_OFFSET = 45;
    uint256 private constant FINALITY_OFFSET = 65;
    uint256 private constant GAS_LIMIT_OFFSET = 66;
    uint256 private constant TOKEN_COUNT_OFFSET = 70;
    uint256 internal constant HEADER_BYTES = 71;
    uint256 internal constant TOKEN_BYTES = 53;

    /// @notice The message is not a well-formed v1 message; `reason` says which rule it broke.
    error MessageMalformed(string reason);

    /// @notice Encodes a message. Callers validate limits; this only lays out bytes.
    function encode(Header memory header, TokenTransfer[] memory tokens, bytes memory body)
        internal
        pure
        returns (bytes memory)
    {
        bytes memory tokenBytes;
        for (uint256 i; i < tokens.length; ++i) {
            tokenBytes = abi.encodePacked(tokenBytes, tokens[i].token, tokens[i].amount, tokens[i].mode);
        }
        // Two halves: one encodePacked of all nine header fields is too deep for the legacy pipeline.
        bytes memory head = abi.encodePacked(VERSION, header.nonce, header.sourceChainId, header.sender);
        return abi.encodePacked(
            head,
            header.destChainId,
            header.receiver,
            header.finality,
            header.gasLimit,
            uint8(tokens.length),
            tokenBytes,
            body
        );
    }

    /// @notice Checks the structure (version, lengths, limits, enum values) without trusting anything.
    function validate(bytes calldata message) internal pure {
        if (message.length < HEADER_BYTES) revert MessageMalformed("shorter than the 71-byte header");
        if (version(message) != VERSION) revert MessageMalformed("unknown version");
        if (finality(message) > FINALITY_FAST) revert MessageMalformed("unknown finality");
        uint256 count = tokenCount(message);
        if (count > MAX_TOKENS) revert MessageMalformed("more than 8 tokens");
        uint256 payloadStart = HEADER_BYTES + count * TOKEN_BYTES;
        if (message.length < payloadStart) revert MessageMalformed("token section overruns the message");
        if (message.length - payloadStart > MAX_PAYLOAD_BYTES) revert MessageMalformed("payload over 16 KiB");
        for (uint256 i; i < count; ++i) {
            if (uint8(message[HEADER_BYTES + i * TOKEN_BYTES + 52]) > MODE_BURN) {
                revert MessageMalformed("unknown token mode");
            }
        }
    }

    function id(bytes calldata message) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, message.offset, message.length)
            digest := keccak256(ptr, message.length)
        }
    }

    // Field readers: one CALLDATALOAD each, shifted to the field's width. Only valid on a message of
    // at least HEADER_BYTES (checked by {validate}, or by the caller), as they do not bound-check.

    function version(bytes calldata message) internal pure returns (uint8 value) {
        assembly ("memory-safe") {
            value := shr(248, calldataload(add(message.offset, VERSION_OFFSET)))
        }
    }

    function nonce(bytes calldata message) internal pure returns (uint64 value) {
        assembly ("memory-safe") {
            value := shr(192, calldataload(add(message.offset, NONCE_OFFSET)))
        }
    }

    function sourceChainId(bytes calldata message) internal pure returns (uint64 value) {
        assembly ("memory-safe") {
            value := shr(192, calldataload(add(message.offset, SOURCE_CHAIN_OFFSET)))
        }
    }

    function sender(bytes calldata message) internal pure returns (address value) {
        assembly ("memory-safe") {
            value := shr(96, calldataload(add(message.offset, SENDER_OFFSET)))
        }
    }

    function destChainId(bytes calldata message) internal pure returns (uint64 value) {
        assembly ("memory-safe") {
            value := shr(192, calldataload(add(message.offset, DEST_CHAIN_OFFSET)))
        }
    }

    function receiver(bytes calldata message) internal pure returns (address value) {
        assembly ("memory-safe") {
            value := shr(96, calldataload(add(message.offset, RECEIVER_OFFSET)))
        }
    }

    function finality(bytes calldata message) internal pure returns (uint8 value) {
        assembly ("memory-safe") {
            value := shr(248, calldataload(add(message.offset, FINALITY_OFFSET)))
        }
    }

    function gasLimit(bytes calldata message) internal pure returns (uint32 value) {
        assembly ("memory-safe") {
            value := shr(224, calldataload(add(message.offset, GAS_LIMIT_OFFSET)))
        }
    }

    function tokenCount(bytes calldata message) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := shr(248, calldataload(add(message.offset, TOKEN_COUNT_OFFSET)))
        }
    }

    /// @notice The i-th token transfer; only valid after {validate}.
    function tokenAt(bytes calldata message, uint256 i) internal pure returns (TokenTransfer memory transfer) {
        uint256 start = HEADER_BYTES + i * TOKEN_BYTES;
        transfer.token = address(bytes20(message[start:start + 20]));
        transfer.amount = uint256(bytes32(message[start + 20:start + 52]));
        transfer.mode = uint8(message[start + 52]);
    }

    /// @notice The payload; only valid after {validate}.
    function payload(bytes calldata message) internal pure returns (bytes calldata) {
        return message[HEADER_BYTES + tokenCount(message) * TOKEN_BYTES:];
    }
}
