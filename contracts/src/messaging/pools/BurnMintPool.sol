// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ITokenPool} from "../interfaces/ITokenPool.sol";
import {MessageLib} from "../libraries/MessageLib.sol";
import {TokenPool} from "./TokenPool.sol";
import {BurnMintERC20} from "../../tokens/BurnMintERC20.sol";

/// @title BurnMintPool
/// @notice For tokens issued on every chain (USDC-like) and for wrapped representations: burns what
/// leaves, mints what arrives, so no chain holds a honeypot of locked supply.
contract BurnMintPool is TokenPool {
    constructor(BurnMintERC20 token_, address outbox_, address inbox_) TokenPool(token_, outbox_, inbox_) {}

    /// @inheritdoc ITokenPool
    function mode() external pure returns (uint8) {
        return MessageLib.MODE_BURN;
    }

    /// @dev Burns straight from the sender (it approved this pool): our own token moves exact amounts,
    /// so there is no transfer in, balance check and burn — a third of the gas.
    function _take(address from, uint256 amount) internal override returns (uint256) {
        BurnMintERC20(address(_token)).burnFrom(from, amount);
        return amount;
    }

    function _release(address to, uint256 amount) internal override {
        BurnMintERC20(address(_token)).mint(to, amount);
    }
}
