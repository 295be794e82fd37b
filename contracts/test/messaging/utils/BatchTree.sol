// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @title BatchTree
/// @notice The batch Merkle tree of docs/messaging.md, built naively: leaves are message ids in nonce
/// order, a parent is commutativeKeccak256(a, b), an odd last node moves up unchanged, and a proof
/// lists the siblings from the leaf up, skipping the levels where the node moved up unchanged.
library BatchTree {
    error BatchTreeEmpty();
    error BatchTreeIndexOutOfRange(uint256 index, uint256 leaves);

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) revert BatchTreeEmpty();
        bytes32[] memory level = _copy(leaves);
        for (uint256 n = level.length; n > 1; n = (n + 1) / 2) {
            _up(level, n);
        }
        return level[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory siblings) {
        if (index >= leaves.length) revert BatchTreeIndexOutOfRange(index, leaves.length);
        bytes32[] memory level = _copy(leaves);
        siblings = new bytes32[](32);
        uint256 count;
        for (uint256 n = level.length; n > 1; n = (n + 1) / 2) {
            uint256 sibling = index ^ 1;
            // No sibling: the node is the odd last one and moves up unchanged.
            if (sibling < n) {
                siblings[count] = level[sibling];
                ++count;
            }
            _up(level, n);
            index >>= 1;
        }
        assembly ("memory-safe") {
            mstore(siblings, count)
        }
    }

    /// @dev Replaces the first ceil(n/2) nodes of `level` with the next level up. In place is safe:
    /// node i is written after nodes 2i and 2i + 1 were read, and later reads are at indices above i.
    function _up(bytes32[] memory level, uint256 n) private pure {
        for (uint256 i; i < n / 2; ++i) {
            level[i] = Hashes.commutativeKeccak256(level[2 * i], level[2 * i + 1]);
        }
        if (n % 2 == 1) level[n / 2] = level[n - 1];
    }

    function _copy(bytes32[] memory leaves) private pure returns (bytes32[] memory copy) {
        copy = new bytes32[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            copy[i] = leaves[i];
        }
    }
}
