// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RateLimiter} from "../../../src/messaging/libraries/RateLimiter.sol";

/// @notice One RateLimiter bucket behind external functions.
contract RateLimiterHarness {
    using RateLimiter for RateLimiter.Bucket;

    address public constant TOKEN = address(0x7070);
    RateLimiter.Bucket private _bucket;

    function configure(bool enabled, uint128 capacity, uint128 rate) external {
        _bucket.configure(enabled, capacity, rate);
    }

    function consume(uint256 amount) external {
        _bucket.consume(amount, TOKEN);
    }

    function available() external view returns (uint256) {
        return _bucket.available();
    }

    function bucket() external view returns (RateLimiter.Bucket memory) {
        return _bucket;
    }
}
