// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IncrementalMerkle
/// @notice Append-only Merkle tree of depth 32 (the deposit-contract construction): an insert writes one
/// branch node, the root is computed on demand. Pairs are hashed in order, keccak256(left ‖ right);
/// empty subtrees hash to the zero-hash of their height. Validators recompute it from the Outbox's
/// events and compare with {root} at a final block, so an RPC that drops or invents a log is caught.
library IncrementalMerkle {
    uint256 internal constant DEPTH = 32;
    uint256 internal constant MAX_LEAVES = (1 << DEPTH) - 1;

    struct Tree {
        bytes32[DEPTH] branch;
        uint256 count;
    }

    /// @notice The tree holds 2^32 - 1 leaves; this one would not fit.
    error MerkleTreeFull();

    /// @return index The position of the new leaf.
    function insert(Tree storage tree, bytes32 leaf) internal returns (uint256 index) {
        index = tree.count;
        if (index >= MAX_LEAVES) revert MerkleTreeFull();
        uint256 size = index + 1;
        tree.count = size;
        bytes32 node = leaf;
        for (uint256 height; height < DEPTH; ++height) {
            if (size & 1 == 1) {
                tree.branch[height] = node;
                return index;
            }
            node = _hashPair(tree.branch[height], node);
            size >>= 1;
        }
        // Unreachable: size < 2^32 always has a set bit below height 32.
        assert(false);
    }

    function root(Tree storage tree) internal view returns (bytes32 current) {
        uint256 size = tree.count;
        bytes32 zero; // zero-hash of the current height
        for (uint256 height; height < DEPTH; ++height) {
            if ((size >> height) & 1 == 1) current = _hashPair(tree.branch[height], current);
            else current = _hashPair(current, zero);
            zero = _hashPair(zero, zero);
        }
    }

    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            hash := keccak256(0x00, 0x40)
        }
    }
}
