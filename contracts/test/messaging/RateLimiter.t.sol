// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {RateLimiter} from "../../src/messaging/libraries/RateLimiter.sol";
import {RateLimiterHarness} from "./utils/RateLimiterHarness.sol";

/// @notice RateLimiter: the token bucket's bounds, its wait times and its configuration.
contract RateLimiterTest is Test {
    RateLimiterHarness internal limiter;
    address internal token;

    function setUp() public {
        limiter = new RateLimiterHarness();
        token = limiter.TOKEN();
        vm.warp(1_700_000_000);
    }

    /// @notice Over any sequence of waits and consumptions, the bucket never holds more than its
    /// capacity and never lets more through than capacity + rate · elapsed.
    function testFuzz_consume_neverExceedsCapacity(
        uint128 capacity,
        uint128 rate,
        uint32[8] calldata waits,
        uint256[8] calldata amounts
    ) public {
        capacity = uint128(bound(capacity, 1, type(uint96).max));
        rate = uint128(bound(rate, 0, capacity));
        limiter.configure(true, capacity, rate);
        uint256 start = block.timestamp;
        uint256 consumed;
        for (uint256 i; i < waits.length; ++i) {
            skip(bound(waits[i], 0, 1 days));
            uint256 amount = bound(amounts[i], 0, capacity);
            try limiter.consume(amount) {
                consumed += amount;
            } catch {}
            assertLe(limiter.available(), capacity, "available above capacity");
            assertLe(limiter.bucket().tokens, capacity, "stored tokens above capacity");
            assertLe(consumed, capacity + rate * (block.timestamp - start), "moved more than the bucket allows");
        }
    }

    /// @notice After exactly `minWaitInSeconds` the amount goes through; one second earlier it does not.
    function testFuzz_consume_waitIsExact(uint128 capacity, uint128 rate, uint256 first, uint256 second) public {
        capacity = uint128(bound(capacity, 2, type(uint96).max));
        rate = uint128(bound(rate, 1, capacity));
        first = bound(first, 1, capacity);
        limiter.configure(true, capacity, rate);
        limiter.consume(first);
        uint256 left = capacity - first;
        second = bound(second, left + 1 > capacity ? capacity : left + 1, capacity);
        vm.assume(second > left);

        uint256 wait = (second - left + rate - 1) / rate;
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitReached.selector, token, wait, left));
        limiter.consume(second);

        if (wait > 1) {
            skip(wait - 1);
            uint256 nowAvailable = left + (wait - 1) * rate;
            vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitReached.selector, token, 1, nowAvailable));
            limiter.consume(second);
            skip(1);
        } else {
            skip(wait);
        }
        limiter.consume(second);
    }

    function test_consume_reportsWaitAndAvailable() public {
        limiter.configure(true, 100, 3);
        limiter.consume(90);
        // 10 available, 50 requested: 40 more at 3 per second is 13.33, rounded up to 14.
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitReached.selector, token, 14, 10));
        limiter.consume(50);
    }

    function testFuzz_consume_disabledNeverBlocks(uint256 amount, uint32 wait) public {
        limiter.configure(false, 0, 0);
        skip(wait);
        limiter.consume(amount);
        limiter.consume(amount);
        assertEq(limiter.available(), type(uint256).max);
    }

    function test_consume_zeroNeverBlocks() public {
        limiter.configure(true, 10, 1);
        limiter.consume(10);
        limiter.consume(0);
    }

    function test_consume_revertsWhen_overCapacity() public {
        limiter.configure(true, 10, 1);
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitOverCapacity.selector, token, 10, 11));
        limiter.consume(11);
    }

    function test_consume_zeroRateNeverRefills() public {
        limiter.configure(true, 10, 0);
        limiter.consume(10);
        skip(365 days);
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitReached.selector, token, type(uint256).max, 0));
        limiter.consume(1);
    }

    function test_consume_refillStopsAtCapacity() public {
        limiter.configure(true, 10, 5);
        limiter.consume(10);
        skip(100);
        assertEq(limiter.available(), 10);
    }

    function test_configure_startsFull() public {
        limiter.configure(true, 10, 1);
        limiter.consume(10);
        limiter.configure(true, 20, 1);
        assertEq(limiter.available(), 20);
    }

    function test_configure_revertsWhen_capacityZero() public {
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitInvalidConfig.selector, 0, 0));
        limiter.configure(true, 0, 0);
    }

    function test_configure_revertsWhen_rateAboveCapacity() public {
        vm.expectRevert(abi.encodeWithSelector(RateLimiter.RateLimitInvalidConfig.selector, 10, 11));
        limiter.configure(true, 10, 11);
    }
}
