// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Test} from "forge-std/Test.sol";
import {Observation, PriceFeed} from "../../src/oracles/PriceFeed.sol";

/// @title OracleCommittee
/// @notice A PriceFeed with four oracles (n = 4 = 3f+1, so reports need 3) whose keys the test holds,
/// sorted by address so reports list them in the required order; and their signed observations.
abstract contract OracleCommittee is Test {
    uint8 internal constant FAULTY = 1;

    PriceFeed internal feed;
    address internal owner = makeAddr("owner");
    address[] internal oracles;
    uint256[] internal keys;

    /// @dev Oracle keys are named `<keyPrefix><i>`.
    function _deployFeed(string memory description, uint32 maxObservationAge, string memory keyPrefix) internal {
        feed = new PriceFeed(owner, 8, description, maxObservationAge);
        for (uint256 i; i < 4; ++i) {
            (address oracle, uint256 key) = makeAddrAndKey(string.concat(keyPrefix, vm.toString(i)));
            uint256 j = oracles.length;
            oracles.push(oracle);
            keys.push(key);
            while (j > 0 && oracles[j - 1] > oracle) {
                (oracles[j], oracles[j - 1]) = (oracles[j - 1], oracles[j]);
                (keys[j], keys[j - 1]) = (keys[j - 1], keys[j]);
                --j;
            }
        }
        vm.prank(owner);
        feed.setOracles(oracles, FAULTY);
    }

    /// @notice Oracle number `oracle` (in address order) signs `value` observed at `observedAt`.
    function _observe(uint256 oracle, int192 value, uint32 observedAt) internal view returns (Observation memory) {
        bytes32 hash = MessageHashUtils.toEthSignedMessageHash(feed.observationDigest(value, observedAt));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[oracle], hash);
        return Observation(value, observedAt, abi.encodePacked(r, s, v));
    }
}
