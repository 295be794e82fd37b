// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {ChainProbe} from "../../src/devnet/ChainProbe.sol";

contract ChainProbeTest is Test {
    event Pinged(address indexed sender, uint256 indexed count, bytes32 tag);

    ChainProbe internal probe;

    function setUp() public {
        probe = new ChainProbe();
    }

    function test_ping_countsAndEmits() public {
        vm.expectEmit(address(probe));
        emit Pinged(address(this), 1, "first");
        assertEq(probe.ping("first"), 1);
        assertEq(probe.pings(), 1);
    }

    function testFuzz_ping_countsEveryCaller(address[8] calldata callers, bytes32 tag) public {
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectEmit(address(probe));
            emit Pinged(callers[i], i + 1, tag);
            probe.ping(tag);
        }
        assertEq(probe.pings(), callers.length);
    }
}
