// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {MessagingFixture} from "./MessagingFixture.sol";
import {CommitteeProofs} from "./utils/CommitteeProofs.sol";

/// @notice CommitteeVerifier.setValidators and retireEpoch: epochs, rotation, and rejected sets.
contract CommitteeVerifierValidatorsTest is MessagingFixture {
    uint256[] internal nextKeys;
    address[] internal nextSet;

    bytes internal message;
    bytes32 internal id;

    function setUp() public override {
        super.setUp();
        nextKeys = _committeeKeys("validator-epoch-2", 3);
        nextSet = CommitteeProofs.addresses(nextKeys);
        message = _craft(SRC, DST, address(receiver), "rotate");
        id = keccak256(message);
    }

    function test_setValidators_opensTheFirstEpoch() public view {
        assertEq(verifier.latestEpoch(), 1);
        CommitteeVerifier.Epoch memory config = verifier.epochConfig(1);
        assertEq(config.threshold, THRESHOLD);
        assertEq(config.size, COMMITTEE_SIZE);
        assertFalse(config.retired);
        for (uint256 i; i < validators.length; ++i) {
            assertTrue(verifier.isSigner(1, validators[i]));
        }
    }

    function test_setValidators_rotatesToTheNextEpoch() public {
        vm.expectEmit(address(verifier));
        emit CommitteeVerifier.ValidatorsSet(2, nextSet, 2);
        vm.prank(owner);
        assertEq(verifier.setValidators(nextSet, 2), 2);
        assertEq(verifier.latestEpoch(), 2);
        assertFalse(verifier.isSigner(2, validators[0]));
        assertTrue(verifier.isSigner(2, nextSet[0]));
    }

    /// @notice Both epochs sign valid proofs until the old one is retired; keys never cross epochs.
    function test_rotation_oldEpochStaysValidUntilRetired() public {
        vm.prank(owner);
        verifier.setValidators(nextSet, 2);
        bytes memory byNewSet = _proofBy(2, _first(nextKeys, 2));
        bytes memory byOldSet = _proofBy(1, _quorum());
        assertTrue(verifier.verify(message, byNewSet));
        assertTrue(verifier.verify(message, byOldSet));

        bytes memory oldKeysNewEpoch = _proofBy(2, _quorum());
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownSigner.selector, 0, validators[0]));
        verifier.verify(message, oldKeysNewEpoch);

        vm.expectEmit(address(verifier));
        emit CommitteeVerifier.EpochRetired(1);
        vm.prank(owner);
        verifier.retireEpoch(1);
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierEpochRetired.selector, uint32(1)));
        verifier.verify(message, byOldSet);
        assertTrue(verifier.verify(message, byNewSet));
    }

    function test_retireEpoch_revertsWhen_epochUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierUnknownEpoch.selector, uint32(9)));
        vm.prank(owner);
        verifier.retireEpoch(9);
    }

    function test_setValidators_revertsWhen_empty() public {
        _expectInvalidSet("size");
        vm.prank(owner);
        verifier.setValidators(new address[](0), 1);
    }

    function test_setValidators_revertsWhen_moreThan255() public {
        address[] memory many = new address[](256);
        for (uint256 i; i < many.length; ++i) {
            many[i] = address(uint160(i + 1));
        }
        _expectInvalidSet("size");
        vm.prank(owner);
        verifier.setValidators(many, 200);
    }

    function test_setValidators_revertsWhen_thresholdNotAMajority() public {
        _expectInvalidSet("threshold not a majority");
        vm.prank(owner);
        verifier.setValidators(validators, 2); // 2 of 5

        address[] memory four = _firstAddresses(4);
        _expectInvalidSet("threshold not a majority");
        vm.prank(owner);
        verifier.setValidators(four, 2); // exactly half is not a majority
    }

    function test_setValidators_revertsWhen_thresholdZero() public {
        _expectInvalidSet("threshold not a majority");
        vm.prank(owner);
        verifier.setValidators(_firstAddresses(1), 0);
    }

    function test_setValidators_revertsWhen_thresholdAboveSize() public {
        _expectInvalidSet("threshold above size");
        vm.prank(owner);
        verifier.setValidators(_firstAddresses(3), 4);
    }

    function test_setValidators_revertsWhen_unsorted() public {
        address[] memory unsorted = _firstAddresses(3);
        (unsorted[0], unsorted[1]) = (unsorted[1], unsorted[0]);
        _expectInvalidSet("signers not ascending");
        vm.prank(owner);
        verifier.setValidators(unsorted, 2);
    }

    function test_setValidators_revertsWhen_duplicate() public {
        address[] memory duplicated = _firstAddresses(3);
        duplicated[2] = duplicated[1];
        _expectInvalidSet("signers not ascending");
        vm.prank(owner);
        verifier.setValidators(duplicated, 2);
    }

    function test_setValidators_revertsWhen_zeroAddress() public {
        address[] memory withZero = _firstAddresses(3);
        withZero[0] = address(0);
        _expectInvalidSet("signers not ascending");
        vm.prank(owner);
        verifier.setValidators(withZero, 2);
    }

    function test_setValidators_failedCallOpensNoEpoch() public {
        vm.prank(owner);
        vm.expectRevert();
        verifier.setValidators(new address[](0), 1);
        assertEq(verifier.latestEpoch(), 1);
    }

    // ---------------------------------------------------------------- helpers

    function _expectInvalidSet(string memory reason) private {
        vm.expectRevert(abi.encodeWithSelector(CommitteeVerifier.VerifierInvalidValidatorSet.selector, reason));
    }

    function _proofBy(uint32 epoch, uint256[] memory keys) private view returns (bytes memory) {
        return CommitteeProofs.encode(epoch, 1, id, new bytes32[](0), _sign(epoch, id, 1, keys));
    }

    function _first(uint256[] storage keys, uint256 count) private view returns (uint256[] memory firstKeys) {
        firstKeys = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            firstKeys[i] = keys[i];
        }
    }

    function _firstAddresses(uint256 count) private view returns (address[] memory addrs) {
        addrs = new address[](count);
        for (uint256 i; i < count; ++i) {
            addrs[i] = validators[i];
        }
    }
}
