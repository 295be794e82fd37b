// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "../../../src/oracles/interfaces/AggregatorV3Interface.sol";

/// @title MockAggregator
/// @notice A price the test sets directly, with the age it chooses: the engine's tests are about how
/// it treats prices, PriceFeed's own tests about how reports become prices.
contract MockAggregator is AggregatorV3Interface {
    uint8 public immutable decimals;
    int256 private _answer;
    uint256 private _updatedAt;
    uint80 private _round;

    constructor(uint8 decimals_, int256 answer) {
        decimals = decimals_;
        set(answer, block.timestamp);
    }

    function set(int256 answer, uint256 updatedAt) public {
        _answer = answer;
        _updatedAt = updatedAt;
        ++_round;
    }

    function description() external pure returns (string memory) {
        return "mock";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80) external view returns (uint80, int256, uint256, uint256, uint80) {
        return (_round, _answer, _updatedAt, _updatedAt, _round);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (_round, _answer, _updatedAt, _updatedAt, _round);
    }
}
