// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Outbox} from "../../src/messaging/Outbox.sol";
import {RateLimiter} from "../../src/messaging/libraries/RateLimiter.sol";
import {MessagingFixture} from "./MessagingFixture.sol";

/// @notice The Outbox's outbound rate limit per (lane, token).
contract OutboxRateLimitTest is MessagingFixture {
    uint128 internal constant CAPACITY = 100e18;
    uint128 internal constant RATE = 1e18; // per second

    function setUp() public override {
        super.setUp();
        _onSource();
        vm.prank(owner);
        outbox.setRateLimit(DST, address(srcLockToken), true, CAPACITY, RATE);
    }

    function test_setRateLimit_startsFullAndEmits() public {
        vm.expectEmit(address(outbox));
        emit Outbox.RateLimitSet(DST, address(srcBurnToken), true, 10e18, 1e18);
        vm.prank(owner);
        outbox.setRateLimit(DST, address(srcBurnToken), true, 10e18, 1e18);
        assertEq(outbox.availableToSend(DST, address(srcBurnToken)), 10e18);
        assertTrue(outbox.rateLimit(DST, address(srcBurnToken)).enabled);
    }

    function test_setRateLimit_revertsWhen_invalidConfig() public {
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitInvalidConfig.selector, 10, 11));
        vm.prank(owner);
        outbox.setRateLimit(DST, address(srcLockToken), true, 10, 11);
    }

    function test_sendWithTokens_consumesTheOutboundLimit() public {
        _sendLocked(30e18);
        assertEq(outbox.availableToSend(DST, address(srcLockToken)), 70e18);
    }

    function test_sendWithTokens_revertsWhen_rateLimited_withExactWaitAndAvailable() public {
        _sendLocked(80e18);
        // 20 available, 50 requested: 30 more at 1 per second.
        _expectRateLimited(30, 20e18);
        _sendLocked(50e18);
    }

    function test_sendWithTokens_succeedsOnceTheWaitIsOver() public {
        _sendLocked(80e18);
        skip(29);
        _expectRateLimited(1, 49e18);
        _sendLocked(50e18);
        skip(1);
        _sendLocked(50e18);
        assertEq(outbox.availableToSend(DST, address(srcLockToken)), 0);
    }

    function test_sendWithTokens_revertsWhen_overCapacity() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                RateLimiter.RateLimitOverCapacity.selector, address(srcLockToken), CAPACITY, uint256(CAPACITY) + 1
            )
        );
        _sendLocked(uint256(CAPACITY) + 1);
    }

    function test_sendWithTokens_limitIsPerLaneAndToken() public {
        vm.prank(owner);
        outbox.setLane(OTHER, true);
        _sendLocked(CAPACITY);
        vm.startPrank(alice);
        outbox.sendWithTokens(OTHER, address(receiver), "", GAS_LIMIT, 0, _tokens(address(srcLockToken), CAPACITY));
        outbox.sendWithTokens(DST, address(receiver), "", GAS_LIMIT, 0, _tokens(address(srcBurnToken), CAPACITY));
        vm.stopPrank();
        assertEq(outbox.availableToSend(DST, address(srcLockToken)), 0);
        assertEq(outbox.availableToSend(OTHER, address(srcLockToken)), type(uint256).max, "no limit on OTHER");
    }

    function _sendLocked(uint256 amount) private {
        vm.prank(alice);
        outbox.sendWithTokens(DST, address(receiver), "", GAS_LIMIT, 0, _tokens(address(srcLockToken), amount));
    }

    function _expectRateLimited(uint256 wait, uint256 available) private {
        vm.expectRevert(
            abi.encodeWithSelector(RateLimiter.RateLimitReached.selector, address(srcLockToken), wait, available)
        );
    }
}
