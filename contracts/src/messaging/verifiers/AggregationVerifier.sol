// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IVerifier} from "../interfaces/IVerifier.sol";

/// @title AggregationVerifier
/// @notice Defense in depth: a message is accepted when at least `k` of `m` independent verifiers
/// (e.g. our validator committee and an external transport's attestation) accept it.
/// Proof: `abi.encode(bytes[] subProofs)`, one entry per sub-verifier; an empty entry is not attempted.
contract AggregationVerifier is IVerifier {
    IVerifier[] private _verifiers;
    uint8 public immutable threshold;

    /// @notice Fewer than `threshold` sub-verifiers accepted; `firstFailure` is the first rejection's revert data.
    error AggregationBelowThreshold(uint256 accepted, uint256 threshold, bytes firstFailure);
    error AggregationWrongProofCount(uint256 given, uint256 expected);
    error AggregationInvalidConfig(uint256 verifiers, uint256 threshold);

    constructor(IVerifier[] memory verifiers_, uint8 threshold_) {
        if (threshold_ == 0 || threshold_ > verifiers_.length) {
            revert AggregationInvalidConfig(verifiers_.length, threshold_);
        }
        _verifiers = verifiers_;
        threshold = threshold_;
    }

    /// @inheritdoc IVerifier
    function typeAndVersion() external pure returns (string memory) {
        return "AggregationVerifier 1.0.0";
    }

    function verifiers() external view returns (IVerifier[] memory) {
        return _verifiers;
    }

    /// @inheritdoc IVerifier
    function verify(bytes calldata message, bytes calldata proof) external returns (bool) {
        bytes[] memory subProofs = abi.decode(proof, (bytes[]));
        uint256 m = _verifiers.length;
        if (subProofs.length != m) revert AggregationWrongProofCount(subProofs.length, m);
        uint256 accepted;
        bytes memory firstFailure;
        for (uint256 i; i < m && accepted < threshold; ++i) {
            if (subProofs[i].length == 0) continue;
            try _verifiers[i].verify(message, subProofs[i]) returns (bool ok) {
                if (ok) ++accepted;
            } catch (bytes memory reason) {
                if (firstFailure.length == 0) firstFailure = reason;
            }
        }
        if (accepted < threshold) revert AggregationBelowThreshold(accepted, threshold, firstFailure);
        return true;
    }
}
