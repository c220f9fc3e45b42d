"""Every service's HTTP app through its real bootstrap, for the shared HTTP layer's tests."""

import uuid

from fastapi import FastAPI

from stockwire.catalog.bootstrap import bootstrap as catalog_bootstrap
from stockwire.catalog.settings import CatalogSettings
from stockwire.runtime.auth import hash_token
from stockwire.runtime.settings import ApiToken, Settings
from stockwire.stock.bootstrap import bootstrap as stock_bootstrap
from stockwire.stock.settings import StockSettings

TOKEN = f"http-layer-{uuid.uuid4().hex}"
SERVICES = ("catalog", "stock")


def build_app(service: str, settings: Settings, **overrides: object) -> FastAPI:
    """``service``'s app on ``settings`` (a token with every scope added)."""
    token = ApiToken(name="http-tests", sha256=hash_token(TOKEN), scopes={"admin"})
    values = settings.model_dump() | {"api_tokens": [token]} | overrides
    if service == "catalog":
        return catalog_bootstrap(CatalogSettings(**values))[0]
    return stock_bootstrap(StockSettings(**values), consumers=False)[0]
