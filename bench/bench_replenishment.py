"""Replenishment forecasts proven on real data, the stock they lead to, the re-plan's
speed, and how fast a level change becomes its suggestion, in one run.

1. Accuracy on the car-parts benchmark (bench/replenishment_carparts.py): every one of
   857 monthly series forecast for 2002-01 to 2002-03 from the 48 months before, all
   857 x 3 points scored, for Stockwire's ``forecast_frame`` and, in the same run, the
   statsforecast baselines (naive, Croston, SBA, TSB 0.1/0.1, ADIDA, IMAPA) with Poisson
   quantiles around the Croston and TSB means. Stockwire's method choice and calibration
   see the 48 months only. Also the two other ways of choosing a method (the
   Syntetos-Boylan rule, each series' own holdout pick).
2. Inventory simulation (bench/replenishment_simulation.py): 12 monthly reviews, order-up-to
   at a 95% cycle service level, lead time 1 month, each review fed by forecasts from the
   months before it, for Stockwire's policy and a Croston + normal safety stock baseline.
3. Re-plan (bench/replenishment_replan.py): ``forecast_frame`` over 50,000 synthetic
   weekly SKU x location series (104 weeks), ``n_jobs=2``: ``replan_s`` (wall) and
   ``replan_cpu_s`` (this process and its workers).
4. Suggestion latency (bench/replenishment_latency.py): the real service on the test
   stack, given a realistic state, then drained vans' level changes, idle and beside a
   background load: ``suggestion_p50_ms``, ``suggestion_p99_ms``, against the broker's
   own round trip (``broker_p99_ms``) in the same run.

Steps 1-3 need no server; step 4 runs on the test stack (as the tests do), alone on its
PostgreSQL.

    make bench-replenishment                          # about 10 minutes
    BENCH_REPLAN_SKUS=100 make bench-replenishment    # 10,000 series in the re-plan
"""

import os
import resource
import time

from replenishment_carparts import (
    Scorer,
    alternative_figures,
    baseline_figures,
    baseline_forecasts,
    load_parts,
    split,
    stockwire_figures,
)
from replenishment_latency import RUN_LOCK, SERVICE, suggestion_latency
from replenishment_replan import HORIZON as REPLAN_HORIZON
from replenishment_replan import describe, weekly_history
from replenishment_simulation import run as simulate
from report import Target, progress, report
from service_bench import main as on_the_test_stack

from stockwire.replenishment.forecasting import forecast_frame
from stockwire.runtime.settings import Settings

SEED = int(os.environ.get("BENCH_SEED", "1"))
REPLAN_SKUS = int(os.environ.get("BENCH_REPLAN_SKUS", "500"))
REPLAN_JOBS = 2
BASELINE_NAMES = ("naive", "croston", "sba", "tsb", "adida", "imapa")


def cpu_seconds() -> float:
    """CPU time of this process and of its waited-for children (statsforecast's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def accuracy() -> dict[str, float]:
    train, test = split(load_parts())
    scorer = Scorer.of(train, test)
    progress("car parts: statsforecast baselines ...")
    figures = baseline_figures(scorer, baseline_forecasts(train))
    progress("car parts: Stockwire's forecasts ...")
    figures |= stockwire_figures(scorer, train)
    progress("car parts: the Syntetos-Boylan rule and per-series picks ...")
    figures |= alternative_figures(scorer, train)
    progress(
        f"  MSE {figures['mse']:.4f} (best baseline "
        f"{min(figures[f'mse_{name}'] for name in BASELINE_NAMES):.4f}); pinball95 "
        f"{figures['pinball95']:.4f} at coverage {figures['coverage95']:.4f}"
    )
    return figures


def inventory() -> dict[str, float]:
    progress("simulation: 13 monthly reviews (one warm-up), two policies ...")
    ours, baseline = simulate(load_parts())
    progress(
        f"  Stockwire: cycle service {ours.service_level:.4f}, fill rate "
        f"{ours.fill_rate:.4f}, {ours.avg_stock:.3f} units; baseline "
        f"{baseline.service_level:.4f}, {baseline.fill_rate:.4f}, {baseline.avg_stock:.3f}"
    )
    return {
        "service_level": ours.service_level,
        "fill_rate": ours.fill_rate,
        "avg_stock": ours.avg_stock,
        "service_level_baseline": baseline.service_level,
        "fill_rate_baseline": baseline.fill_rate,
        "avg_stock_baseline": baseline.avg_stock,
    }


def replan() -> dict[str, float]:
    history = weekly_history(SEED, skus=REPLAN_SKUS)
    progress(f"re-plan: {describe(history)}; n_jobs={REPLAN_JOBS} ...")
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    result = forecast_frame(history, horizon=REPLAN_HORIZON, n_jobs=REPLAN_JOBS)
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    classes = result.series["demand_class"].value_counts().to_dict()
    progress(f"  {elapsed:.1f} s wall, {cpu:.1f} s CPU; classes {classes}")
    return {
        "replan_series": float(len(result.series)),
        "replan_s": elapsed,
        "replan_cpu_s": cpu,
    }


def main() -> None:
    """The pure figures first, before any event loop: statsforecast's worker processes,
    forked under the loop's SIGTERM handler, would signal it as they end. Then the
    service's, on the test stack."""
    pure = accuracy() | inventory() | replan()

    async def run(settings: Settings) -> bool:
        figures = pure | await suggestion_latency(settings)
        targets: dict[str, Target] = {
            "mse": ("<=", min(figures[f"mse_{name}"] for name in BASELINE_NAMES)),
            "pinball95": (
                "<=",
                min(figures["pinball95_poisson_croston"], figures["pinball95_poisson_tsb"]),
            ),
            "coverage95_gap": ("<=", 0.02),
            "service_level": (">=", 0.94),
            "avg_stock": ("<=", figures["avg_stock_baseline"]),
            "replan_s": ("<=", 60.0),
            "suggestion_p99_ms": ("<=", 500.0),
            "suggestions_missing": ("<=", 0.0),
        }
        return report("replenishment", figures, targets)

    on_the_test_stack(SERVICE, RUN_LOCK, run)


if __name__ == "__main__":
    main()
