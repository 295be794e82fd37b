// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BenchReceiver} from "../../src/devnet/BenchReceiver.sol";
import {MessagingFixture} from "./MessagingFixture.sol";

/// @notice Gas figures for review, written by forge to snapshots/Messaging.json. Every test runs with
/// `isolate`, so each call is its own transaction (cold storage, fresh transient storage) as on a chain.
/// Measured in steady state: one message has already gone through the lane, so the figures show
/// what the n-th message costs, not the first. The receiver is the benchmarks' BenchReceiver (one
/// storage write). The transaction benchmarks live in bench/; these are for code review.
contract GasTest is MessagingFixture {
    string internal constant GROUP = "Messaging";
    uint32 internal constant BENCH_GAS_LIMIT = 50_000;

    BenchReceiver internal bench;

    function setUp() public override {
        super.setUp();
        bench = new BenchReceiver();
        vm.prank(owner);
        inbox.setReceiver(SRC, address(bench), true);
    }

    /// forge-config: default.isolate = true
    function test_gas_send() public {
        _send(address(bench), new bytes(32), BENCH_GAS_LIMIT); // warm-up
        _onSource();
        vm.prank(alice);
        outbox.send(DST, address(bench), new bytes(32), BENCH_GAS_LIMIT);
        vm.snapshotGasLastCall(GROUP, "send_noTokens_32BytePayload");
    }

    /// forge-config: default.isolate = true
    function test_gas_execute() public {
        _warmUp();
        bytes memory message = _send(address(bench), new bytes(32), BENCH_GAS_LIMIT);
        bytes memory proof = _proof(message);
        inbox.execute(message, proof);
        vm.snapshotGasLastCall(GROUP, "execute_single_3of5");
    }

    /// forge-config: default.isolate = true
    function test_gas_executeBatch8() public {
        _measureBatch(8);
    }

    /// forge-config: default.isolate = true
    function test_gas_executeBatch32() public {
        _measureBatch(32);
    }

    function _measureBatch(uint256 size) private {
        _warmUp();
        bytes[] memory messages = new bytes[](size);
        for (uint256 i; i < size; ++i) {
            messages[i] = _send(address(bench), abi.encode(i), BENCH_GAS_LIMIT);
        }
        bytes[] memory proofs = _batchProofs(messages);
        inbox.executeBatch(messages, proofs);
        string memory name = string.concat("executeBatch", vm.toString(size));
        uint256 total = vm.snapshotGasLastCall(GROUP, string.concat(name, "_total"));
        vm.snapshotValue(GROUP, string.concat(name, "_perMessage"), total / size);
        assertEq(bench.deliveries(), size + 1);
    }

    /// @dev One message through the lane, so Outbox, Inbox state word and receiver slots are non-zero.
    function _warmUp() private {
        bytes memory message = _send(address(bench), new bytes(32), BENCH_GAS_LIMIT);
        inbox.execute(message, _proof(message));
    }
}
