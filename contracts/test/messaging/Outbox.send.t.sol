// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Guardable} from "../../src/guardian/Guardable.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {Header, MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {MessageReader} from "./utils/MessageReader.sol";

/// @notice Outbox.send: numbering, the MessageSent event and every rejected input.
contract OutboxSendTest is MessagingFixture {
    using MessageReader for bytes;

    bytes internal constant PAYLOAD = "hello, hub";

    function setUp() public override {
        super.setUp();
        _onSource();
    }

    function test_typeAndVersion() public view {
        assertEq(outbox.typeAndVersion(), "Outbox 1.0.0");
    }

    function test_send_numbersEachDestinationFromZero() public {
        vm.prank(owner);
        outbox.setLane(OTHER, true);
        for (uint64 i; i < 3; ++i) {
            assertEq(_send(PAYLOAD).nonce(), i);
        }
        _sendTo(OTHER);
        assertEq(outbox.lane(DST).nextNonce, 3);
        assertEq(outbox.lane(OTHER).nextNonce, 1);
        assertEq(outbox.count(), 4);
    }

    function test_send_emitsMessageSentWithTheFullMessage() public {
        bytes memory expected = _expected(0, PAYLOAD);
        vm.expectEmit(address(outbox));
        emit Outbox.MessageSent(keccak256(expected), DST, 0, 0, expected);
        vm.prank(alice);
        bytes32 id = outbox.send(DST, address(receiver), PAYLOAD, GAS_LIMIT);
        assertEq(id, keccak256(expected));
    }

    /// @notice One tree for every lane: the leaf index counts all messages, the nonce only the lane's.
    function test_send_leafIndexCountsEveryLane() public {
        vm.prank(owner);
        outbox.setLane(OTHER, true);
        _sendTo(DST);
        _sendTo(OTHER);
        bytes memory expected = _expected(1, PAYLOAD);
        vm.expectEmit(address(outbox));
        emit Outbox.MessageSent(keccak256(expected), DST, 1, 2, expected);
        _sendTo(DST);
    }

    function test_send_acceptsTheLargestPayload() public {
        bytes memory payload = new bytes(MessageLib.MAX_PAYLOAD_BYTES);
        assertEq(_send(payload), _expected(0, payload));
    }

    function test_send_revertsWhen_laneUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxUnknownLane.selector, OTHER));
        vm.prank(alice);
        outbox.send(OTHER, address(receiver), PAYLOAD, GAS_LIMIT);
    }

    function test_send_revertsWhen_laneDisabled() public {
        vm.prank(owner);
        outbox.setLane(DST, false);
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxUnknownLane.selector, DST));
        vm.prank(alice);
        outbox.send(DST, address(receiver), PAYLOAD, GAS_LIMIT);
    }

    function test_send_revertsWhen_lanePaused() public {
        uint8 pauseSend = outbox.PAUSE_SEND();
        vm.prank(guardian);
        outbox.pause(DST, pauseSend);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, DST, pauseSend));
        vm.prank(alice);
        outbox.send(DST, address(receiver), PAYLOAD, GAS_LIMIT);
    }

    function test_send_revertsWhen_pausedGlobally() public {
        uint8 pauseSend = outbox.PAUSE_SEND();
        uint64 allLanes = outbox.ALL_LANES();
        vm.prank(guardian);
        outbox.pause(allLanes, pauseSend);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, uint64(0), pauseSend));
        vm.prank(alice);
        outbox.send(DST, address(receiver), PAYLOAD, GAS_LIMIT);
    }

    function test_send_revertsWhen_receiverZero() public {
        vm.expectRevert(Outbox.OutboxZeroReceiver.selector);
        vm.prank(alice);
        outbox.send(DST, address(0), PAYLOAD, GAS_LIMIT);
    }

    function test_send_revertsWhen_payloadTooLarge() public {
        uint256 max = MessageLib.MAX_PAYLOAD_BYTES;
        vm.expectRevert(abi.encodeWithSelector(Outbox.OutboxPayloadTooLarge.selector, max + 1, max));
        vm.prank(alice);
        outbox.send(DST, address(receiver), new bytes(max + 1), GAS_LIMIT);
    }

    function test_send_failedSendLeavesNothingBehind() public {
        vm.expectRevert(Outbox.OutboxZeroReceiver.selector);
        vm.prank(alice);
        outbox.send(DST, address(0), PAYLOAD, GAS_LIMIT);
        assertEq(outbox.count(), 0);
        assertEq(outbox.lane(DST).nextNonce, 0);
    }

    function _sendTo(uint64 dest) private {
        vm.prank(alice);
        outbox.send(dest, address(receiver), PAYLOAD, GAS_LIMIT);
    }

    function _expected(uint64 nonce, bytes memory payload) private view returns (bytes memory) {
        return MessageLib.encode(
            Header(nonce, SRC, alice, DST, address(receiver), MessageLib.FINALITY_FINAL, GAS_LIMIT),
            new TokenTransfer[](0),
            payload
        );
    }
}
