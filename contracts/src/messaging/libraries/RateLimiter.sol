// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title RateLimiter
/// @notice A token bucket: `capacity` tokens at most, refilled at `rate` tokens per second. Used per
/// (lane, token), outbound in the Outbox and inbound in the Inbox, so a compromised lane can move at
/// most capacity + rate·t in any window t.
library RateLimiter {
    struct Bucket {
        uint128 tokens;
        uint32 lastUpdated;
        bool enabled;
        uint128 capacity;
        uint128 rate;
    }

    /// @notice `token` is rate limited: `available` can move now; the requested amount fits in
    /// `minWaitInSeconds`. Retry then, or split the transfer.
    error RateLimitReached(address token, uint256 minWaitInSeconds, uint256 available);
    /// @notice `requested` exceeds what the bucket can ever hold: split it below `capacity`.
    error RateLimitOverCapacity(address token, uint256 capacity, uint256 requested);
    /// @notice An enabled limiter needs rate ≤ capacity and capacity > 0.
    error RateLimitInvalidConfig(uint256 capacity, uint256 rate);

    /// @notice Takes `amount` from the bucket or reverts with what the caller should do.
    function consume(Bucket storage bucket, uint256 amount, address token) internal {
        if (!bucket.enabled || amount == 0) return;
        uint256 capacity = bucket.capacity;
        if (amount > capacity) revert RateLimitOverCapacity(token, capacity, amount);
        uint256 current = _refilled(bucket.tokens, capacity, bucket.rate, bucket.lastUpdated);
        if (amount > current) {
            uint256 rate = bucket.rate;
            // Rounded up: after this wait the amount is available.
            uint256 wait = rate == 0 ? type(uint256).max : (amount - current + rate - 1) / rate;
            revert RateLimitReached(token, wait, current);
        }
        // Cannot underflow: amount <= current <= capacity < 2^128, so the cast cannot truncate either.
        unchecked {
            bucket.tokens = uint128(current - amount);
        }
        bucket.lastUpdated = uint32(block.timestamp);
    }

    /// @notice Sets the limits; an enabled bucket starts full.
    function configure(Bucket storage bucket, bool enabled, uint128 capacity, uint128 rate) internal {
        if (enabled && (capacity == 0 || rate > capacity)) revert RateLimitInvalidConfig(capacity, rate);
        bucket.enabled = enabled;
        bucket.capacity = capacity;
        bucket.rate = rate;
        bucket.tokens = capacity;
        bucket.lastUpdated = uint32(block.timestamp);
    }

    /// @notice Tokens available right now.
    function available(Bucket storage bucket) internal view returns (uint256) {
        if (!bucket.enabled) return type(uint256).max;
        return _refilled(bucket.tokens, bucket.capacity, bucket.rate, bucket.lastUpdated);
    }

    function _refilled(uint256 tokens, uint256 capacity, uint256 rate, uint256 lastUpdated)
        private
        view
        returns (uint256)
    {
        uint256 refilled = tokens + (block.timestamp - lastUpdated) * rate;
        return refilled < capacity ? refilled : capacity;
    }
}
