// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FixedPointMathLib as M} from "solady/utils/FixedPointMathLib.sol";

/// @notice Everything the latency adjustment of one collateral position depends on, in contract units:
/// WAD (1e18) for ratios, seconds for times, the token's smallest unit for amounts.
struct LatencyInput {
    uint256 amount;
    uint256 priceAge;
    uint256 volatility;
    /// @dev √T0 = ln(1/(LT·LB)) / (z·σ), precomputed when the asset is configured ({sqrtBaselineHorizon}).
    uint256 sqrtT0;
    uint256 theta;
    uint256 conf;
    uint256 heartbeat;
    uint256 grace;
    uint256 unwindPerDay;
    /// @dev τ_detect + F_hub + τ_relay(c): the horizon before any unwind time.
    uint256 horizon;
    uint256 bridgeIntensity;
    uint256 bridgeLgd;
}

/// @title LatencyMath
/// @notice The latency-adjusted weight λ of a collateral position (docs/margin.md, DESIGN §6) in WAD
/// fixed point. Every rounding goes against the account: errors and losses round up, λ rounds down.
library LatencyMath {
    uint256 internal constant WAD = 1e18;
    /// @notice z = Φ⁻¹(0.99).
    uint256 internal constant Z = 2_326_347_874_040_841_000;
    uint256 internal constant YEAR = 31_536_000;
    uint256 internal constant DAY = 86_400;
    /// @notice 1/√(2π), for the delay term of a remote liquidation bonus.
    uint256 internal constant INV_SQRT_2PI = 398_942_280_401_432_678;

    /// @notice LT·LB must stay below 1, or a liquidation at the threshold could never be covered.
    error LatencyMathBadRiskParams(uint256 liquidationThreshold, uint256 liquidationBonus, uint256 volatility);

    /// @notice √T0 = ln(1/(LT·LB)) / (z·σ): the horizon over which a position at the liquidation
    /// threshold stays covered with 99% confidence. Rounded down (a shorter baseline weighs delay more).
    function sqrtBaselineHorizon(uint256 liquidationThreshold, uint256 liquidationBonus, uint256 volatility)
        internal
        pure
        returns (uint256)
    {
        uint256 covered = M.mulWadUp(liquidationThreshold, liquidationBonus);
        if (covered >= WAD || covered == 0 || volatility == 0) {
            revert LatencyMathBadRiskParams(liquidationThreshold, liquidationBonus, volatility);
        }
        // ln(1/x) = -ln(x); x < 1 so the log is negative.
        uint256 logInverse = uint256(-M.lnWad(int256(covered)));
        return M.divWad(logInverse, M.mulWadUp(Z, volatility));
    }

    /// @notice Whether the price is fresh enough to lend against: within heartbeat + grace for a push
    /// feed, within grace for a pull feed (heartbeat 0).
    function isFresh(uint256 priceAge, uint256 heartbeat, uint256 grace) internal pure returns (bool) {
        return priceAge <= heartbeat + grace;
    }

    /// @notice The oracle error e = conf + min(θ, z·σ·√a) while fresh and θ > 0, else conf + z·σ·√a.
    /// Rounded up.
    function oracleError(LatencyInput memory p) internal pure returns (uint256) {
        uint256 ageError = M.mulWadUp(M.mulWadUp(Z, p.volatility), _sqrtYearsUp(p.priceAge));
        if (p.theta != 0 && isFresh(p.priceAge, p.heartbeat, p.grace)) ageError = M.min(ageError, p.theta);
        return p.conf + ageError;
    }

    /// @notice The liquidation horizon in years: detection, hub finality, relay, and the time to unwind
    /// the position at the asset's market depth (kept fractional: whole seconds would bias large books).
    /// Rounded up.
    function horizonYears(LatencyInput memory p) internal pure returns (uint256 years_) {
        years_ = M.divWadUp(p.horizon, YEAR);
        if (p.unwindPerDay != 0) years_ += M.fullMulDivUp(p.amount, DAY * WAD, p.unwindPerDay * YEAR);
    }

    /// @notice λ = (1 − e)·(1 − b)·exp(−z·σ·(√(T0 + T) − √T0)) for a final position, rounded down.
    /// @return lambda The weight in WAD; 0 when the oracle error reaches 100%.
    /// @return fresh Whether the position may carry borrowing power.
    function lambda(LatencyInput memory p) internal pure returns (uint256, bool fresh) {
        fresh = isFresh(p.priceAge, p.heartbeat, p.grace);
        uint256 e = oracleError(p);
        if (e >= WAD) return (0, fresh);
        uint256 years_ = horizonYears(p);
        uint256 keep = M.mulWad(WAD - e, WAD - bridgeLoss(p.bridgeIntensity, p.bridgeLgd, years_));
        uint256 t0 = M.mulWad(p.sqrtT0, p.sqrtT0);
        // √(T0 + T) − √T0, with √ rounded up on the larger term so the drift rounds up; T0 is √T0
        // squared and rounded down, so for T = 0 the difference can dip below zero: floor it there.
        uint256 drift = M.mulWadUp(M.mulWadUp(Z, p.volatility), M.zeroFloorSub(M.sqrtWad(t0 + years_) + 1, p.sqrtT0));
        return (M.mulWad(keep, _expNeg(drift)), fresh);
    }

    /// @notice b = (1 − exp(−π·T))·LGD, T in years. Rounded up.
    function bridgeLoss(uint256 intensity, uint256 lgd, uint256 years_) internal pure returns (uint256) {
        if (intensity == 0 || lgd == 0) return 0;
        uint256 survive = _expNeg(M.mulWadUp(intensity, years_));
        return M.min(M.mulWadUp(WAD - survive, lgd), WAD);
    }

    /// @notice The bonus of a remote liquidation: LB(L) = LB + σ·√L/√(2π) for a delivery delay of L
    /// seconds — the liquidator carries the price risk until the collateral reaches it.
    function remoteBonus(uint256 liquidationBonus, uint256 volatility, uint256 delay)
        internal
        pure
        returns (uint256)
    {
        return liquidationBonus + M.mulWad(M.mulWad(volatility, M.sqrtWad(M.divWad(delay, YEAR))), INV_SQRT_2PI);
    }

    /// @dev exp(−x) for x ≥ 0 in WAD. Solady's expWad is exact to a few wei; beyond −42 it is 0.
    function _expNeg(uint256 x) private pure returns (uint256) {
        if (x > 42 * WAD) return 0;
        return uint256(M.expWad(-int256(x)));
    }

    /// @dev √(seconds / YEAR) in WAD, rounded up.
    function _sqrtYearsUp(uint256 seconds_) private pure returns (uint256) {
        if (seconds_ == 0) return 0;
        return M.sqrtWad(M.divWadUp(seconds_, YEAR)) + 1;
    }
}
