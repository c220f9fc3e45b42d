"""Every setting an operator can give a service is in docs/deploy.md's settings tables."""

from pathlib import Path

import pytest

from stockwire.catalog.settings import CatalogSettings
from stockwire.runtime.settings import SERVICE_PORTS, Settings
from stockwire.stock.settings import StockSettings

DEPLOY_DOC = Path(__file__).parents[2] / "docs" / "deploy.md"
PORTS = {f"{service}_port" for service in SERVICE_PORTS}


@pytest.mark.parametrize(
    "settings", [Settings, CatalogSettings, StockSettings], ids=lambda s: s.__name__
)
def test_every_setting_is_in_the_deploy_guide(settings):
    guide = DEPLOY_DOC.read_text(encoding="utf-8")
    missing = [
        f"STOCKWIRE_{name.upper()}"
        for name in settings.model_fields
        if f"`STOCKWIRE_{name.upper()}`" not in guide
        and not (name in PORTS and "`STOCKWIRE_<SERVICE>_PORT`" in guide)
    ]
    assert missing == []
