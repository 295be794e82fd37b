// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CollateralVault} from "../../src/margin/CollateralVault.sol";
import {LatencyModel} from "../../src/margin/LatencyModel.sol";
import {ChainParams, Globals, MarginEngine, RateModel} from "../../src/margin/MarginEngine.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {CommitteeProofs} from "../messaging/utils/CommitteeProofs.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {TestAssets} from "./utils/TestAssets.sol";
import {CollateralVaultFixture} from "./CollateralVaultFixture.sol";
import {MockAggregator} from "./mocks/MockAggregator.sol";

/// @notice The vault against the real MarginEngine, both directions over real Outboxes, Inboxes and
/// CommitteeVerifiers: a credit the vault sends is taken by the engine, and a release the engine sends
/// is paid by the vault. Only the engine's side of the wiring is set up here; its own behavior is
/// MarginEngine.t.sol's subject.
contract CollateralVaultEngineTest is CollateralVaultFixture {
    using MessageReader for bytes;

    uint256 internal constant LIQUIDITY = 1_000_000e6;

    MarginEngine internal marginEngine;
    Inbox internal hubInbox;
    CommitteeVerifier internal hubVerifier;
    BurnMintERC20 internal usdc;
    MockAggregator internal ethFeed;

    function setUp() public override {
        super.setUp();
        vm.warp(1_700_000_000);
        vm.chainId(HUB);
        usdc = new BurnMintERC20("USD Coin", "USDC", 6, owner);
        hubInbox = new Inbox(owner, guardian);
        hubVerifier = new CommitteeVerifier(owner, SPOKE, address(spokeOutbox), address(hubInbox));
        marginEngine = new MarginEngine(owner, guardian, outbox, address(hubInbox), HUB, usdc, new LatencyModel());
        ethFeed = new MockAggregator(8, 3000e8);
        vm.chainId(SPOKE);
        // The fixture's vault obeys a plain address; this one obeys the real engine.
        vault = new CollateralVault(owner, guardian, spokeOutbox, address(inbox), HUB, address(marginEngine));

        vm.startPrank(owner);
        vault.setToken(address(collateral), true);
        inbox.setReceiver(HUB, address(vault), true);
        hubVerifier.setValidators(validators, THRESHOLD);
        hubInbox.setLane(SPOKE, hubVerifier);
        hubInbox.setReceiver(SPOKE, address(marginEngine), true);
        uint16 weth = marginEngine.listAsset(TestAssets.weth(ethFeed));
        marginEngine.setAssetToken(SPOKE, address(collateral), weth);
        marginEngine.setChain(SPOKE, ChainParams(address(vault), 60, 60, 0.02e18, 1e18, true));
        marginEngine.setGlobals(Globals(60, 1020, 600, 1.1e18, 2000e18));
        marginEngine.setRateModel(RateModel(0, 0.04e18, 0.75e18, 0.8e18));
        usdc.setMinter(owner, true);
        usdc.mint(owner, LIQUIDITY);
        usdc.approve(address(marginEngine), LIQUIDITY);
        marginEngine.supply(LIQUIDITY);
        vm.stopPrank();

        vm.prank(alice);
        collateral.approve(address(vault), type(uint256).max);
    }

    function test_roundTrip_depositIsCreditedThenWithdrawnOnTheSpoke() public {
        bytes memory credit = _deposit(DEPOSIT);
        _deliverToHub(credit);
        assertEq(_hubState(credit), uint8(Inbox.ExecutionState.SUCCESS), "credit taken");
        assertEq(marginEngine.positionOf(account, SPOKE, address(collateral)).amount, DEPOSIT);

        vm.chainId(HUB);
        vm.recordLogs();
        vm.prank(account);
        marginEngine.withdraw(SPOKE, address(collateral), 40e18, recipient);
        bytes memory release = SentMessages.last(address(outbox));
        vm.chainId(SPOKE);

        _execute(release);
        _assertState(release, Inbox.ExecutionState.SUCCESS);
        assertEq(collateral.balanceOf(recipient), 40e18);
        assertEq(vault.locked(address(collateral)), DEPOSIT - 40e18);
        assertEq(marginEngine.positionOf(account, SPOKE, address(collateral)).amount, DEPOSIT - 40e18);
    }

    /// @notice The default credit gas limit covers the engine's deposit-and-borrow (borrow on the hub).
    function test_roundTrip_depositAndBorrowFitsTheDefaultCreditGas() public {
        vm.recordLogs();
        vm.prank(alice);
        vault.depositAndBorrow(address(collateral), 10e18, account, 1000e6, HUB, account);
        bytes memory credit = SentMessages.last(address(spokeOutbox));
        assertEq(credit.gasLimit(), vault.DEFAULT_CREDIT_GAS_LIMIT());

        _deliverToHub(credit);
        assertEq(_hubState(credit), uint8(Inbox.ExecutionState.SUCCESS));
        assertEq(usdc.balanceOf(account), 1000e6, "borrowed on the hub");
        assertEq(marginEngine.debtOf(account), 1000e6);
    }

    /// @notice A credit the hub cannot take (the token is no asset there) comes back as a refund the
    /// vault pays to the account.
    function test_roundTrip_creditTheHubRefusesIsRefunded() public {
        BurnMintERC20 unlisted = new BurnMintERC20("Unlisted", "UNL", 18, owner);
        vm.startPrank(owner);
        vault.setToken(address(unlisted), true);
        unlisted.setMinter(owner, true);
        unlisted.mint(alice, DEPOSIT);
        vm.stopPrank();
        vm.prank(alice);
        unlisted.approve(address(vault), DEPOSIT);

        bytes memory credit = _deposit(address(unlisted), DEPOSIT);
        vm.recordLogs();
        _deliverToHub(credit);
        bytes memory refund = SentMessages.last(address(outbox));

        _execute(refund);
        _assertState(refund, Inbox.ExecutionState.SUCCESS);
        assertEq(unlisted.balanceOf(account), DEPOSIT);
        assertEq(vault.locked(address(unlisted)), 0);
    }

    // ---------------------------------------------------------------- helpers

    /// @notice Verifies and executes a spoke → hub message on the hub, then returns to the spoke.
    function _deliverToHub(bytes memory message) private {
        vm.chainId(HUB);
        bytes32 id = keccak256(message);
        bytes memory signatures = CommitteeProofs.sign(hubVerifier.batchDigest(EPOCH, id, 1), _quorum());
        hubInbox.execute(message, CommitteeProofs.encode(EPOCH, 1, id, new bytes32[](0), signatures));
        vm.chainId(SPOKE);
    }

    function _hubState(bytes memory message) private view returns (uint8) {
        return uint8(hubInbox.executionState(SPOKE, message.nonce()));
    }

}
