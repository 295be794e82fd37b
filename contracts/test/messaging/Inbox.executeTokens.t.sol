// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {TokenAmount} from "../../src/messaging/Outbox.sol";
import {DeliveredToken, Delivery} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {MessageLib, TokenTransfer} from "../../src/messaging/libraries/MessageLib.sol";
import {RateLimiter} from "../../src/messaging/libraries/RateLimiter.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {MockReceiver} from "./mocks/MockReceiver.sol";

/// @notice Inbox.execute with tokens: programmable token transfers, undo on failure, inbound limits.
contract InboxExecuteTokensTest is MessagingFixture {
    bytes internal constant PAYLOAD = "supply as collateral";

    function test_execute_releasesAndMintsToTheReceiverBeforeTheCall() public {
        bytes memory message = _sendBoth(10e18, 5e18);
        _execute(message);

        _assertState(message, Inbox.ExecutionState.SUCCESS);
        assertEq(dstLockToken.balanceOf(address(receiver)), 10e18);
        assertEq(dstBurnToken.balanceOf(address(receiver)), 5e18);
        assertEq(dstLockToken.balanceOf(address(dstLockPool)), DST_LIQUIDITY - 10e18);
        assertEq(dstBurnToken.totalSupply(), 5e18);

        Delivery memory delivery = receiver.lastDelivery();
        assertEq(delivery.tokens.length, 2);
        _assertDelivered(delivery.tokens[0], address(dstLockToken), 10e18);
        _assertDelivered(delivery.tokens[1], address(dstBurnToken), 5e18);
        uint256[] memory balances = receiver.balancesAtCall();
        assertEq(balances[0], 10e18, "released before the call");
        assertEq(balances[1], 5e18, "minted before the call");
    }

    function test_execute_receiverReverts_undoesTheTokenRelease() public {
        receiver.setBehavior(MockReceiver.Behavior.Revert);
        bytes memory message = _sendBoth(10e18, 5e18);
        _execute(message);

        _assertState(message, Inbox.ExecutionState.FAILURE);
        assertEq(dstLockToken.balanceOf(address(receiver)), 0);
        assertEq(dstBurnToken.balanceOf(address(receiver)), 0);
        assertEq(dstLockToken.balanceOf(address(dstLockPool)), DST_LIQUIDITY);
        assertEq(dstBurnToken.totalSupply(), 0);

        receiver.setBehavior(MockReceiver.Behavior.Accept);
        inbox.retry(message, GAS_LIMIT);
        assertEq(dstLockToken.balanceOf(address(receiver)), 10e18);
        assertEq(dstBurnToken.balanceOf(address(receiver)), 5e18);
    }

    function test_execute_tokenOnlyTransferNeedsNoAllowlist() public {
        address eoa = makeAddr("bob");
        bytes memory message = _sendWithTokens(eoa, "", GAS_LIMIT, _tokens(address(srcLockToken), 3e18));
        _execute(message);
        _assertState(message, Inbox.ExecutionState.SUCCESS);
        assertEq(dstLockToken.balanceOf(eoa), 3e18);
    }

    function test_execute_unsupportedToken_isAFailure() public {
        TokenTransfer[] memory tokens = new TokenTransfer[](1);
        tokens[0] = TokenTransfer(address(0xDEAD), 1e18, MessageLib.MODE_LOCK);
        bytes memory message = _craft(tokens, PAYLOAD);
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            abi.encodeWithSelector(Inbox.InboxUnsupportedToken.selector, SRC, address(0xDEAD))
        );
        _execute(message);
    }

    function test_execute_poolOutOfLiquidity_isAFailureUntilRefilled() public {
        bytes memory message =
            _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(srcLockToken), 1e18));
        vm.prank(address(dstLockPool));
        dstLockToken.transfer(stranger, DST_LIQUIDITY);
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientBalance.selector, address(dstLockPool), uint256(0), uint256(1e18)
            )
        );
        _execute(message);

        vm.prank(owner);
        dstLockToken.mint(address(dstLockPool), 1e18);
        inbox.retry(message, GAS_LIMIT);
        _assertState(message, Inbox.ExecutionState.SUCCESS);
    }

    function test_execute_inboundRateLimit_failsThenRetrySucceedsAfterTheWait() public {
        vm.prank(owner);
        inbox.setRateLimit(SRC, address(srcLockToken), true, 10e18, 1e17);
        _execute(_sendLocked(8e18));
        bytes memory message = _sendLocked(5e18);
        // 2 available, 5 requested: 3 more at 0.1 per second is 30 seconds.
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            abi.encodeWithSelector(RateLimiter.RateLimitReached.selector, address(srcLockToken), 30, 2e18)
        );
        _execute(message);
        assertEq(inbox.availableToReceive(SRC, address(srcLockToken)), 2e18, "a failure consumes nothing");

        skip(30);
        inbox.retry(message, GAS_LIMIT);
        _assertState(message, Inbox.ExecutionState.SUCCESS);
        assertEq(dstLockToken.balanceOf(address(receiver)), 13e18);
    }

    function test_execute_inboundOverCapacity_isAFailure() public {
        vm.prank(owner);
        inbox.setRateLimit(SRC, address(srcBurnToken), true, 10e18, 1e17);
        bytes memory message =
            _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(srcBurnToken), 11e18));
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            abi.encodeWithSelector(RateLimiter.RateLimitOverCapacity.selector, address(srcBurnToken), 10e18, 11e18)
        );
        _execute(message);
    }

    // ---------------------------------------------------------------- helpers

    function _sendBoth(uint256 locked, uint256 burned) private returns (bytes memory) {
        TokenAmount[] memory tokens = _tokens(address(srcLockToken), locked, address(srcBurnToken), burned);
        return _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, tokens);
    }

    function _sendLocked(uint256 amount) private returns (bytes memory) {
        return _sendWithTokens(address(receiver), PAYLOAD, GAS_LIMIT, _tokens(address(srcLockToken), amount));
    }

    function _assertDelivered(DeliveredToken memory delivered, address token, uint256 amount) private pure {
        assertEq(delivered.token, token);
        assertEq(delivered.amount, amount);
    }
}
