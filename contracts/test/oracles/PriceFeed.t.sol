// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Observation, PriceFeed} from "../../src/oracles/PriceFeed.sol";
import {OracleCommittee} from "./OracleCommittee.sol";

/// @notice PriceFeed: signed observations from 2f+1 distinct oracles, median stored, Chainlink's interface.
contract PriceFeedTest is OracleCommittee {
    uint32 internal constant MAX_AGE = 300;

    function setUp() public {
        vm.warp(1_700_000_000);
        _deployFeed("ETH / USD", MAX_AGE, "oracle");
    }

    /// @dev Observations by oracles 0..values.length-1, all at `observedAt`.
    function _report(int192[] memory values, uint32 observedAt) internal view returns (Observation[] memory report) {
        report = new Observation[](values.length);
        for (uint256 i; i < values.length; ++i) {
            report[i] = _observe(i, values[i], observedAt);
        }
    }

    function _values(int192 a, int192 b, int192 c) internal pure returns (int192[] memory values) {
        values = new int192[](3);
        (values[0], values[1], values[2]) = (a, b, c);
    }

    function test_transmit_storesTheMedianAsANewRound() public {
        uint32 at = uint32(block.timestamp - 10);
        vm.expectEmit(address(feed));
        emit PriceFeed.AnswerUpdated(3_010e8, 1, at);
        uint80 roundId = feed.transmit(_report(_values(3_020e8, 3_000e8, 3_010e8), at));
        (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound) =
            feed.latestRoundData();
        assertEq(roundId, 1);
        assertEq(id, 1);
        assertEq(answer, 3_010e8);
        assertEq(startedAt, at);
        assertEq(updatedAt, at);
        assertEq(answeredInRound, 1);
        assertEq(feed.decimals(), 8);
        assertEq(feed.description(), "ETH / USD");
        assertEq(feed.version(), 1);
    }

    function test_transmit_updatedAtIsTheOldestObservation() public {
        Observation[] memory report = new Observation[](3);
        report[0] = _observe(0, 100, uint32(block.timestamp - 5));
        report[1] = _observe(1, 101, uint32(block.timestamp - 50));
        report[2] = _observe(2, 102, uint32(block.timestamp - 1));
        feed.transmit(report);
        (,,, uint256 updatedAt,) = feed.latestRoundData();
        assertEq(updatedAt, block.timestamp - 50);
    }

    function test_getRoundData_keepsEarlierRounds() public {
        feed.transmit(_report(_values(100, 100, 100), uint32(block.timestamp - 2)));
        feed.transmit(_report(_values(200, 200, 200), uint32(block.timestamp - 1)));
        (, int256 first,,,) = feed.getRoundData(1);
        (uint80 latest, int256 second,,,) = feed.latestRoundData();
        assertEq(first, 100);
        assertEq(second, 200);
        assertEq(latest, 2);
    }

    function test_latestRoundData_revertsWhen_noRoundYet() public {
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedNoData.selector, uint80(0)));
        feed.latestRoundData();
    }

    /// @notice With f = 1, one faulty oracle cannot move the median outside the honest values.
    function testFuzz_transmit_medianBoundedByHonestValues(int192 liar, uint256 position, int192 a, int192 b) public {
        a = int192(bound(a, 1, 1e30));
        b = int192(bound(b, 1, 1e30));
        liar = int192(bound(liar, 1, type(int192).max));
        int192[] memory values = _values(a, b, a);
        values[position % 3] = liar; // any of the three may be the faulty one
        int192 low = a < b ? a : b;
        int192 high = a < b ? b : a;
        feed.transmit(_report(values, uint32(block.timestamp)));
        (, int256 answer,,,) = feed.latestRoundData();
        // The two honest values are among {a, b, a} minus the replaced one; the median lies between them.
        assertGe(answer, int256(position % 3 == 1 ? a : low));
        assertLe(answer, int256(position % 3 == 1 ? a : high));
    }

    function test_transmit_revertsWhen_tooFewObservations() public {
        Observation[] memory report = new Observation[](2);
        report[0] = _observe(0, 100, uint32(block.timestamp));
        report[1] = _observe(1, 100, uint32(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedTooFewObservations.selector, 2, 3));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_oneOracleTwice() public {
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        report[2] = report[1];
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedOraclesNotAscending.selector, 2, oracles[1]));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_oraclesUnordered() public {
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        (report[0], report[1]) = (report[1], report[0]);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedOraclesNotAscending.selector, 1, oracles[0]));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_signerIsNoOracle() public {
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        (address mallory, uint256 key) = makeAddrAndKey("mallory");
        bytes32 hash = MessageHashUtils.toEthSignedMessageHash(feed.observationDigest(100, uint32(block.timestamp)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        report[0].signature = abi.encodePacked(r, s, v);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedUnknownOracle.selector, 0, mallory));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_valueChangedAfterSigning() public {
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        report[0].value = 1_000_000;
        vm.expectPartialRevert(PriceFeed.PriceFeedUnknownOracle.selector);
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_signatureMalformed() public {
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        report[1].signature = hex"1234";
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedBadSignature.selector, 1));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_signedForAnotherFeed() public {
        PriceFeed other = new PriceFeed(owner, 8, "BTC / USD", MAX_AGE);
        vm.prank(owner);
        other.setOracles(oracles, FAULTY);
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        vm.expectPartialRevert(PriceFeed.PriceFeedUnknownOracle.selector);
        other.transmit(report);
    }

    // Reports are built before vm.expectRevert: signing them calls the feed (observationDigest).

    function test_transmit_revertsWhen_valueNotPositive() public {
        Observation[] memory zero = _report(_values(100, 0, 100), uint32(block.timestamp));
        Observation[] memory negative = _report(_values(-5, 100, 100), uint32(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedNonPositive.selector, 1, int192(0)));
        feed.transmit(zero);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedNonPositive.selector, 0, int192(-5)));
        feed.transmit(negative);
    }

    function test_transmit_revertsWhen_observationStale() public {
        uint32 old = uint32(block.timestamp - MAX_AGE - 1);
        Observation[] memory report = _report(_values(100, 100, 100), old);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedObservationTooOld.selector, 0, old, MAX_AGE));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_observationFromTheFuture() public {
        uint32 future = uint32(block.timestamp + 1);
        Observation[] memory report = _report(_values(100, 100, 100), future);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedObservationFromTheFuture.selector, 0, future));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_reportReplayed() public {
        uint32 at = uint32(block.timestamp);
        Observation[] memory report = _report(_values(100, 100, 100), at);
        feed.transmit(report);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedObservationNotNewer.selector, 0, at, at));
        feed.transmit(report);
    }

    function test_transmit_revertsWhen_noOraclesConfigured() public {
        PriceFeed bare = new PriceFeed(owner, 8, "bare", MAX_AGE);
        Observation[] memory report = _report(_values(100, 100, 100), uint32(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedInvalidConfig.selector, "no oracles set"));
        bare.transmit(report);
    }

    function test_setOracles_rotatesTheSet() public {
        address[] memory next = new address[](1);
        next[0] = oracles[3];
        Observation[] memory fromTheOldSet = _report(_values(100, 100, 100), uint32(block.timestamp));
        vm.prank(owner);
        feed.setOracles(next, 0);
        vm.expectPartialRevert(PriceFeed.PriceFeedUnknownOracle.selector);
        feed.transmit(fromTheOldSet);
        Observation[] memory single = new Observation[](1);
        single[0] = _observe(3, 42, uint32(block.timestamp));
        feed.transmit(single);
        (, int256 answer,,,) = feed.latestRoundData();
        assertEq(answer, 42);
    }

    function test_setOracles_revertsWhen_configInvalid() public {
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedInvalidConfig.selector, "fewer than 3f+1 oracles"));
        feed.setOracles(oracles, 2);
        address[] memory duplicate = new address[](2);
        (duplicate[0], duplicate[1]) = (oracles[0], oracles[0]);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedInvalidConfig.selector, "zero or duplicate oracle"));
        feed.setOracles(duplicate, 0);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedInvalidConfig.selector, "between 1 and 31 oracles"));
        feed.setOracles(new address[](0), 0);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedInvalidConfig.selector, "zero max observation age"));
        feed.setMaxObservationAge(0);
        vm.stopPrank();
    }

    function test_admin_revertsWhen_notOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        feed.setOracles(oracles, FAULTY);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        feed.setMaxObservationAge(60);
    }
}
