// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Guardable} from "../../src/guardian/Guardable.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {IVerifier} from "../../src/messaging/interfaces/IVerifier.sol";
import {MessageLib} from "../../src/messaging/libraries/MessageLib.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {MockReceiver} from "./mocks/MockReceiver.sol";

/// @notice Inbox.retry: anyone re-executes a FAILURE, with the exact message and at least its gas.
contract InboxRetryTest is MessagingFixture {
    bytes internal constant PAYLOAD = "retry me";

    bytes internal failedMessage;

    function setUp() public override {
        super.setUp();
        receiver.setBehavior(MockReceiver.Behavior.Revert);
        failedMessage = _send(PAYLOAD);
        _execute(failedMessage);
        receiver.setBehavior(MockReceiver.Behavior.Accept);
    }

    function test_retry_anyoneCanRetryAFailure() public {
        _expectStateChanged(failedMessage, Inbox.ExecutionState.SUCCESS, "");
        vm.prank(stranger);
        inbox.retry(failedMessage, GAS_LIMIT);
        _assertState(failedMessage, Inbox.ExecutionState.SUCCESS);
        assertEq(receiver.deliveriesOf(keccak256(failedMessage)), 1);
    }

    function test_retry_thatFailsAgainStaysRetryable() public {
        receiver.setBehavior(MockReceiver.Behavior.Revert);
        inbox.retry(failedMessage, GAS_LIMIT);
        _assertState(failedMessage, Inbox.ExecutionState.FAILURE);
        receiver.setBehavior(MockReceiver.Behavior.Accept);
        inbox.retry(failedMessage, GAS_LIMIT);
        _assertState(failedMessage, Inbox.ExecutionState.SUCCESS);
    }

    function test_retry_revertsWhen_neverExecuted() public {
        bytes memory untouched = _send(PAYLOAD);
        vm.expectRevert(
            abi.encodeWithSelector(Inbox.InboxNotFailed.selector, SRC, uint64(1), Inbox.ExecutionState.UNTOUCHED)
        );
        inbox.retry(untouched, GAS_LIMIT);
    }

    function test_retry_revertsWhen_alreadySucceeded() public {
        inbox.retry(failedMessage, GAS_LIMIT);
        vm.expectRevert(
            abi.encodeWithSelector(Inbox.InboxNotFailed.selector, SRC, uint64(0), Inbox.ExecutionState.SUCCESS)
        );
        inbox.retry(failedMessage, GAS_LIMIT);
    }

    /// @notice Same source and nonce, different bytes: the message that was verified is the only one.
    function test_retry_revertsWhen_messageDiffers() public {
        bytes memory forged = bytes.concat(failedMessage, "and pay mallory");
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxMessageMismatch.selector, SRC, uint64(0)));
        inbox.retry(forged, GAS_LIMIT);
    }

    function test_retry_revertsWhen_gasLimitBelowTheOriginal() public {
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxGasLimitTooLow.selector, GAS_LIMIT - 1, GAS_LIMIT));
        inbox.retry(failedMessage, GAS_LIMIT - 1);
    }

    function test_retry_revertsWhen_paused() public {
        uint8 pauseExecute = inbox.PAUSE_EXECUTE();
        vm.prank(guardian);
        inbox.pause(SRC, pauseExecute);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, SRC, pauseExecute));
        inbox.retry(failedMessage, GAS_LIMIT);
    }

    /// @notice Disabling a lane (say its verifier was compromised) also stops retries of its failures.
    function test_retry_revertsWhen_laneDisabled() public {
        vm.prank(owner);
        inbox.setLane(SRC, IVerifier(address(0)));
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxUnknownLane.selector, SRC));
        inbox.retry(failedMessage, GAS_LIMIT);
    }

    function test_retry_revertsWhen_messageMalformed() public {
        bytes memory malformed = bytes.concat(failedMessage);
        malformed[65] = 0x07; // finality
        vm.expectRevert(abi.encodeWithSelector(MessageLib.MessageMalformed.selector, "unknown finality"));
        inbox.retry(malformed, GAS_LIMIT);
    }
}
