// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inbox} from "../../src/messaging/Inbox.sol";
import {IVerifier} from "../../src/messaging/interfaces/IVerifier.sol";
import {AggregationVerifier} from "../../src/messaging/verifiers/AggregationVerifier.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {FalseVerifier, RevertingVerifier} from "./mocks/MockVerifiers.sol";
import {CommitteeProofs} from "./utils/CommitteeProofs.sol";

/// @notice AggregationVerifier: 2-of-3 over two independent committees and one verifier that always fails.
contract AggregationVerifierVerifyTest is MessagingFixture {
    CommitteeVerifier internal committeeB;
    RevertingVerifier internal broken;
    AggregationVerifier internal aggregation;
    uint256[] internal keysB;

    bytes internal message;

    function setUp() public override {
        super.setUp();
        keysB = _committeeKeys("validator-b", 3);
        committeeB = new CommitteeVerifier(owner, SRC, address(outbox), address(inbox));
        vm.prank(owner);
        committeeB.setValidators(CommitteeProofs.addresses(keysB), 2);
        broken = new RevertingVerifier();
        aggregation = new AggregationVerifier(_verifiers(verifier, committeeB, broken), 2);
        vm.prank(owner);
        inbox.setLane(SRC, aggregation);
        message = _send("defense in depth");
    }

    function test_typeAndVersionAndConfig() public view {
        assertEq(aggregation.typeAndVersion(), "AggregationVerifier 1.0.0");
        assertEq(aggregation.threshold(), 2);
        assertEq(aggregation.verifiers().length, 3);
    }

    function test_verify_acceptsTwoOfThreeThroughTheInbox() public {
        inbox.execute(message, _proofs(_proof(message), _proofB(), ""));
        _assertState(message, Inbox.ExecutionState.SUCCESS);
    }

    function test_verify_stopsOnceTheThresholdIsReached() public {
        // The broken verifier gets a proof but is never asked: two already accepted.
        assertTrue(aggregation.verify(message, _proofs(_proof(message), _proofB(), "anything")));
    }

    function test_verify_revertsWhen_belowThreshold_carryingTheFirstFailure() public {
        bytes memory proofs = _proofs(_proof(message), "", "anything");
        vm.expectRevert(
            abi.encodeWithSelector(
                AggregationVerifier.AggregationBelowThreshold.selector,
                1,
                2,
                abi.encodeWithSelector(RevertingVerifier.MockVerifierRejected.selector)
            )
        );
        aggregation.verify(message, proofs);
    }

    function test_verify_revertsWhen_aCommitteeRejects_carryingItsReason() public {
        bytes32 id = keccak256(message);
        bytes memory withoutSignatures = CommitteeProofs.encode(EPOCH, 1, id, new bytes32[](0), "");
        bytes memory proofs = _proofs(withoutSignatures, _proofB(), "");
        vm.expectRevert(
            abi.encodeWithSelector(
                AggregationVerifier.AggregationBelowThreshold.selector,
                1,
                2,
                abi.encodeWithSelector(CommitteeVerifier.VerifierRootNotProven.selector, id)
            )
        );
        aggregation.verify(message, proofs);
    }

    function test_verify_revertsWhen_nothingIsAttempted() public {
        bytes memory proofs = _proofs("", "", "");
        vm.expectRevert(abi.encodeWithSelector(AggregationVerifier.AggregationBelowThreshold.selector, 0, 2, ""));
        aggregation.verify(message, proofs);
    }

    function test_verify_aSubVerifierAnsweringFalseDoesNotCount() public {
        AggregationVerifier withFalse =
            new AggregationVerifier(_verifiers(verifier, new FalseVerifier(), committeeB), 2);
        bytes memory proofs = _proofs(_proof(message), "ignored", "");
        vm.expectRevert(abi.encodeWithSelector(AggregationVerifier.AggregationBelowThreshold.selector, 1, 2, ""));
        withFalse.verify(message, proofs);
    }

    /// @notice A sub-verifier without code (destroyed, misconfigured) cannot be called safely, but an
    /// empty sub-proof skips it, so the other two still carry the message.
    function test_verify_aDeadSubVerifierCanBeSkipped() public {
        AggregationVerifier withDead =
            new AggregationVerifier(_verifiers(IVerifier(makeAddr("no code")), verifier, committeeB), 2);
        assertTrue(withDead.verify(message, _proofs("", _proof(message), _proofB())));
    }

    function test_verify_revertsWhen_proofCountDiffers() public {
        bytes[] memory two = new bytes[](2);
        vm.expectRevert(abi.encodeWithSelector(AggregationVerifier.AggregationWrongProofCount.selector, 2, 3));
        aggregation.verify(message, abi.encode(two));
    }

    function test_constructor_revertsWhen_thresholdZero() public {
        IVerifier[] memory verifiers = _verifiers(verifier, committeeB, broken);
        vm.expectRevert(abi.encodeWithSelector(AggregationVerifier.AggregationInvalidConfig.selector, 3, 0));
        new AggregationVerifier(verifiers, 0);
    }

    function test_constructor_revertsWhen_thresholdAboveCount() public {
        IVerifier[] memory verifiers = _verifiers(verifier, committeeB, broken);
        vm.expectRevert(abi.encodeWithSelector(AggregationVerifier.AggregationInvalidConfig.selector, 3, 4));
        new AggregationVerifier(verifiers, 4);
    }

    function test_constructor_revertsWhen_noVerifiers() public {
        vm.expectRevert(abi.encodeWithSelector(AggregationVerifier.AggregationInvalidConfig.selector, 0, 1));
        new AggregationVerifier(new IVerifier[](0), 1);
    }

    // ---------------------------------------------------------------- helpers

    function _proofB() private view returns (bytes memory) {
        bytes32 id = keccak256(message);
        bytes memory signatures = CommitteeProofs.sign(committeeB.batchDigest(EPOCH, id, 1), keysB);
        return CommitteeProofs.encode(EPOCH, 1, id, new bytes32[](0), signatures);
    }

    function _proofs(bytes memory a, bytes memory b, bytes memory c) private pure returns (bytes memory) {
        bytes[] memory subProofs = new bytes[](3);
        (subProofs[0], subProofs[1], subProofs[2]) = (a, b, c);
        return abi.encode(subProofs);
    }

    function _verifiers(IVerifier a, IVerifier b, IVerifier c) private pure returns (IVerifier[] memory verifiers) {
        verifiers = new IVerifier[](3);
        (verifiers[0], verifiers[1], verifiers[2]) = (a, b, c);
    }
}
