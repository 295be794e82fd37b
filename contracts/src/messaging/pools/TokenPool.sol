// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ITokenPool} from "../interfaces/ITokenPool.sol";

/// @title TokenPool
/// @notice What both pool kinds share: the token, the two authorized callers, and pulling tokens in
/// while crediting only what actually arrived (fee-on-transfer tokens, tokens without return values).
abstract contract TokenPool is ITokenPool {
    using SafeERC20 for IERC20;

    IERC20 internal immutable _token;
    address public immutable outbox;
    address public immutable inbox;

    constructor(IERC20 token_, address outbox_, address inbox_) {
        _token = token_;
        outbox = outbox_;
        inbox = inbox_;
    }

    /// @inheritdoc ITokenPool
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc ITokenPool
    function lockOrBurn(address from, uint256 amount) external returns (uint256 received) {
        if (msg.sender != outbox) revert TokenPoolUnauthorized(msg.sender);
        received = _take(from, amount);
        if (received == 0) revert TokenPoolNothingReceived(address(_token));
    }

    /// @inheritdoc ITokenPool
    function releaseOrMint(address to, uint256 amount) external {
        if (msg.sender != inbox) revert TokenPoolUnauthorized(msg.sender);
        _release(to, amount);
    }

    /// @dev Pulls `amount` from `from` and returns what actually arrived (balance delta), so
    /// fee-on-transfer tokens and tokens without return values are credited right.
    function _take(address from, uint256 amount) internal virtual returns (uint256 received) {
        uint256 before = _token.balanceOf(address(this));
        _token.safeTransferFrom(from, address(this), amount);
        received = _token.balanceOf(address(this)) - before;
    }

    function _release(address to, uint256 amount) internal virtual;
}
