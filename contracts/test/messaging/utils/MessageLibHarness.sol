// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Header, MessageLib, TokenTransfer} from "../../../src/messaging/libraries/MessageLib.sol";

/// @notice Exposes MessageLib's calldata readers to tests.
contract MessageLibHarness {
    using MessageLib for bytes;

    function encode(Header calldata header, TokenTransfer[] calldata tokens, bytes calldata body)
        external
        pure
        returns (bytes memory)
    {
        return MessageLib.encode(header, tokens, body);
    }

    function validate(bytes calldata message) external pure {
        message.validate();
    }

    function decode(bytes calldata message)
        external
        pure
        returns (uint8 version, Header memory header, TokenTransfer[] memory tokens, bytes memory body)
    {
        message.validate();
        version = message.version();
        header = Header(
            message.nonce(),
            message.sourceChainId(),
            message.sender(),
            message.destChainId(),
            message.receiver(),
            message.finality(),
            message.gasLimit()
        );
        tokens = new TokenTransfer[](message.tokenCount());
        for (uint256 i; i < tokens.length; ++i) {
            tokens[i] = message.tokenAt(i);
        }
        body = message.payload();
    }

    function id(bytes calldata message) external pure returns (bytes32) {
        return message.id();
    }
}
