// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inbox} from "../../src/messaging/Inbox.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {MockReceiver} from "./mocks/MockReceiver.sol";

/// @notice Inbox.execute and gas: receivers out of gas, relayers short of gas, return-data bombs.
contract InboxExecuteGasTest is MessagingFixture {
    bytes internal constant PAYLOAD = "gas";
    /// @dev What MockReceiver needs on top of its burn to record a delivery in fresh slots.
    uint256 internal constant RECORD_GAS = 250_000;

    function test_execute_receiverOutOfGas_failsThenRetrySucceedsWithMoreGas() public {
        receiver.setBehavior(MockReceiver.Behavior.NeedGas);
        receiver.setGasNeeded(400_000);
        bytes memory message = _send(address(receiver), PAYLOAD, 300_000);
        _expectStateChanged(
            message, Inbox.ExecutionState.FAILURE, abi.encodeWithSelector(Inbox.InboxReceiverReverted.selector, "")
        );
        _execute(message);
        _assertState(message, Inbox.ExecutionState.FAILURE);

        _expectStateChanged(message, Inbox.ExecutionState.SUCCESS, "");
        inbox.retry(message, uint32(400_000 + RECORD_GAS));
        _assertState(message, Inbox.ExecutionState.SUCCESS);
        assertEq(receiver.deliveriesOf(keccak256(message)), 1);
    }

    function test_execute_receiverBurnsAllItsGas_isAFailure() public {
        receiver.setBehavior(MockReceiver.Behavior.BurnAllGas);
        bytes memory message = _send(PAYLOAD);
        bytes memory proof = _proof(message);
        uint256 before = gasleft();
        inbox.execute(message, proof);
        uint256 used = before - gasleft();
        _assertState(message, Inbox.ExecutionState.FAILURE);
        assertLt(used, GAS_LIMIT + 200_000, "the receiver burns its own limit, nothing more");
    }

    function test_execute_revertsWhen_relayerGivesTooLittleGas() public {
        uint32 gasLimit = 1_000_000;
        bytes memory message = _send(address(receiver), PAYLOAD, gasLimit);
        bytes memory proof = _proof(message);
        // The Inbox asks for the receiver's limit + delivery overhead (30k) + the failure reserve (45k);
        // `available` is whatever was left at the check, so it is read back rather than predicted.
        try inbox.execute{gas: 900_000}(message, proof) {
            assertTrue(false, "executed with too little gas");
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), Inbox.InboxInsufficientGas.selector);
            (uint256 needed, uint256 available) = abi.decode(_arguments(reason), (uint256, uint256));
            assertEq(needed, gasLimit + 30_000 + 45_000);
            assertLt(available, 900_000);
        }
        _assertState(message, Inbox.ExecutionState.UNTOUCHED);
    }

    /// @notice A relayer cannot force a FAILURE with a tight gas budget: at any gas, either the whole
    /// transaction reverts (the message stays UNTOUCHED) or the receiver ran with its full limit.
    function testFuzz_execute_relayerCannotForceAFailure(uint256 gas) public {
        receiver.setBehavior(MockReceiver.Behavior.NeedGas);
        receiver.setGasNeeded(100_000);
        bytes memory message = _send(address(receiver), PAYLOAD, uint32(100_000 + RECORD_GAS));
        bytes memory proof = _proof(message);
        gas = bound(gas, 200_000, 1_500_000);

        try inbox.execute{gas: gas}(message, proof) {
            _assertState(message, Inbox.ExecutionState.SUCCESS);
        } catch (bytes memory reason) {
            // Either the Inbox refused (InboxInsufficientGas) or the transaction ran dry (no data).
            assertTrue(reason.length == 0 || bytes4(reason) == Inbox.InboxInsufficientGas.selector, "reason");
            _assertState(message, Inbox.ExecutionState.UNTOUCHED);
        }
    }

    function test_execute_returnDataBombIsTruncatedTo256Bytes() public {
        receiver.setBehavior(MockReceiver.Behavior.ReturnBomb);
        receiver.setBombSize(100_000);
        bytes memory message = _send(PAYLOAD);
        bytes memory kept; // MockReceiver numbers its first words 1, 2, 3…
        for (uint256 word = 1; word <= 8; ++word) {
            kept = bytes.concat(kept, bytes32(word));
        }
        _expectStateChanged(
            message, Inbox.ExecutionState.FAILURE, abi.encodeWithSelector(Inbox.InboxReceiverReverted.selector, kept)
        );
        _execute(message);
    }

    /// @dev Revert data without its 4-byte selector.
    function _arguments(bytes memory reason) private pure returns (bytes memory arguments) {
        arguments = new bytes(reason.length - 4);
        for (uint256 i; i < arguments.length; ++i) {
            arguments[i] = reason[i + 4];
        }
    }
}
