"""The catalog's own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from pydantic import Field

from stockwire.runtime.settings import Settings


class CatalogSettings(Settings):
    catalog_import_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="Largest CSV file POST /items/import reads (413 beyond it); every other "
        "route is capped by STOCKWIRE_HTTP_MAX_BODY_BYTES.",
    )
