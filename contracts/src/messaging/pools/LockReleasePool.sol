// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ITokenPool} from "../interfaces/ITokenPool.sol";
import {MessageLib} from "../libraries/MessageLib.sol";
import {TokenPool} from "./TokenPool.sol";

/// @title LockReleasePool
/// @notice Holds a chain's native token while it is represented elsewhere; releases it when a verified
/// message says it came back.
contract LockReleasePool is TokenPool {
    using SafeERC20 for IERC20;

    constructor(IERC20 token_, address outbox_, address inbox_) TokenPool(token_, outbox_, inbox_) {}

    /// @inheritdoc ITokenPool
    function mode() external pure returns (uint8) {
        return MessageLib.MODE_LOCK;
    }


    function _release(address to, uint256 amount) internal override {
        _token.safeTransfer(to, amount);
    }
}
