// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ChainProbe
/// @notice The devnet's smoke contract. Deploying it proves a chain accepts deployments; pinging it gives
/// tests and benchmarks the cheapest transaction with an observable log (reorg tests look for that log).
contract ChainProbe {
    /// @notice A ping landed; `count` numbers pings so that a test can tell them apart.
    event Pinged(address indexed sender, uint256 indexed count, bytes32 tag);

    uint256 private _pings;

    /// @notice Records a ping and emits {Pinged}.
    /// @param tag Free-form label chosen by the caller.
    /// @return count The number of pings so far, this one included.
    function ping(bytes32 tag) external returns (uint256 count) {
        // Cannot overflow: one increment per transaction.
        unchecked {
            count = ++_pings;
        }
        emit Pinged(msg.sender, count, tag);
    }

    /// @notice The number of pings so far.
    function pings() external view returns (uint256) {
        return _pings;
    }
}
