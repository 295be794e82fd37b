// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {DeliveredToken, Delivery, IMessageReceiver} from "../../../src/messaging/interfaces/IMessageReceiver.sol";

/// @notice A receiver that records every delivery and misbehaves on request.
contract MockReceiver is IMessageReceiver {
    enum Behavior {
        Accept,
        Revert,
        BurnAllGas,
        ReturnBomb,
        NeedGas
    }

    /// @notice Raised in Behavior.Revert, carrying the id so a test can recognize its own message.
    error MockReceiverRejected(bytes32 messageId);

    Behavior public behavior;
    /// @dev Behavior.ReturnBomb: size of the revert data.
    uint256 public bombSize;
    /// @dev Behavior.NeedGas: gas the call burns before it succeeds.
    uint256 public gasNeeded;

    uint256 public totalDeliveries;
    bytes32[] private _deliveredIds;
    mapping(bytes32 messageId => uint256 count) public deliveriesOf;

    Delivery private _last;
    /// @dev Balance of each delivered token at the moment of the call: proves tokens arrived first.
    uint256[] private _balancesAtCall;

    function setBehavior(Behavior behavior_) external {
        behavior = behavior_;
    }

    function setBombSize(uint256 size) external {
        bombSize = size;
    }

    function setGasNeeded(uint256 amount) external {
        gasNeeded = amount;
    }

    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external {
        Behavior current = behavior;
        if (current == Behavior.Revert) revert MockReceiverRejected(delivery.messageId);
        if (current == Behavior.BurnAllGas) _burnAllGas();
        if (current == Behavior.ReturnBomb) _revertWithBomb(bombSize);
        if (current == Behavior.NeedGas) _burn(gasNeeded);
        _record(delivery);
    }

    function deliveredIds() external view returns (bytes32[] memory) {
        return _deliveredIds;
    }

    function lastDelivery() external view returns (Delivery memory) {
        return _last;
    }

    function balancesAtCall() external view returns (uint256[] memory) {
        return _balancesAtCall;
    }

    function _record(Delivery calldata delivery) private {
        ++totalDeliveries;
        ++deliveriesOf[delivery.messageId];
        _deliveredIds.push(delivery.messageId);
        _last.messageId = delivery.messageId;
        _last.sourceChainId = delivery.sourceChainId;
        _last.sender = delivery.sender;
        _last.payload = delivery.payload;
        delete _last.tokens;
        delete _balancesAtCall;
        for (uint256 i; i < delivery.tokens.length; ++i) {
            DeliveredToken calldata delivered = delivery.tokens[i];
            _last.tokens.push(delivered);
            _balancesAtCall.push(IERC20(delivered.token).balanceOf(address(this)));
        }
    }

    function _burnAllGas() private pure {
        assembly ("memory-safe") {
            invalid()
        }
    }

    function _burn(uint256 amount) private view {
        uint256 start = gasleft();
        while (start - gasleft() < amount) {}
    }

    /// @dev Reverts with `size` bytes whose first 32-byte words are numbered 1, 2, 3…, so a test can
    /// check exactly which prefix survived the truncation.
    function _revertWithBomb(uint256 size) private pure {
        bytes memory data = new bytes(size);
        for (uint256 word; word * 32 < size && word < 16; ++word) {
            assembly ("memory-safe") {
                mstore(add(add(data, 0x20), mul(word, 0x20)), add(word, 1))
            }
        }
        assembly ("memory-safe") {
            revert(add(data, 0x20), mload(data))
        }
    }
}
