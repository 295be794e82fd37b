// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/// @title BurnMintERC20
/// @notice An ERC-20 that authorized minters (token pools, faucets on the devnet) can mint; anyone burns
/// their own. The shape of a cross-chain stablecoin or a wrapped representation.
contract BurnMintERC20 is ERC20, ERC20Burnable, Ownable {
    uint8 private immutable _decimals;
    mapping(address account => bool) private _minters;

    event MinterSet(address indexed account, bool allowed);

    /// @notice `caller` may not mint.
    error BurnMintUnauthorizedMinter(address caller);

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function isMinter(address account) external view returns (bool) {
        return _minters[account];
    }

    function setMinter(address account, bool allowed) external onlyOwner {
        _minters[account] = allowed;
        emit MinterSet(account, allowed);
    }

    function mint(address to, uint256 amount) external {
        if (!_minters[msg.sender]) revert BurnMintUnauthorizedMinter(msg.sender);
        _mint(to, amount);
    }
}
