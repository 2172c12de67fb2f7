"""The numerical core: SciPy optimizers driven by exact JAX gradients.

Two methods, picked by problem size:

* ``SLSQP`` (SciPy's sequential least squares QP) for up to ``SLSQP_MAX_VARIABLES``
  free cells: precise, but each iteration solves a dense QP, O(n^3);
* ``augmented-lagrangian`` above that: L-BFGS-B (box bounds, O(n) per iteration) on
  the objective plus multiplier and quadratic penalty terms for the budget (and any
  channel-total limits), the multipliers updated between rounds (the method of
  multipliers). This keeps 1,500-cell problems (30 channels x 50 geos) to seconds.

Variables are the free cells' spends in units of a per-cell scale (their starting
spend, floored at a tenth of the average free spend), so that they are all O(1), and
the objective is divided by its magnitude at the start: the solvers' tolerances are
absolute, and sales in the millions would otherwise drown them. The last step moves
the result onto the budget and bounds exactly (:func:`repair`) and never returns less
than the starting point.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize as so

from bayesmmm.errors import SpecError
from bayesmmm.optimize._blas import single_blas_thread
from bayesmmm.optimize._bounds import Box
from bayesmmm.optimize._goals import Objective
from bayesmmm.optimize._planner import Planner

__all__ = ["Solution", "repair", "solve_budget", "solve_marginal", "start_point"]

#: Largest number of free cells solved with SLSQP (above: the augmented Lagrangian).
SLSQP_MAX_VARIABLES = 150

#: Augmented Lagrangian: first penalty weight (objective and constraints are O(1)), and
#: the inner L-BFGS-B tolerances of the first round, tightened 100x (ftol) and 10x (gtol)
#: per round down to 1e-15 / 1e-10. Early rounds only need to move the multiplier, so
#: solving them loosely halved the evaluations at 1,500 cells (429 -> 202), same optimum.
_RHO0 = 10.0
_FTOL0 = 1e-8
_GTOL0 = 1e-4

#: Spend of a cell is searched up to this multiple of its historical spend when no
#: upper bound is given and the goal fixes no budget (curves that never saturate).
SEARCH_CAP = 100.0


@dataclass
class Solution:
    """Optimal cell spends ``x`` ``(G, C)`` and how the solver got there."""

    x: np.ndarray
    value: float
    success: bool
    message: str
    n_iterations: int
    n_evaluations: int
    seconds: float


def repair(x: np.ndarray, box: Box, total: float | None) -> np.ndarray:
    """Clip ``x`` into the box (tiny negatives included) and, if ``total`` is given, move
    the free cells with room proportionally to it until the sum matches to ~1e-12."""
    x = np.clip(np.where(box.free, x, box.low), box.low, box.high)
    for c, lo, hi in box.totals:  # channel totals of geo models: scale the free cells
        s = x[:, c].sum()
        target = min(max(s, lo), hi)
        if s != target:
            x[:, c] = _shift(x[:, c], box.low[:, c], box.high[:, c], box.free[:, c], target)
    if total is None:
        return x
    for _ in range(100):
        r = total - x.sum()
        if abs(r) <= 1e-12 * max(abs(total), 1.0):
            break
        room = np.where(box.free, box.high - x if r > 0 else x - box.low, 0.0)
        for c, lo, hi in box.totals:
            limit = hi - x[:, c].sum() if r > 0 else x[:, c].sum() - lo
            avail = room[:, c].sum()
            if avail > limit:
                room[:, c] *= max(limit, 0.0) / avail
        room = np.where(np.isfinite(room), room, np.nan)
        if np.isnan(room).any():  # open upper bounds: spread over those cells alone
            room = np.where(np.isnan(room), 1.0, 0.0) * np.maximum(x, 1.0)
        avail = room.sum()
        if avail <= 0:
            break
        x = x + np.sign(r) * room * min(1.0, abs(r) / avail)
    return np.clip(x, box.low, box.high)


def _shift(x: np.ndarray, low: np.ndarray, high: np.ndarray, free: np.ndarray,
           target: float) -> np.ndarray:
    for _ in range(50):
        r = target - x.sum()
        room = np.where(free, high - x if r > 0 else x - low, 0.0)
        room = np.where(np.isfinite(room), room, np.maximum(x, 1.0))
        if abs(r) < 1e-12 * max(abs(target), 1.0) or room.sum() <= 0:
            break
        x = x + np.sign(r) * room * min(1.0, abs(r) / room.sum())
    return x


def start_point(planner: Planner, box: Box, budget: float) -> np.ndarray:
    """The historical allocation scaled to ``budget``, moved into the bounds."""
    ref = planner.reference
    x = ref * (budget / ref.sum()) if ref.sum() > 0 else np.full_like(ref, budget / ref.size)
    return repair(x, box, budget)


class _Problem:
    """The free variables of one optimisation and their scaling."""

    def __init__(self, planner: Planner, box: Box, x0: np.ndarray) -> None:
        self.planner, self.box = planner, box
        self.free = np.flatnonzero(box.free.ravel())
        if len(self.free) == 0:
            raise SpecError("nothing to optimise: every channel is held fixed (by `fixed`, "
                            "equal lower and upper bounds, or no historical spend)")
        self.fixed = np.where(box.free, 0.0, box.low).ravel()
        x0f = x0.ravel()[self.free]
        floor = 0.1 * max(x0f.mean(), planner.reference.ravel()[self.free].mean(), 1e-12)
        self.scale = np.maximum(x0f, floor)
        self.z0 = x0f / self.scale
        self.f_scale = 1.0
        self.n_evaluations = 0

    def x_of(self, z: np.ndarray) -> np.ndarray:
        x = self.fixed.copy()
        x[self.free] = z * self.scale
        return x.reshape(self.box.low.shape)

    def z_bounds(self, cap: float | None = None) -> so.Bounds:
        low = self.box.low.ravel()[self.free] / self.scale
        high = self.box.high.ravel()[self.free] / self.scale
        if cap is not None:
            ref = self.planner.reference.ravel()[self.free]
            high = np.minimum(high, cap * np.maximum(ref, ref.mean()) / self.scale)
        return so.Bounds(low, high)

    def total_constraints(self) -> list[tuple[np.ndarray, float]]:
        """Channel-total limits (geo models with absolute bounds) as rows ``a @ z >= b``,
        normalised to O(1)."""
        out: list[tuple[np.ndarray, float]] = []
        n_c = self.box.low.shape[1]
        cell_channel = self.free % n_c
        for c, lo, hi in self.box.totals:
            a = np.where(cell_channel == c, self.scale, 0.0)
            held = float(self.fixed.reshape(-1, n_c)[:, c].sum())
            norm = max(hi if np.isfinite(hi) else lo, 1.0)
            out.append((a / norm, (lo - held) / norm))
            if np.isfinite(hi):
                out.append((-a / norm, (held - hi) / norm))
        return out

    def function(self, objective: Objective, penalty: float, gradient: str) -> Any:
        p = self.planner

        def value_and_grad(z: np.ndarray) -> tuple[float, np.ndarray]:
            self.n_evaluations += 1
            v, g = p.value_and_grad(objective, z, self.free, self.fixed, self.scale, penalty)
            return v / self.f_scale, g / self.f_scale

        def value(z: np.ndarray) -> float:
            self.n_evaluations += 1
            return p.value(objective, z, self.free, self.fixed, self.scale, penalty) / self.f_scale

        if gradient == "jax":
            return value_and_grad
        if gradient == "finite-difference":
            return value
        raise SpecError(f"Unknown gradient {gradient!r}; expected one of ['finite-difference', "
                        "'jax']")


Linear = tuple[np.ndarray, float]


def _run(problem: _Problem, fun: Any, jac: bool, bounds: so.Bounds, eq: Linear | None,
         ineqs: list[Linear], method: str, maxiter: int, ftol: float,
         time_limit: float | None) -> tuple[np.ndarray, Any]:
    """Minimise from ``problem.z0`` subject to ``a @ z == b`` (``eq``) and rows
    ``a @ z >= b`` (``ineqs``); a time limit stops SLSQP at its last iterate."""
    if method == "auto":
        method = "SLSQP" if len(problem.free) <= SLSQP_MAX_VARIABLES else "augmented-lagrangian"
    if method == "augmented-lagrangian":
        if not jac:
            raise SpecError("the augmented Lagrangian needs gradients; use method='SLSQP' "
                            "for finite differences")
        return _augmented_lagrangian(problem.z0, fun, bounds, eq, ineqs, maxiter)
    if method != "SLSQP":
        raise SpecError(f"Unknown method {method!r}; expected one of ['SLSQP', 'auto', "
                        "'augmented-lagrangian']")
    constraints: list[dict[str, Any]] = [
        {"type": t, "fun": lambda z, a=a, b=b: a @ z - b, "jac": lambda z, a=a: a}
        for t, (a, b) in [*([("eq", eq)] if eq is not None else []),
                          *(("ineq", row) for row in ineqs)]]
    last = {"z": problem.z0.copy()}
    started = time.perf_counter()

    class _OutOfTime(Exception):
        pass

    def out_of_time() -> bool:
        return time_limit is not None and time.perf_counter() - started > time_limit

    def callback(z: np.ndarray) -> None:
        last["z"] = np.array(z)
        if out_of_time():
            raise _OutOfTime

    def timed(z: np.ndarray) -> Any:
        if out_of_time():  # finite differences can spend minutes inside one iteration
            raise _OutOfTime
        return fun(z)

    try:
        with warnings.catch_warnings(), single_blas_thread():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Values in x were outside bounds"
            res = so.minimize(timed, problem.z0, jac=True if jac else None, method="SLSQP",
                              bounds=bounds, constraints=constraints, callback=callback,
                              options={"maxiter": maxiter, "ftol": ftol})
        return np.asarray(res.x), res
    except _OutOfTime:
        return last["z"], None


@dataclass
class _Result:
    """What :func:`_finish` reads of a SciPy result."""

    success: bool
    message: str
    nit: int


def _augmented_lagrangian(z0: np.ndarray, fun: Any, bounds: so.Bounds, eq: Linear | None,
                          ineqs: list[Linear], maxiter: int) -> tuple[np.ndarray, _Result]:
    """Method of multipliers with L-BFGS-B inner solves (box bounds kept exactly)."""
    z = z0.copy()
    rows = np.array([a for a, _ in ineqs]).reshape(len(ineqs), len(z0))
    rhs = np.array([b for _, b in ineqs])
    mu = np.zeros(len(ineqs))
    lam, rho = 0.0, _RHO0
    if eq is not None:
        _, g = fun(z)
        lam = -float(g @ eq[0]) / float(eq[0] @ eq[0])  # least-squares multiplier
    nit, previous, ok = 0, np.inf, False
    for k in range(30):
        def phi(z: np.ndarray, lam: float = lam, mu: np.ndarray = mu,
                rho: float = rho) -> tuple[float, np.ndarray]:
            v, g = fun(z)
            if eq is not None:
                c = eq[0] @ z - eq[1]
                v, g = v + lam * c + 0.5 * rho * c * c, g + (lam + rho * c) * eq[0]
            if len(rhs):
                t = np.maximum(0.0, mu - rho * (rows @ z - rhs))
                v, g = v + ((t ** 2).sum() - (mu ** 2).sum()) / (2 * rho), g - rows.T @ t
            return v, g

        with single_blas_thread():
            res = so.minimize(phi, z, jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": maxiter, "maxcor": 20,
                                       "ftol": max(1e-15, _FTOL0 * 0.01 ** k),
                                       "gtol": max(1e-10, _GTOL0 * 0.1 ** k)})
        z, nit = np.asarray(res.x), nit + int(res.nit)
        c = float(eq[0] @ z - eq[1]) if eq is not None else 0.0
        gi = rows @ z - rhs if len(rhs) else np.zeros(0)
        violation = max(abs(c), float(np.maximum(0.0, -gi).max(initial=0.0)))
        lam += rho * c
        mu = np.maximum(0.0, mu - rho * gi)
        if violation < 1e-10:
            ok = True
            break
        if violation > 0.25 * previous:
            rho *= 10.0
        previous = violation
    return z, _Result(ok, "augmented Lagrangian converged" if ok else
                      "augmented Lagrangian: constraints not met to 1e-10 after 30 rounds", nit)


def _finish(problem: _Problem, objective: Objective, z: np.ndarray, res: Any, total: float | None,
            started: float, penalty: float = 0.0) -> Solution:
    box, p = problem.box, problem.planner
    x = repair(problem.x_of(z), box, total)
    x0 = repair(problem.x_of(problem.z0), box, total)

    def score(xx: np.ndarray) -> float:
        zz = xx.ravel()[problem.free] / problem.scale
        return -p.value(objective, zz, problem.free, problem.fixed, problem.scale, penalty)

    value, value0 = score(x), score(x0)
    if value < value0:  # never return less than the start (the historical allocation)
        x, value = x0, value0
    if res is None:
        success, message, nit = False, "stopped at the time limit", -1
    else:
        success, message, nit = bool(res.success), str(res.message), int(res.nit)
    return Solution(x, value, success, message, nit, problem.n_evaluations,
                    time.perf_counter() - started)


def solve_budget(planner: Planner, box: Box, budget: float, objective: Objective, *,
                 start: np.ndarray | None = None, method: str = "auto", gradient: str = "jax",
                 maxiter: int = 1000, ftol: float = 1e-12, time_limit: float | None = None
                 ) -> Solution:
    """Maximise ``objective`` over plans spending exactly ``budget`` within ``box``.

    ``method``: 'auto', 'SLSQP' or 'augmented-lagrangian'; ``gradient``: 'jax' or
    'finite-difference' (SciPy's 2-point differences; SLSQP only). ``time_limit``
    (seconds) stops SLSQP at its last iterate."""
    started = time.perf_counter()
    box.check_budget(budget)
    x0 = repair(start, box, budget) if start is not None else start_point(planner, box, budget)
    problem = _Problem(planner, box, x0)
    free_budget = budget - problem.fixed.sum()
    fun = problem.function(objective, 0.0, gradient)
    f0 = planner.value(objective, problem.z0, problem.free, problem.fixed, problem.scale)
    problem.f_scale = max(abs(f0), 1e-9 * max(budget, 1.0), 1e-300)
    if free_budget <= 0:  # everything free sits at 0: nothing to choose
        return _finish(problem, objective, np.zeros_like(problem.z0), _Result(True, "", 0),
                       budget, started)
    eq = (problem.scale / free_budget, 1.0)
    z, res = _run(problem, fun, gradient == "jax", problem.z_bounds(), eq,
                  problem.total_constraints(), method, maxiter, ftol, time_limit)
    sol = _finish(problem, objective, z, res, budget, started)
    if start is not None:
        # a warm start (frontier, TargetROI) may lead into a worse local optimum of
        # S-shaped curves: keep the promise of never doing worse than the historical mix
        cold = _Problem(planner, box, start_point(planner, box, budget))
        if -planner.value(objective, cold.z0, cold.free, cold.fixed, cold.scale) > sol.value:
            return solve_budget(planner, box, budget, objective, method=method,
                                gradient=gradient, maxiter=maxiter, ftol=ftol,
                                time_limit=time_limit)
    return sol


def solve_marginal(planner: Planner, box: Box, value: float, objective: Objective, *,
                   method: str = "auto", maxiter: int = 1000, ftol: float = 1e-12) -> Solution:
    """Maximise ``objective - value * spend``: every free cell spends until its marginal
    ROI falls to ``value`` (or it reaches a bound)."""
    started = time.perf_counter()
    x0 = repair(planner.reference.copy(), box, None)
    problem = _Problem(planner, box, x0)
    fun = problem.function(objective, value, "jax")
    f0 = planner.value(objective, problem.z0, problem.free, problem.fixed, problem.scale)
    problem.f_scale = max(abs(f0), 1e-9 * max(planner.reference.sum(), 1.0), 1e-300)
    z, res = _run(problem, fun, True, problem.z_bounds(cap=SEARCH_CAP), None,
                  problem.total_constraints(), method, maxiter, ftol, None)
    return _finish(problem, objective, z, res, None, started, penalty=value)
