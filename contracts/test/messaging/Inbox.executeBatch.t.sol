// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inbox} from "../../src/messaging/Inbox.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {MockReceiver} from "./mocks/MockReceiver.sol";
import {BatchTree} from "./utils/BatchTree.sol";

/// @notice Inbox.executeBatch: one signature set per batch, skipping what another relayer executed.
contract InboxExecuteBatchTest is MessagingFixture {
    /// @dev epoch 4 + leafCount 4 + root 32 + siblingCount 1
    uint256 internal constant PROOF_HEADER_BYTES = 41;

    function test_executeBatch_ofEight_signedOnce() public {
        _checkBatch(8);
    }

    function test_executeBatch_ofThirtyTwo_signedOnce() public {
        _checkBatch(32);
    }

    /// @notice Odd sizes exercise the promoted nodes.
    function test_executeBatch_ofOddSizes() public {
        _checkBatch(1);
        _checkBatch(3);
        _checkBatch(7);
    }

    function test_executeBatch_skipsAlreadyExecutedMessages() public {
        bytes[] memory messages = _sendMany(8);
        _execute(messages[3]); // another relayer, with a batch-of-one proof
        vm.expectEmit(address(inbox));
        emit Inbox.ExecutionSkipped(SRC, 3, keccak256(messages[3]), Inbox.ExecutionState.SUCCESS);
        inbox.executeBatch(messages, _batchProofs(messages));

        for (uint256 i; i < messages.length; ++i) {
            _assertState(messages[i], Inbox.ExecutionState.SUCCESS);
            assertEq(receiver.deliveriesOf(keccak256(messages[i])), 1, "each delivered once");
        }
    }

    /// @notice The skipped first message still carries the signatures the others rely on.
    function test_executeBatch_worksWhenTheFirstMessageWasAlreadyExecuted() public {
        bytes[] memory messages = _sendMany(8);
        _execute(messages[0]); // proves a batch of one: the 8-message root is not cached
        vm.expectEmit(address(inbox));
        emit Inbox.ExecutionSkipped(SRC, 0, keccak256(messages[0]), Inbox.ExecutionState.SUCCESS);
        inbox.executeBatch(messages, _batchProofs(messages));
        assertEq(receiver.totalDeliveries(), 8);
    }

    function test_executeBatch_skipsADuplicateInTheSameBatch() public {
        bytes[] memory messages = _sendMany(2);
        bytes[] memory proofs = _batchProofs(messages);
        bytes[] memory twice = new bytes[](3);
        bytes[] memory twiceProofs = new bytes[](3);
        (twice[0], twice[1], twice[2]) = (messages[0], messages[1], messages[0]);
        (twiceProofs[0], twiceProofs[1], twiceProofs[2]) = (proofs[0], proofs[1], proofs[0]);
        inbox.executeBatch(twice, twiceProofs);
        assertEq(receiver.deliveriesOf(keccak256(messages[0])), 1);
    }

    function test_executeBatch_aSubsetInAnyOrder() public {
        bytes[] memory messages = _sendMany(8);
        bytes32[] memory ids = _ids(messages);
        uint256[3] memory picked = [uint256(6), 1, 4];
        bytes[] memory subset = new bytes[](3);
        bytes[] memory proofs = new bytes[](3);
        for (uint256 i; i < 3; ++i) {
            subset[i] = messages[picked[i]];
            proofs[i] = _batchProof(ids, picked[i], i == 0);
        }
        inbox.executeBatch(subset, proofs);
        assertEq(receiver.totalDeliveries(), 3);
        _assertState(messages[0], Inbox.ExecutionState.UNTOUCHED);
        _assertState(messages[4], Inbox.ExecutionState.SUCCESS);
    }

    function test_executeBatch_aFailureDoesNotBlockTheRest() public {
        bytes[] memory messages = new bytes[](3);
        messages[0] = _send("first");
        messages[1] = _send(address(new MockReceiver()), "not allowlisted", GAS_LIMIT);
        messages[2] = _send("third");
        inbox.executeBatch(messages, _batchProofs(messages));
        _assertState(messages[0], Inbox.ExecutionState.SUCCESS);
        _assertState(messages[1], Inbox.ExecutionState.FAILURE);
        _assertState(messages[2], Inbox.ExecutionState.SUCCESS);
    }

    function test_executeBatch_revertsWhen_noProofCarriesSignatures() public {
        bytes[] memory messages = _sendMany(4);
        bytes32[] memory ids = _ids(messages);
        bytes[] memory proofs = new bytes[](4);
        for (uint256 i; i < 4; ++i) {
            proofs[i] = _batchProof(ids, i, false);
        }
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierRootNotProven.selector, BatchTree.root(ids)));
        inbox.executeBatch(messages, proofs);
    }

    function test_executeBatch_revertsWhen_lengthsDiffer() public {
        bytes[] memory messages = _sendMany(2);
        vm.expectRevert(abi.encodeWithSelector(Inbox.InboxLengthMismatch.selector, 2, 1));
        inbox.executeBatch(messages, new bytes[](1));
    }

    function _checkBatch(uint256 size) private {
        bytes[] memory messages = _sendMany(size);
        bytes[] memory proofs = _batchProofs(messages);
        uint256 siblingsMax = _ceilLog2(size);
        for (uint256 i = 1; i < size; ++i) {
            assertLe(proofs[i].length, PROOF_HEADER_BYTES + 32 * siblingsMax, "no signatures after the first");
        }
        uint256 delivered = receiver.totalDeliveries();
        inbox.executeBatch(messages, proofs);
        for (uint256 i; i < size; ++i) {
            _assertState(messages[i], Inbox.ExecutionState.SUCCESS);
        }
        assertEq(receiver.totalDeliveries(), delivered + size);
    }

    function _ceilLog2(uint256 x) private pure returns (uint256 result) {
        while ((uint256(1) << result) < x) ++result;
    }
}
