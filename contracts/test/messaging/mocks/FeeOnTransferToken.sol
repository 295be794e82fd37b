// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Burns `feeBps` of every transfer (not of mints or burns), like deflationary tokens do.
contract FeeOnTransferToken is ERC20 {
    uint256 public constant BPS = 10_000;
    uint256 public feeBps;

    constructor(uint256 feeBps_) ERC20("Fee on transfer", "FOT") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFeeBps(uint256 feeBps_) external {
        feeBps = feeBps_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value * feeBps / BPS;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
