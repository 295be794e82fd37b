// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Inbox} from "../../../src/messaging/Inbox.sol";
import {MessagingFixture} from "../MessagingFixture.sol";
import {MockReceiver} from "../mocks/MockReceiver.sol";
import {MessageReader} from "../utils/MessageReader.sol";
import {Deployment, MessagingHandler} from "./MessagingHandler.sol";
import {RetryProbe} from "./RetryProbe.sol";

/// @notice DESIGN.md §11.2 on one lane under random traffic: no message executed twice, none without
/// being sent, none lost; and conservation on the lock/release token lane.
contract MessagingInvariantTest is MessagingFixture {
    using MessageReader for bytes;

    MessagingHandler internal handler;
    MockReceiver internal flaky;
    RetryProbe internal probe;

    function setUp() public override {
        super.setUp();
        flaky = new MockReceiver();
        probe = new RetryProbe();
        vm.prank(owner);
        inbox.setReceiver(SRC, address(flaky), true);
        Deployment memory deployment = Deployment({
            outbox: outbox,
            inbox: inbox,
            verifier: verifier,
            good: receiver,
            flaky: flaky,
            lockToken: IERC20(address(srcLockToken)),
            sender: alice,
            sourceChainId: SRC,
            destChainId: DST,
            epoch: EPOCH
        });
        handler = new MessagingHandler(deployment, _quorum());
        targetContract(address(handler));
    }

    /// @notice All properties in one campaign, in one pass over the sent messages: forge runs a full
    /// campaign per invariant function, so one function keeps the suite fast; each check has its message.
    function invariant_laneIsSafe() public {
        assertFalse(handler.batchReverted(), string(handler.batchRevertReason()));
        assertFalse(handler.replayAccepted(), "a replay was accepted");
        assertEq(outbox.count(), handler.messageCount(), "the handler saw every MessageSent");

        bytes32[] memory ids = handler.ids();
        uint256 executed;
        for (uint256 nonce; nonce < ids.length; ++nonce) {
            Inbox.ExecutionState state = inbox.executionState(SRC, uint64(nonce));
            bool touched = state != Inbox.ExecutionState.UNTOUCHED;
            assertEq(touched, handler.wasRelayed(ids[nonce]), "state without relay, or relay without state");
            if (touched) ++executed;
            assertLe(receiver.deliveriesOf(ids[nonce]) + flaky.deliveriesOf(ids[nonce]), 1, "delivered twice");
            if (state == Inbox.ExecutionState.FAILURE) _assertRetryable(handler.messageAt(nonce));
        }
        assertEq(executed, handler.relayedCount(), "executed states vs distinct messages relayed");
        _assertNoStateBeyond(uint64(ids.length));
        _assertAllSent(receiver.deliveredIds());
        _assertAllSent(flaky.deliveredIds());
        _assertReleasedNeverExceedsLocked();
    }

    /// @notice Nothing is lost: once the flaky receiver recovers, relaying everything and retrying every
    /// FAILURE delivers every message exactly once and releases exactly what was locked.
    function afterInvariant() public {
        handler.setFlakyReverting(false);
        handler.relayBatch(0, type(uint256).max, type(uint256).max, 0);
        handler.relayBatch(16, type(uint256).max, type(uint256).max, 0);
        handler.relayBatch(32, type(uint256).max, type(uint256).max, 0);
        uint256 count = handler.messageCount();
        for (uint256 i; i < count; ++i) {
            handler.retry(i, 0);
        }
        for (uint256 i; i < count; ++i) {
            bytes memory message = handler.messageAt(i);
            assertEq(uint8(_state(message)), uint8(Inbox.ExecutionState.SUCCESS), "not delivered in the end");
        }
        assertEq(DST_LIQUIDITY - dstLockToken.balanceOf(address(dstLockPool)), handler.lockedSent());
    }

    /// @notice A FAILURE is never silently lost: anyone's retry is accepted (probed, effects discarded).
    function _assertRetryable(bytes memory message) private {
        try probe.probe(inbox, message, message.gasLimit()) {}
        catch (bytes memory outcome) {
            assertEq(outcome, abi.encodeWithSelector(RetryProbe.RetryProbeOutcome.selector, true, ""), "not retryable");
        }
    }

    /// @notice Nothing executed beyond the last nonce the Outbox assigned.
    function _assertNoStateBeyond(uint64 next) private view {
        assertEq(outbox.lane(DST).nextNonce, next);
        assertEq(uint8(inbox.executionState(SRC, next)), uint8(Inbox.ExecutionState.UNTOUCHED), "state past the end");
    }

    /// @notice Conservation on the lock/release lane: DST never releases more than SRC locked.
    function _assertReleasedNeverExceedsLocked() private view {
        uint256 locked = srcLockToken.balanceOf(address(srcLockPool));
        uint256 released = DST_LIQUIDITY - dstLockToken.balanceOf(address(dstLockPool));
        assertEq(locked, handler.lockedSent(), "locked on SRC");
        assertLe(released, locked, "released more than locked");
    }

    function _assertAllSent(bytes32[] memory ids) private view {
        for (uint256 i; i < ids.length; ++i) {
            assertTrue(handler.wasSent(ids[i]), "executed but never sent");
        }
    }
}
