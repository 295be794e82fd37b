// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A token that signals failure by returning false instead of reverting, and moves nothing.
contract ReturnsFalseToken {
    mapping(address account => uint256) public balanceOf;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address, uint256) external pure returns (bool) {
        return true;
    }

    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }

    function transferFrom(address, address, uint256) external pure returns (bool) {
        return false;
    }
}
