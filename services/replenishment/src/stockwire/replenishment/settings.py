"""Replenishment's own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from datetime import timedelta

from pydantic import Field

from stockwire.replenishment.unit_of_work import Planning
from stockwire.runtime.settings import Settings


class ReplenishmentSettings(Settings):
    replenishment_public_url: str = Field(
        default="",
        pattern=r"^(https?://\S+)?$",
        description="Replenishment's address as people reach it, for the links in alerts; "
        "empty means http://<http_host>:<replenishment_port>.",
    )
    replenishment_batch_size: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Most events one consumer transaction applies.",
    )
    replenishment_levels_batch_size: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="Most level changes one consumer transaction evaluates: a suggestion is "
        "published when its batch commits, so smaller batches answer sooner.",
    )
    replenishment_replan_interval_s: float = Field(
        default=3600.0,
        ge=1,
        le=7 * 86_400,
        description="Seconds between full re-plans (every series' forecast and accuracy "
        "refreshed, every SKU x location evaluated); the first runs at start. One instance "
        "at a time re-plans.",
    )
    replenishment_history_days: int = Field(
        default=730,
        ge=28,
        le=3650,
        description="Days of demand history a re-plan forecasts from.",
    )
    replenishment_replan_jobs: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Processes a re-plan forecasts with on this machine (statsforecast's "
        "n_jobs), when no Dask scheduler is set.",
    )
    replenishment_dask_scheduler: str = Field(
        default="",
        pattern=r"^((tcp|tls|inproc)://\S+)?$",
        description="Address of a Dask scheduler (tcp://host:8786) to run the re-plan's "
        "forecasts on, through fugue; empty forecasts in this process.",
    )
    replenishment_sweep_interval_s: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description="Seconds between sweeps for suggestions not acted on in time, regional "
        "imbalances and last-time buys; the first runs at start.",
    )
    replenishment_suggestion_overdue_hours: float = Field(
        default=48.0,
        gt=0,
        le=24 * 365,
        description="An open suggestion older than this raises suggestion_overdue.",
    )
    replenishment_rejection_quiet_hours: float = Field(
        default=24.0,
        ge=0,
        le=24 * 365,
        description="After a person rejects a suggestion, the same kind of suggestion (from "
        "the same source) for that SKU x location is not made again for this long; its "
        "projected-stockout alert still stands.",
    )
    replenishment_last_time_buy_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="A model whose end of life is within this many days, with an installed "
        "base, gets a last-time-buy suggestion.",
    )
    replenishment_service_years_after_end_of_life: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="How long the installed base stays in service after end of life: the "
        "horizon a last-time buy covers failures for.",
    )

    def planning(self) -> Planning:
        return Planning(
            public_url=self.public_url(),
            rejection_quiet=timedelta(hours=self.replenishment_rejection_quiet_hours),
        )

    def public_url(self) -> str:
        return self.replenishment_public_url or (
            f"http://{self.http_host}:{self.replenishment_port}"
        )
