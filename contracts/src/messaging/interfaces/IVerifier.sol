// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IVerifier
/// @notice Decides whether an encoded message really was sent by the source outbox. An Inbox holds one
/// verifier per source chain; verifiers are swappable without touching the Inbox or any application.
interface IVerifier {
    /// @notice Verifies `message` (the full encoding, see MessageLib) with a verifier-specific `proof`.
    /// @dev Reverts with a verifier-specific error on a bad proof, so the caller sees why; returns true
    /// otherwise. Not `view`: a verifier may cache work (e.g. a batch root) in transient storage.
    /// @return True when the message is proven.
    function verify(bytes calldata message, bytes calldata proof) external returns (bool);

    /// @notice Name and version, e.g. "CommitteeVerifier 1.0.0"; off-chain code checks it before use.
    function typeAndVersion() external view returns (string memory);
}
