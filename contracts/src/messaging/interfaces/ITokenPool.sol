// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ITokenPool
/// @notice Moves one token in and out of the messaging layer on one chain. The Outbox is the only
/// caller of {lockOrBurn}, the Inbox the only caller of {releaseOrMint}.
interface ITokenPool {
    /// @notice The caller is not the Outbox (lockOrBurn) or the Inbox (releaseOrMint).
    error TokenPoolUnauthorized(address caller);
    /// @notice Nothing arrived: a transfer that moved no tokens cannot be bridged.
    error TokenPoolNothingReceived(address token);

    /// @notice Takes `amount` from `from` (who approved this pool) and locks or burns it.
    /// @return received What actually arrived: less than `amount` for fee-on-transfer tokens.
    function lockOrBurn(address from, uint256 amount) external returns (uint256 received);

    /// @notice Gives `amount` to `to`, from the locked balance or by minting.
    function releaseOrMint(address to, uint256 amount) external;

    /// @notice The token on this chain.
    function token() external view returns (address);

    /// @notice MessageLib.MODE_LOCK for lock/release pools, MessageLib.MODE_BURN for burn/mint pools.
    function mode() external view returns (uint8);
}
