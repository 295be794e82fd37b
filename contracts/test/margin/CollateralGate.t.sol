// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Delivery, DeliveredToken} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {CollateralGate} from "../../src/margin/CollateralGate.sol";
import {Credit, MarginMessages} from "../../src/margin/MarginMessages.sol";
import {KIND_RESERVE_STATUS, ReserveReporter, ReserveStatus} from "../../src/settlement/ReserveReporter.sol";
import {ReserveBackedToken} from "../../src/tokens/ReserveBackedToken.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {MockAggregator} from "./mocks/MockAggregator.sol";

/// @title CollateralGateTest
/// @notice The bank side is real (a ReserveBackedToken, its reserve feed, the Outbox and the
/// ReserveReporter); the test contract plays the hub's Inbox, handing the gate each message the bank
/// Outbox sent as a verified delivery (verification has its own tests in contracts/test/messaging).
contract CollateralGateTest is Test {
    using MessageReader for bytes;

    uint64 internal constant HUB = 31_002;
    uint64 internal constant BANK = 31_004;
    uint64 internal constant OTHER = 31_003;
    uint64 internal constant MIN_INTERVAL = 1 hours;
    uint32 internal constant GATE_GAS = 150_000;

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal bankA = makeAddr("bankA");
    address internal stranger = makeAddr("stranger");

    MockAggregator internal reserveFeed;
    ReserveBackedToken internal tbill;
    Outbox internal outbox;
    ReserveReporter internal reporter;
    CollateralGate internal gate;
    uint256 private _nonce;

    function setUp() public {
        vm.warp(1_700_000_000);
        gate = new CollateralGate(owner, address(this));

        vm.chainId(BANK);
        reserveFeed = new MockAggregator(8, 1000e8);
        tbill = new ReserveBackedToken("T-Bill", "TBILL", 18, owner, reserveFeed, 1 days);
        outbox = new Outbox(owner, guardian);
        reporter = new ReserveReporter(outbox, HUB, address(gate), GATE_GAS, MIN_INTERVAL);

        vm.startPrank(owner);
        outbox.setLane(HUB, true);
        tbill.setMinter(owner, true);
        tbill.setInstitution(bankA, true);
        assertTrue(tbill.mint(bankA, 1000e18));
        gate.setReporter(BANK, address(reporter));
        gate.setTracked(BANK, address(tbill), true);
        vm.stopPrank();
        vm.recordLogs();
    }

    // ---------------------------------------------------------------- helpers

    /// @notice Reports on bank and returns the message the bank Outbox sent.
    function _report() internal returns (bytes memory message) {
        vm.chainId(BANK);
        reporter.report(tbill);
        message = SentMessages.last(address(outbox));
        vm.chainId(HUB);
    }

    /// @notice Delivers `message` to the gate as the hub Inbox would after verification.
    function _deliver(bytes memory message) internal {
        gate.receiveMessage(_delivery(message.sourceChainId(), address(reporter), message.payload()));
    }

    function _delivery(uint64 chainId, address sender, bytes memory payload) internal returns (Delivery memory) {
        return Delivery(keccak256(abi.encode("message", ++_nonce)), chainId, sender, new DeliveredToken[](0), payload);
    }

    function _decode(bytes memory message) internal view returns (ReserveStatus memory) {
        return this.decodeStatus(message.payload());
    }

    function decodeStatus(bytes calldata payload) external pure returns (ReserveStatus memory status) {
        uint8 kind;
        (kind, status) = abi.decode(payload, (uint8, ReserveStatus));
        assert(kind == KIND_RESERVE_STATUS);
    }

    function _setReserves(int256 wholeTokens) internal {
        reserveFeed.set(wholeTokens * 1e8, block.timestamp);
    }

    // ---------------------------------------------------------------- breach and recovery

    function test_ReportCarriesStatusToTheGate() public {
        bytes memory message = _report();
        assertEq(message.sourceChainId(), BANK);
        assertEq(message.destChainId(), HUB);
        assertEq(message.receiver(), address(gate));
        assertEq(message.gasLimit(), GATE_GAS);
        ReserveStatus memory status = _decode(message);
        assertEq(status.token, address(tbill));
        assertEq(status.supply, 1000e18);
        assertEq(status.reserves, 1000e18);
        assertTrue(status.backed);
        assertEq(status.observedAt, block.timestamp);

        assertFalse(gate.isEligible(BANK, address(tbill)), "tracked, no report yet: fail closed");
        _deliver(message);
        assertTrue(gate.isEligible(BANK, address(tbill)));
        ReserveStatus memory stored = gate.statusOf(BANK, address(tbill));
        assertEq(stored.supply, 1000e18);
        assertEq(stored.observedAt, block.timestamp);
    }

    function test_BreachMakesIneligible_RecoveryRestores() public {
        _deliver(_report());
        assertTrue(gate.isEligible(BANK, address(tbill)));

        // Reserves fall below supply: one report trips the breaker on bank and tells the hub.
        vm.warp(block.timestamp + 10);
        _setReserves(900);
        bytes memory breach = _report();
        assertTrue(tbill.breakerTripped(), "report syncs the breaker");
        ReserveStatus memory status = _decode(breach);
        assertFalse(status.backed);
        assertEq(status.reserves, 900e18);
        vm.expectEmit(address(gate));
        emit CollateralGate.EligibilityChanged(BANK, address(tbill), false);
        _deliver(breach);
        assertFalse(gate.isEligible(BANK, address(tbill)));

        // Reserves recover: the breaker resets and the asset is eligible again.
        vm.warp(block.timestamp + 10);
        _setReserves(1000);
        bytes memory recovery = _report();
        assertFalse(tbill.breakerTripped());
        vm.expectEmit(address(gate));
        emit CollateralGate.EligibilityChanged(BANK, address(tbill), true);
        _deliver(recovery);
        assertTrue(gate.isEligible(BANK, address(tbill)));
    }

    function test_StaleFeedReportsUnbacked() public {
        _deliver(_report());
        vm.warp(block.timestamp + 2 days); // the feed is now older than the token's 1-day maximum
        bytes memory message = _report();
        ReserveStatus memory status = _decode(message);
        assertFalse(status.backed);
        assertEq(status.reserves, 0);
        _deliver(message);
        assertFalse(gate.isEligible(BANK, address(tbill)));
    }

    // ---------------------------------------------------------------- ordering

    function test_OutOfOrderOlderReportIgnored() public {
        bytes memory backedReport = _report();
        vm.warp(block.timestamp + 10);
        _setReserves(900);
        bytes memory breach = _report();

        // The breach arrives first; the older "backed" report arrives later and must not re-enable.
        _deliver(breach);
        assertFalse(gate.isEligible(BANK, address(tbill)));
        vm.expectEmit(address(gate));
        emit CollateralGate.StaleReportIgnored(
            BANK,
            address(tbill),
            uint64(block.timestamp - 10),
            uint64(block.timestamp),
            keccak256(abi.encode("message", uint256(2)))
        );
        _deliver(backedReport);
        assertFalse(gate.isEligible(BANK, address(tbill)));
        assertEq(gate.statusOf(BANK, address(tbill)).observedAt, block.timestamp);
    }

    function test_SameReportTwiceIgnored() public {
        bytes memory message = _report();
        _deliver(message);
        _deliver(message);
        assertTrue(gate.isEligible(BANK, address(tbill)));
    }

    // ---------------------------------------------------------------- authentication

    function test_RefusesCallerOtherThanInbox() public {
        bytes memory message = _report();
        Delivery memory delivery = _delivery(BANK, address(reporter), message.payload());
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(CollateralGate.GateUnauthorizedCaller.selector, stranger));
        gate.receiveMessage(delivery);
    }

    function test_RefusesForgedSender() public {
        bytes memory payload = abi.encode(
            KIND_RESERVE_STATUS, ReserveStatus(address(tbill), 1000e18, 1000e18, true, uint64(block.timestamp))
        );
        vm.expectRevert(abi.encodeWithSelector(CollateralGate.GateUnknownReporter.selector, BANK, stranger));
        gate.receiveMessage(_delivery(BANK, stranger, payload));
    }

    function test_RefusesReporterFromWrongChain() public {
        // The same reporter address on another chain is a different contract: refused.
        bytes memory payload = _report().payload();
        vm.expectRevert(abi.encodeWithSelector(CollateralGate.GateUnknownReporter.selector, OTHER, address(reporter)));
        gate.receiveMessage(_delivery(OTHER, address(reporter), payload));
        assertFalse(gate.isEligible(BANK, address(tbill)));
    }

    function test_RefusesOtherPayloadKind() public {
        bytes memory payload =
            MarginMessages.encodeCredit(Credit(bankA, address(tbill), 1, uint64(block.timestamp), 0, 0, address(0)));
        vm.expectRevert(abi.encodeWithSelector(CollateralGate.GateBadKind.selector, uint256(1)));
        gate.receiveMessage(_delivery(BANK, address(reporter), payload));
    }

    function test_UnregisteredChainRefusedAfterReporterRemoved() public {
        vm.prank(owner);
        gate.setReporter(BANK, address(0));
        bytes memory payload = _report().payload();
        vm.expectRevert(abi.encodeWithSelector(CollateralGate.GateUnknownReporter.selector, BANK, address(reporter)));
        gate.receiveMessage(_delivery(BANK, address(reporter), payload));
    }

    // ---------------------------------------------------------------- rate limit

    function test_DuplicateReportsRateLimited() public {
        _report();
        vm.chainId(BANK);
        uint64 sentAt = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                ReserveReporter.ReporterTooSoon.selector, address(tbill), sentAt, sentAt + MIN_INTERVAL
            )
        );
        reporter.report(tbill);

        vm.warp(block.timestamp + MIN_INTERVAL - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ReserveReporter.ReporterTooSoon.selector, address(tbill), sentAt, sentAt + MIN_INTERVAL
            )
        );
        reporter.report(tbill);

        // The heartbeat: an unchanged status may be reported again after minInterval.
        vm.warp(sentAt + MIN_INTERVAL);
        reporter.report(tbill);
        (uint64 lastSentAt, bool backed, bool sent) = reporter.lastReport(address(tbill));
        assertEq(lastSentAt, sentAt + MIN_INTERVAL);
        assertTrue(backed);
        assertTrue(sent);
    }

    function test_StatusChangeBypassesInterval() public {
        _report();
        vm.warp(block.timestamp + 1);
        _setReserves(900);
        bytes memory breach = _report(); // well within minInterval, but `backed` changed
        assertFalse(_decode(breach).backed);
    }

    function test_AtMostOneReportPerSecond() public {
        _report();
        _setReserves(900); // same second: the change waits for the next one
        vm.chainId(BANK);
        uint64 sentAt = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(ReserveReporter.ReporterTooSoon.selector, address(tbill), sentAt, sentAt + 1)
        );
        reporter.report(tbill);
        vm.warp(block.timestamp + 1);
        reporter.report(tbill);
    }

    function test_HandlingFitsTheGasLimit() public {
        Delivery memory delivery = _delivery(BANK, address(reporter), _report().payload());
        uint256 before = gasleft();
        gate.receiveMessage(delivery);
        uint256 used = before - gasleft();
        assertLt(used, 100_000, "a first report (fresh slots) stays well under the 150k gas limit");
    }

    // ---------------------------------------------------------------- config

    function test_UntrackedTokenAlwaysEligible() public {
        address weth = makeAddr("weth");
        assertTrue(gate.isEligible(BANK, weth));
        vm.prank(owner);
        gate.setTracked(BANK, address(tbill), false);
        assertTrue(gate.isEligible(BANK, address(tbill)));
    }

    function test_UnauthorizedConfig() public {
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        gate.setReporter(BANK, stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        gate.setTracked(BANK, address(tbill), false);
        vm.stopPrank();
        assertEq(gate.reporterOf(BANK), address(reporter));
        assertTrue(gate.isTracked(BANK, address(tbill)));
    }

    function test_ConstructorChecks() public {
        vm.expectRevert(abi.encodeWithSelector(CollateralGate.GateInvalidConfig.selector, "zero inbox"));
        new CollateralGate(owner, address(0));
        vm.expectRevert(abi.encodeWithSelector(ReserveReporter.ReporterInvalidConfig.selector, "zero gate"));
        new ReserveReporter(outbox, HUB, address(0), GATE_GAS, MIN_INTERVAL);
        vm.expectRevert(abi.encodeWithSelector(ReserveReporter.ReporterInvalidConfig.selector, "zero min interval"));
        new ReserveReporter(outbox, HUB, address(gate), GATE_GAS, 0);
    }
}
