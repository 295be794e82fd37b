// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Header, MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {MessageLibHarness} from "./utils/MessageLibHarness.sol";

/// @notice MessageLib.encode, the calldata readers and MessageLib.validate.
contract MessageLibTest is Test {
    MessageLibHarness internal lib;

    function setUp() public {
        lib = new MessageLibHarness();
    }

    // ---------------------------------------------------------------- encode / decode

    function testFuzz_encode_roundTripsThroughTheReaders(
        Header memory header,
        uint256 tokenSeed,
        uint8 tokenCount,
        bytes memory body
    ) public view {
        header.finality = uint8(bound(header.finality, 0, 1));
        vm.assume(body.length <= MessageLib.MAX_PAYLOAD_BYTES);
        TokenTransfer[] memory tokens = _randomTokens(tokenSeed, bound(tokenCount, 0, MessageLib.MAX_TOKENS));

        bytes memory message = lib.encode(header, tokens, body);
        assertEq(message.length, MessageLib.HEADER_BYTES + tokens.length * MessageLib.TOKEN_BYTES + body.length);
        assertEq(lib.id(message), keccak256(message));

        (uint8 version, Header memory decoded, TokenTransfer[] memory decodedTokens, bytes memory decodedBody) =
            lib.decode(message);
        assertEq(version, MessageLib.VERSION);
        assertEq(abi.encode(decoded), abi.encode(header));
        assertEq(abi.encode(decodedTokens), abi.encode(tokens));
        assertEq(decodedBody, body);
    }

    /// @notice The layout table of docs/messaging.md, byte for byte.
    function test_encode_matchesTheSpecLayout() public view {
        Header memory header = Header({
            nonce: 0x0102030405060708,
            sourceChainId: 31_001,
            sender: address(0xAAAA),
            destChainId: 31_002,
            receiver: address(0xBBBB),
            finality: 1,
            gasLimit: 0x000F4240
        });
        TokenTransfer[] memory tokens = new TokenTransfer[](1);
        tokens[0] = TokenTransfer(address(0xCCCC), 5e18, MessageLib.MODE_BURN);
        bytes memory expected = bytes.concat(
            hex"01",
            hex"0102030405060708",
            hex"0000000000007919",
            bytes20(address(0xAAAA)),
            hex"000000000000791a",
            bytes20(address(0xBBBB)),
            hex"01",
            hex"000f4240",
            hex"01",
            bytes20(address(0xCCCC)),
            bytes32(uint256(5e18)),
            hex"01",
            "hi"
        );
        assertEq(lib.encode(header, tokens, "hi"), expected);
    }

    // ---------------------------------------------------------------- validate

    function test_validate_acceptsTheLimits() public view {
        lib.validate(_message(MessageLib.MAX_TOKENS, new bytes(MessageLib.MAX_PAYLOAD_BYTES)));
        lib.validate(_message(0, ""));
    }

    function test_validate_revertsWhen_shorterThanTheHeader() public {
        bytes memory message = _message(0, "");
        assembly ("memory-safe") {
            mstore(message, 70)
        }
        _expectMalformed("shorter than the 71-byte header");
        lib.validate(message);
    }

    function test_validate_revertsWhen_unknownVersion() public {
        bytes memory message = _message(0, "");
        message[0] = 0x02;
        _expectMalformed("unknown version");
        lib.validate(message);
    }

    function test_validate_revertsWhen_unknownFinality() public {
        bytes memory message = _message(0, "");
        message[65] = 0x02;
        _expectMalformed("unknown finality");
        lib.validate(message);
    }

    function test_validate_revertsWhen_moreThanEightTokens() public {
        bytes memory message = _message(MessageLib.MAX_TOKENS + 1, "");
        _expectMalformed("more than 8 tokens");
        lib.validate(message);
    }

    function test_validate_revertsWhen_tokenSectionOverrunsTheMessage() public {
        bytes memory message = _message(1, "");
        message[70] = 0x02; // claims two tokens, carries one
        _expectMalformed("token section overruns the message");
        lib.validate(message);
    }

    function test_validate_revertsWhen_payloadOver16KiB() public {
        bytes memory message = _message(0, new bytes(MessageLib.MAX_PAYLOAD_BYTES + 1));
        _expectMalformed("payload over 16 KiB");
        lib.validate(message);
    }

    function test_validate_revertsWhen_unknownTokenMode() public {
        bytes memory message = _message(2, "");
        message[MessageLib.HEADER_BYTES + MessageLib.TOKEN_BYTES + 52] = 0x02; // second token's mode
        _expectMalformed("unknown token mode");
        lib.validate(message);
    }

    // ---------------------------------------------------------------- helpers

    function _expectMalformed(string memory reason) private {
        vm.expectRevert(abi.encodeWithSelector(MessageLib.MessageMalformed.selector, reason));
    }

    function _message(uint256 tokenCount, bytes memory body) private view returns (bytes memory) {
        TokenTransfer[] memory tokens = _randomTokens(1, tokenCount);
        return lib.encode(Header(7, 31_001, address(1), 31_002, address(2), 0, 100_000), tokens, body);
    }

    function _randomTokens(uint256 seed, uint256 count) private pure returns (TokenTransfer[] memory tokens) {
        tokens = new TokenTransfer[](count);
        for (uint256 i; i < count; ++i) {
            uint256 entropy = uint256(keccak256(abi.encode(seed, i)));
            tokens[i] = TokenTransfer(address(uint160(entropy)), entropy >> 160, uint8(entropy & 1));
        }
    }
}
