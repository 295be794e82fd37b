// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LatencyInput, LatencyMath} from "./LatencyMath.sol";

/// @title LatencyModel
/// @notice LatencyMath as a contract of its own: the MarginEngine calls it for every position's λ.
/// Keeping the fixed-point math (exp, ln, √) out of the engine keeps the engine under the EIP-170 code
/// size limit, and a revised model is a new deployment rather than an engine upgrade.
contract LatencyModel {
    function typeAndVersion() external pure returns (string memory) {
        return "LatencyModel 1.0.0";
    }

    /// @notice See {LatencyMath.lambda}.
    function lambda(LatencyInput calldata input) external pure returns (uint256, bool) {
        return LatencyMath.lambda(input);
    }

    /// @notice See {LatencyMath.sqrtBaselineHorizon}.
    function sqrtBaselineHorizon(uint256 liquidationThreshold, uint256 liquidationBonus, uint256 volatility)
        external
        pure
        returns (uint256)
    {
        return LatencyMath.sqrtBaselineHorizon(liquidationThreshold, liquidationBonus, volatility);
    }

    /// @notice See {LatencyMath.remoteBonus}.
    function remoteBonus(uint256 liquidationBonus, uint256 volatility, uint256 delay) external pure returns (uint256) {
        return LatencyMath.remoteBonus(liquidationBonus, volatility, delay);
    }
}
