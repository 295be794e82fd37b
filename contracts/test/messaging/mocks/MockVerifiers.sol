// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IVerifier} from "../../../src/messaging/interfaces/IVerifier.sol";

/// @notice A verifier that rejects everything with its own error.
contract RevertingVerifier is IVerifier {
    error MockVerifierRejected();

    function verify(bytes calldata, bytes calldata) external pure returns (bool) {
        revert MockVerifierRejected();
    }

    function typeAndVersion() external pure returns (string memory) {
        return "RevertingVerifier 1.0.0";
    }
}

/// @notice A verifier that answers `false` instead of reverting (a sloppy but legal implementation).
contract FalseVerifier is IVerifier {
    function verify(bytes calldata, bytes calldata) external pure returns (bool) {
        return false;
    }

    function typeAndVersion() external pure returns (string memory) {
        return "FalseVerifier 1.0.0";
    }
}
