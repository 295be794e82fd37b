// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessagingFixture} from "./MessagingFixture.sol";

/// @notice The Outbox's incremental tree (IncrementalMerkle) against a naive full recomputation.
/// @dev MerkleTreeFull (2^32 - 1 leaves) is unreachable in practice: at one message per block on a
/// 250 ms chain it takes 34 years, and every leaf costs a send. It is not exercised here.
contract IncrementalMerkleTest is MessagingFixture {
    uint256 internal constant DEPTH = 32;

    function test_root_ofTheEmptyTreeIsTheZeroHashOfHeight32() public view {
        assertEq(outbox.count(), 0);
        assertEq(outbox.root(), _naiveRoot(new bytes32[](0)));
    }

    /// @notice Every count from 1 to 70: all shapes of the low branch nodes and several carries.
    function test_root_matchesNaiveTreeAfterEverySend() public {
        bytes32[] memory ids = new bytes32[](70);
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = keccak256(_send(abi.encode(i)));
            assertEq(outbox.count(), i + 1);
            assertEq(outbox.root(), _naiveRoot(_prefix(ids, i + 1)), "root after a send");
        }
    }

    function testFuzz_root_matchesNaiveTree(uint8 rawCount) public {
        uint256 count = bound(rawCount, 1, 70);
        bytes32[] memory ids = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            ids[i] = keccak256(_send(abi.encode(i)));
        }
        assertEq(outbox.root(), _naiveRoot(ids));
    }

    // ---------------------------------------------------------------- naive tree

    /// @dev Depth-32 tree, leaves padded with zero, pairs hashed in order: keccak256(left ‖ right).
    function _naiveRoot(bytes32[] memory leaves) private pure returns (bytes32) {
        bytes32[] memory level = leaves;
        bytes32 zero;
        for (uint256 height; height < DEPTH; ++height) {
            uint256 parents = (level.length + 1) / 2;
            bytes32[] memory next = new bytes32[](parents);
            for (uint256 i; i < parents; ++i) {
                bytes32 right = 2 * i + 1 < level.length ? level[2 * i + 1] : zero;
                next[i] = keccak256(abi.encodePacked(level[2 * i], right));
            }
            if (parents == 0) next = _single(keccak256(abi.encodePacked(zero, zero)));
            level = next;
            zero = keccak256(abi.encodePacked(zero, zero));
        }
        return level[0];
    }

    function _single(bytes32 node) private pure returns (bytes32[] memory one) {
        one = new bytes32[](1);
        one[0] = node;
    }

    function _prefix(bytes32[] memory ids, uint256 length) private pure returns (bytes32[] memory prefix) {
        prefix = new bytes32[](length);
        for (uint256 i; i < length; ++i) {
            prefix[i] = ids[i];
        }
    }
}
