// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {MarginMessages, Release} from "../../src/margin/MarginMessages.sol";
import {DeliveredToken, Delivery} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {CollateralVaultFixture} from "./CollateralVaultFixture.sol";

/// @notice Gas of the vault's two paths, for review (logged with -vv; nothing is written to
/// snapshots/). Every test runs with `isolate`, so each call is its own transaction as on a chain, in
/// steady state: one deposit and one release went first. The bounds are loose regression guards.
contract CollateralVaultGasTest is CollateralVaultFixture {
    function setUp() public override {
        super.setUp();
        _deposit(DEPOSIT);
        _deliverRelease(_release(1e18));
    }

    /// forge-config: default.isolate = true
    function test_gas_deposit() public {
        vm.prank(alice);
        vault.deposit(address(collateral), DEPOSIT, account);
        _report("deposit (transaction)", 120_000);
    }

    /// forge-config: default.isolate = true
    function test_gas_depositAndBorrow() public {
        vm.prank(alice);
        vault.depositAndBorrow(address(collateral), DEPOSIT, account, 50e6, HUB, account);
        _report("depositAndBorrow (transaction)", 130_000);
    }

    /// @notice Verify (3-of-5) and deliver one release to a recipient that holds none of the token.
    /// forge-config: default.isolate = true
    function test_gas_releaseDelivery() public {
        bytes memory message = _sendRelease(_release(1e18));
        bytes memory proof = _proof(message);
        inbox.execute(message, proof);
        _report("release delivery: Inbox.execute (transaction)", 160_000);
    }

    /// @notice The vault's own share of a delivery, i.e. what the engine's gas limit for a release
    /// must cover: the recipient's balance goes from zero to non-zero (the dearest case).
    /// forge-config: default.isolate = true
    function test_gas_receiveMessage() public {
        Release memory release = _release(1e18);
        release.recipient = makeAddr("freshRecipient");
        Delivery memory delivery =
            Delivery(keccak256("release"), HUB, engine, new DeliveredToken[](0), MarginMessages.encodeRelease(release));
        vm.prank(address(inbox));
        vault.receiveMessage(delivery);
        _report("receiveMessage, fresh recipient (transaction)", 100_000);
    }

    function _report(string memory label, uint256 bound) private {
        Vm.Gas memory gas = vm.lastCallGas();
        emit log_named_uint(label, gas.gasTotalUsed);
        assertLt(gas.gasTotalUsed, bound, label);
    }
}
