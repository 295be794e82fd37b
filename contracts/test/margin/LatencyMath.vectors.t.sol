// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {FixedPointMathLib as M} from "solady/utils/FixedPointMathLib.sol";
import {LatencyInput, LatencyMath} from "../../src/margin/LatencyMath.sol";

/// @notice vectors/margin/lhf.json (written by the TypeScript risk engine, sdk/risk/lhf.ts) against the
/// contract's fixed-point math: every λ and each case's LHF agree to 1e-9 relative, as MarginEngine
/// computes them (value · LT · λ summed, over the debt in USD).
contract LatencyMathVectorsTest is Test {
    /// @dev 1e-9 relative, in forge's 1e18 = 100% scale.
    uint256 internal constant TOLERANCE = 1e9;
    string internal json;

    struct CaseTotals {
        uint256 liquidationValue;
        uint256 borrowPower;
        uint256 debtUsd;
    }

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/vectors/margin/lhf.json"));
    }

    function test_vectors_lambdaAndHealthMatchTheRiskEngine() public view {
        uint256 cases = _count(".cases");
        assertGt(cases, 20, "too few margin vectors");
        for (uint256 c; c < cases; ++c) {
            string memory path = string.concat(".cases[", vm.toString(c), "]");
            string memory name = vm.parseJsonString(json, string.concat(path, ".name"));
            CaseTotals memory totals = _checkPositions(path, name);
            totals.debtUsd = _uint(path, ".debt") * 1e12;
            _assertClose(M.divWad(totals.liquidationValue, totals.debtUsd), _uint(path, ".lhf"), name, "lhf");
            _assertClose(M.divWad(totals.borrowPower, totals.debtUsd), _uint(path, ".borrowHf"), name, "borrowHf");
        }
    }

    function test_workedExampleLhfIs1_9043() public view {
        CaseTotals memory totals = _checkPositions(".cases[0]", "worked-example");
        uint256 lhf = M.divWad(totals.liquidationValue, 24_000e18);
        assertApproxEqAbs(lhf, 1.9043e18, 0.00005e18);
    }

    function _checkPositions(string memory path, string memory name) private view returns (CaseTotals memory totals) {
        uint256 count = _count(string.concat(path, ".positions"));
        uint256 now_ = _uint(path, ".now");
        uint256 baseHorizon = _uint(path, ".detectTime") + _uint(path, ".hubFinalityTime");
        uint256 grace = _uint(path, ".grace");
        for (uint256 i; i < count; ++i) {
            string memory p = string.concat(path, ".positions[", vm.toString(i), "]");
            uint256 expected = _uint(p, ".lambda");
            uint256 lambda;
            bool fresh;
            if (vm.parseJsonBool(json, string.concat(p, ".final"))) {
                (lambda, fresh) = LatencyMath.lambda(_input(p, now_, baseHorizon, grace));
            } else {
                fresh = vm.parseJsonBool(json, string.concat(p, ".borrowable"));
            }
            _assertClose(lambda, expected, name, "lambda");
            assertEq(fresh, vm.parseJsonBool(json, string.concat(p, ".borrowable")), string.concat(name, ": fresh"));
            uint256 value = M.fullMulDiv(
                _uint(p, ".amount"), _uint(p, ".price") * 10 ** (18 - _uint(p, ".priceDecimals")), 10 ** _uint(p, ".decimals")
            );
            totals.liquidationValue += M.mulWad(value, M.mulWad(_uint(p, ".liquidationThreshold"), lambda));
            if (fresh) totals.borrowPower += M.mulWad(value, M.mulWad(_uint(p, ".ltv"), lambda));
        }
    }

    function _input(string memory p, uint256 now_, uint256 baseHorizon, uint256 grace)
        private
        view
        returns (LatencyInput memory input)
    {
        uint256 updatedAt = _uint(p, ".updatedAt");
        input.amount = _uint(p, ".amount");
        input.priceAge = now_ > updatedAt ? now_ - updatedAt : 0;
        input.volatility = _uint(p, ".volatility");
        input.sqrtT0 = LatencyMath.sqrtBaselineHorizon(
            _uint(p, ".liquidationThreshold"), _uint(p, ".liquidationBonus"), input.volatility
        );
        input.theta = _uint(p, ".theta");
        input.conf = _uint(p, ".conf");
        input.heartbeat = _uint(p, ".heartbeat");
        input.grace = grace;
        input.unwindPerDay = _uint(p, ".unwindPerDay");
        input.horizon = baseHorizon + _uint(p, ".relayTime");
        input.bridgeIntensity = _uint(p, ".bridgeIntensity");
        input.bridgeLgd = _uint(p, ".bridgeLgd");
    }

    function _assertClose(uint256 actual, uint256 expected, string memory name, string memory what) private pure {
        string memory label = string.concat(name, ": ", what);
        // Values near zero (an oracle error of ~100%) compare absolutely.
        if (expected < 1e9) assertApproxEqAbs(actual, expected, 1e3, label);
        else assertApproxEqRel(actual, expected, TOLERANCE, label);
    }

    function _uint(string memory path, string memory key) private view returns (uint256) {
        return vm.parseJsonUint(json, string.concat(path, key));
    }

    function _count(string memory path) private view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(path, "[", vm.toString(n), "]"))) ++n;
    }
}
