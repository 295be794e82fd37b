// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Inbox} from "../../../src/messaging/Inbox.sol";

/// @notice Asks whether the Inbox would accept a retry without keeping its effects: the probe always
/// reverts, carrying the answer in its error.
contract RetryProbe {
    error RetryProbeOutcome(bool accepted, bytes reason);

    function probe(Inbox inbox, bytes calldata message, uint32 gasLimit) external {
        try inbox.retry(message, gasLimit) {
            revert RetryProbeOutcome(true, "");
        } catch (bytes memory reason) {
            revert RetryProbeOutcome(false, reason);
        }
    }
}
