// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Guardable} from "../../src/guardian/Guardable.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {Delivery} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {IVerifier} from "../../src/messaging/interfaces/IVerifier.sol";
import {Header, MessageLib} from "../../src/messaging/libraries/MessageLib.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {MockReceiver} from "./mocks/MockReceiver.sol";
import {FalseVerifier} from "./mocks/MockVerifiers.sol";
import {CommitteeProofs} from "./utils/CommitteeProofs.sol";
import {SentMessages} from "./utils/SentMessages.sol";

/// @notice Inbox.execute: delivery, exactly-once, lanes and domains, breakers, receiver failures.
contract InboxExecuteTest is MessagingFixture {
    bytes internal constant PAYLOAD = "credit alice";

    function test_typeAndVersion() public view {
        assertEq(inbox.typeAndVersion(), "Inbox 1.0.0");
    }

    function test_execute_deliversWithTheRightFields() public {
        bytes memory message = _send(PAYLOAD);
        _expectStateChanged(message, Inbox.ExecutionState.SUCCESS, "");
        _execute(message);

        _assertState(message, Inbox.ExecutionState.SUCCESS);
        Delivery memory delivery = receiver.lastDelivery();
        assertEq(delivery.messageId, keccak256(message));
        assertEq(delivery.sourceChainId, SRC);
        assertEq(delivery.sender, alice);
        assertEq(delivery.tokens.length, 0);
        assertEq(delivery.payload, PAYLOAD);
        assertEq(receiver.deliveriesOf(keccak256(message)), 1);
    }

    function test_execute_emptyPayloadCallsNobody() public {
        address eoa = makeAddr("not allowlisted, not a contract");
        bytes memory message = _send(eoa, "", GAS_LIMIT);
        _execute(message);
        _assertState(message, Inbox.ExecutionState.SUCCESS);
    }

    function test_execute_revertsWhen_replayed() public {
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        inbox.execute(message, proof);
        vm.expectRevert(
            abi.encodeWithSelector(Inbox.InboxAlreadyExecuted.selector, SRC, uint64(0), Inbox.ExecutionState.SUCCESS)
        );
        inbox.execute(message, proof);
        assertEq(receiver.deliveriesOf(keccak256(message)), 1);
    }

    function test_execute_revertsWhen_replayedAfterAFailure() public {
        receiver.setBehavior(MockReceiver.Behavior.Revert);
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        inbox.execute(message, proof);
        vm.expectRevert(
            abi.encodeWithSelector(Inbox.InboxAlreadyExecuted.selector, SRC, uint64(0), Inbox.ExecutionState.FAILURE)
        );
        inbox.execute(message, proof);
    }

    /// @notice A second Inbox on the same chain, with its own verifier for the same source and the same
    /// committee: the signatures name the first Inbox, so they recover to strangers here.
    function test_execute_revertsWhen_replayedOnAnotherInbox() public {
        (Inbox inbox2, CommitteeVerifier verifier2) = _secondInbox();
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        inbox.execute(message, proof);

        bytes32 id = keccak256(message);
        address recovered = _firstSignerFor(verifier2, id, 1, _sign(EPOCH, id, 1, _quorum()));
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownSigner.selector, 0, recovered));
        inbox2.execute(message, proof);
    }

    /// @notice The same bytes relabeled as coming from another source chain are another message.
    function test_execute_revertsWhen_relabeledForAnotherSource() public {
        CommitteeVerifier otherVerifier = new CommitteeVerifier(owner, OTHER, address(outbox), address(inbox));
        vm.startPrank(owner);
        otherVerifier.setValidators(validators, THRESHOLD);
        inbox.setLane(OTHER, otherVerifier);
        vm.stopPrank();
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        bytes memory relabeled = _withSource(message, OTHER);

        vm.expectRevert(
            abi.encodeWithSelector(
                CommitteeVerifier.VerifierInvalidProof.selector, keccak256(relabeled), keccak256(message)
            )
        );
        inbox.execute(relabeled, proof);
    }

    /// @notice A second Outbox on SRC produces byte-identical messages (same sender, same nonce), but
    /// its validators sign for its own lane, which this Inbox's verifier does not accept.
    function test_execute_revertsWhen_messageComesFromAnotherOutbox() public {
        Outbox outbox2 = new Outbox(owner, guardian);
        CommitteeVerifier laneOfOutbox2 = new CommitteeVerifier(owner, SRC, address(outbox2), address(inbox));
        vm.prank(owner);
        outbox2.setLane(DST, true);
        _onSource();
        vm.recordLogs();
        vm.prank(alice);
        outbox2.send(DST, address(receiver), PAYLOAD, GAS_LIMIT);
        _onDest();
        bytes memory message = SentMessages.last(address(outbox2));
        assertEq(message, _send(PAYLOAD), "both outboxes emit the same bytes");

        bytes32 id = keccak256(message);
        bytes memory signatures = CommitteeProofs.sign(laneOfOutbox2.batchDigest(EPOCH, id, 1), _quorum());
        address recovered = _firstSignerFor(verifier, id, 1, signatures);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownSigner.selector, 0, recovered));
        inbox.execute(message, CommitteeProofs.encode(EPOCH, 1, id, new bytes32[](0), signatures));
    }

    function test_execute_revertsWhen_messageIsForAnotherDestination() public {
        bytes memory message = _craft(SRC, OTHER, address(receiver), PAYLOAD);
        bytes memory proof = _proof(message);
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxWrongDestination.selector, DST, OTHER));
        inbox.execute(message, proof);
    }

    /// @notice A misconfigured lane (OTHER routed to SRC's verifier) is still caught by the verifier.
    function test_execute_revertsWhen_verifierIsForAnotherSource() public {
        vm.prank(owner);
        inbox.setLane(OTHER, verifier);
        bytes memory message = _craft(OTHER, DST, address(receiver), PAYLOAD);
        bytes memory proof = _proof(message);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierWrongSource.selector, SRC, OTHER));
        inbox.execute(message, proof);
    }

    function test_execute_revertsWhen_laneUnknown() public {
        bytes memory message = _craft(OTHER, DST, address(receiver), PAYLOAD);
        bytes memory proof = _proof(message);
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxUnknownLane.selector, OTHER));
        inbox.execute(message, proof);
    }

    function test_execute_revertsWhen_laneDisabled() public {
        vm.prank(owner);
        inbox.setLane(SRC, IVerifier(address(0)));
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxUnknownLane.selector, SRC));
        inbox.execute(message, proof);
    }

    function test_execute_revertsWhen_verifierReturnsFalse() public {
        FalseVerifier sloppy = new FalseVerifier();
        vm.prank(owner);
        inbox.setLane(SRC, sloppy);
        bytes memory message = _send(PAYLOAD);
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxVerificationFailed.selector, address(sloppy)));
        inbox.execute(message, "");
    }

    function test_execute_revertsWhen_messageMalformed() public {
        bytes memory message = _send(PAYLOAD);
        message[0] = 0x02;
        vm.expectRevert(abi.encodeWithSelector(MessageLib.MessageMalformed.selector, "unknown version"));
        inbox.execute(message, "");
    }

    function test_execute_revertsWhen_lanePaused_andRunsOnceUnpaused() public {
        _checkPauseBlocksExecution(SRC);
    }

    function test_execute_revertsWhen_pausedGlobally_andRunsOnceUnpaused() public {
        _checkPauseBlocksExecution(inbox.ALL_LANES());
    }

    function test_execute_receiverNotAllowlisted_isAFailureNotARevert() public {
        MockReceiver unlisted = new MockReceiver();
        bytes memory first = _send(address(unlisted), PAYLOAD, GAS_LIMIT);
        bytes memory second = _send(PAYLOAD);

        _expectStateChanged(
            first,
            Inbox.ExecutionState.FAILURE,
            abi.encodeWithSelector(Inbox.InboxReceiverNotAllowed.selector, SRC, address(unlisted))
        );
        _execute(first);
        _execute(second);

        _assertState(first, Inbox.ExecutionState.FAILURE);
        _assertState(second, Inbox.ExecutionState.SUCCESS);
        assertEq(unlisted.totalDeliveries(), 0);
    }

    function test_execute_receiverReverts_isAFailureWithTheReason() public {
        receiver.setBehavior(MockReceiver.Behavior.Revert);
        bytes memory message = _send(PAYLOAD);
        bytes memory reason = abi.encodeWithSelector(MockReceiver.MockReceiverRejected.selector, keccak256(message));
        _expectStateChanged(
            message, Inbox.ExecutionState.FAILURE, abi.encodeWithSelector(Inbox.InboxReceiverReverted.selector, reason)
        );
        _execute(message);
        _assertState(message, Inbox.ExecutionState.FAILURE);
    }

    /// @notice States are 2 bits per nonce, 128 per word: neighbours (across word boundaries too) and
    /// other lanes never see each other's writes.
    function testFuzz_execute_statesAreIndependentPerNonce(uint64 nonce) public {
        nonce = uint64(bound(nonce, 1, type(uint64).max - 1));
        bytes memory failing = _craftWithNonce(nonce, address(new MockReceiver()));
        bytes memory succeeding = _craftWithNonce(nonce + 1, address(receiver));
        _execute(failing);
        _execute(succeeding);
        assertEq(uint8(inbox.executionState(SRC, nonce - 1)), uint8(Inbox.ExecutionState.UNTOUCHED));
        assertEq(uint8(inbox.executionState(SRC, nonce)), uint8(Inbox.ExecutionState.FAILURE));
        assertEq(uint8(inbox.executionState(SRC, nonce + 1)), uint8(Inbox.ExecutionState.SUCCESS));
        assertEq(uint8(inbox.executionState(OTHER, nonce)), uint8(Inbox.ExecutionState.UNTOUCHED));
    }

    function test_execute_statesAcrossAWordBoundary() public {
        for (uint64 nonce = 126; nonce < 131; ++nonce) {
            _execute(_craftWithNonce(nonce, address(receiver)));
        }
        assertEq(uint8(inbox.executionState(SRC, 125)), uint8(Inbox.ExecutionState.UNTOUCHED));
        for (uint64 nonce = 126; nonce < 131; ++nonce) {
            assertEq(uint8(inbox.executionState(SRC, nonce)), uint8(Inbox.ExecutionState.SUCCESS));
        }
        assertEq(uint8(inbox.executionState(SRC, 131)), uint8(Inbox.ExecutionState.UNTOUCHED));
    }

    // ---------------------------------------------------------------- helpers

    function _craftWithNonce(uint64 nonce, address to) private view returns (bytes memory) {
        return MessageLib.encode(Header(nonce, SRC, alice, DST, to, 0, GAS_LIMIT), _noTokens(), PAYLOAD);
    }

    function _checkPauseBlocksExecution(uint64 lane) private {
        uint8 pauseExecute = inbox.PAUSE_EXECUTE();
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        vm.prank(guardian);
        inbox.pause(lane, pauseExecute);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, lane, pauseExecute));
        inbox.execute(message, proof);

        vm.prank(owner);
        inbox.unpause(lane, pauseExecute);
        inbox.execute(message, proof);
        _assertState(message, Inbox.ExecutionState.SUCCESS);
    }

    function _secondInbox() private returns (Inbox inbox2, CommitteeVerifier verifier2) {
        inbox2 = new Inbox(owner, guardian);
        verifier2 = new CommitteeVerifier(owner, SRC, address(outbox), address(inbox2));
        vm.startPrank(owner);
        verifier2.setValidators(validators, THRESHOLD);
        inbox2.setLane(SRC, verifier2);
        inbox2.setReceiver(SRC, address(receiver), true);
        vm.stopPrank();
    }

    function _withSource(bytes memory message, uint64 source) private pure returns (bytes memory relabeled) {
        relabeled = bytes.concat(message); // a copy
        bytes8 encoded = bytes8(source);
        for (uint256 i; i < 8; ++i) {
            relabeled[9 + i] = encoded[i];
        }
    }
}
