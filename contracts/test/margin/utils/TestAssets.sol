// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AssetParams} from "../../../src/margin/MarginEngine.sol";
import {AggregatorV3Interface} from "../../../src/oracles/interfaces/AggregatorV3Interface.sol";

/// @title TestAssets
/// @notice The risk parameters the margin tests list their assets with (DESIGN §6's WETH; a WBTC),
/// so every suite prices the same collateral the same way. Suites adjust fields they test.
library TestAssets {
    function weth(AggregatorV3Interface feed) internal pure returns (AssetParams memory) {
        return AssetParams({
            feed: feed,
            decimals: 18,
            heartbeat: 3600,
            ltv: 0.8e18,
            liquidationThreshold: 0.83e18,
            liquidationBonus: 1.05e18,
            volatility: 0.7e18,
            theta: 0.005e18,
            conf: 0,
            unwindPerDay: 0,
            supplyCap: 0,
            enabled: true
        });
    }

    function wbtc(AggregatorV3Interface feed) internal pure returns (AssetParams memory) {
        return AssetParams({
            feed: feed,
            decimals: 8,
            heartbeat: 3600,
            ltv: 0.73e18,
            liquidationThreshold: 0.78e18,
            liquidationBonus: 1.07e18,
            volatility: 0.6e18,
            theta: 0.005e18,
            conf: 0,
            unwindPerDay: 0,
            supplyCap: 0,
            enabled: true
        });
    }
}
