"""Guards every service passes, checked the day a service appears.

The services are those ``make up`` runs (``stockwire.devstack.services.SERVICES``), and
every package under ``services/`` must be one of them. Each service follows the template
in ``docs/adding-a-service.md``: ``stockwire.<name>.domain`` (pure),
``stockwire.<name>.tables.metadata`` (every table it owns) and
``stockwire.<name>.settings`` (its settings class).
"""

import ast
import asyncio
import importlib
import inspect
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy import inspect as inspect_schema

from stockwire.contracts.topics import ALL_TOPICS
from stockwire.devstack.services import SERVICES
from stockwire.notifier.channels import CHANNEL_ENV_PREFIX
from stockwire.runtime.db import asyncpg_dsn, create_engine
from stockwire.runtime.migrate import alembic_config, upgrade
from stockwire.runtime.settings import SERVICE_PORTS, Settings

ROOT = Path(__file__).resolve().parents[2]
NAMES = [service.name for service in SERVICES]
FORBIDDEN_IN_DOMAIN = ("fastapi", "faststream", "pydantic", "sqlalchemy", "asyncpg", "aiokafka")
DEPLOY_GUIDE = ROOT / "docs" / "deploy.md"
PORTS = {f"{name}_port" for name in SERVICE_PORTS}


def test_every_service_package_is_one_make_up_runs():
    packages = sorted(path.name for path in (ROOT / "services").iterdir() if path.is_dir())

    assert packages == sorted(NAMES)


@pytest.mark.parametrize("service", NAMES)
def test_its_domain_imports_nothing_of_the_frameworks(service: str):
    domain = ROOT / "services" / service / "src" / "stockwire" / service / "domain"
    modules = sorted(f"stockwire.{service}.domain." + path.stem for path in domain.glob("*.py"))
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )

    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )

    assert modules
    assert [name for name in FORBIDDEN_IN_DOMAIN if name in loaded] == []


@pytest.mark.parametrize("service", NAMES)
async def test_its_migrations_produce_exactly_its_tables(service: str, settings: Settings):
    """A fresh database migrated to head holds exactly the tables, columns, indexes and
    constraints ``stockwire.<service>.tables.metadata`` declares; back to base, nothing."""
    guard = settings.model_copy(update={"database_prefix": f"{settings.database_prefix}guard_"})
    server = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{guard.database_name(service)}"')
    finally:
        await server.close()
    metadata: MetaData = importlib.import_module(f"stockwire.{service}.tables").metadata
    await asyncio.to_thread(upgrade, guard, service)
    engine = create_engine(guard, service)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        await asyncio.to_thread(command.downgrade, alembic_config(guard, service), "base")
        async with engine.connect() as conn:
            left = await conn.run_sync(lambda sync: inspect_schema(sync).get_table_names())
    finally:
        await engine.dispose()

    assert differences == []
    assert sorted(left) == ["alembic_version"]


def _settings_class(service: str) -> type[Settings]:
    module = importlib.import_module(f"stockwire.{service}.settings")
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, Settings) and value is not Settings
    ]
    assert len(found) == 1, f"stockwire.{service}.settings declares {found}"
    return found[0]


@pytest.mark.parametrize("service", [None, *NAMES], ids=lambda s: s or "runtime")
def test_every_setting_is_in_the_deploy_guide(service: str | None):
    settings = Settings if service is None else _settings_class(service)
    guide = DEPLOY_GUIDE.read_text(encoding="utf-8")

    missing = [
        f"STOCKWIRE_{name.upper()}"
        for name in settings.model_fields
        if f"`STOCKWIRE_{name.upper()}`" not in guide
        and not (name in PORTS and "`STOCKWIRE_<SERVICE>_PORT`" in guide)
    ]

    assert missing == []


TOPIC_NAMES = {spec.name for spec in ALL_TOPICS} | {spec.dlq for spec in ALL_TOPICS}
TOPIC_LIKE = re.compile(r"^[a-z]+\.[a-z0-9-]+\.v[0-9]+(\.dlq)?$")


@pytest.mark.parametrize("package", ["runtime", *NAMES])
def test_every_topic_is_named_through_the_registry(package: str):
    """No string in a service's (or the runtime's) code spells a topic's name: topics are
    ``stockwire.contracts.topics`` specs, so a renamed topic cannot leave a copy behind.
    Docstrings may mention topics; they are prose, not names the code uses."""
    source = (
        ROOT / "runtime" / "src" if package == "runtime" else ROOT / "services" / package / "src"
    )
    spelled = []
    for path in sorted(source.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        prose = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in prose
            ):
                for word in (w.strip(".") for w in re.findall(r"[\w.-]+", node.value)):
                    if word in TOPIC_NAMES or TOPIC_LIKE.match(word):
                        spelled.append(f"{path.relative_to(ROOT)}:{node.lineno}: {word}")

    assert spelled == []


@pytest.mark.parametrize("service", NAMES)
def test_it_is_type_checked(service: str):
    """``mypy`` (run by ``make test``) checks ``services/*/src``, but names a file's module
    from the package bases in ``mypy_path``: a service missing there fails with errors
    that do not say why."""
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]

    assert "services/*/src" in mypy["files"]
    assert f"services/{service}/src" in mypy["mypy_path"]


DEPLOY_ONLY = {"STOCKWIRE_IMAGE"}
"""Names in deploy/ that are not settings: compose's image variable."""
NOT_SETTINGS = (CHANNEL_ENV_PREFIX,)
"""Prefixes of names in deploy/ that are not settings: the notifier's channel URLs."""


def test_every_setting_the_deploy_files_name_exists():
    """A renamed setting leaves no stale name in deploy/, where it would silently do
    nothing (pydantic ignores unknown environment variables)."""
    known = {f"STOCKWIRE_{name.upper()}" for name in Settings.model_fields}
    for service in NAMES:
        known |= {f"STOCKWIRE_{name.upper()}" for name in _settings_class(service).model_fields}
    named = {
        name
        for path in (ROOT / "deploy").rglob("*")
        if path.is_file()
        for name in re.findall(r"STOCKWIRE_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="ignore"))
    }

    stale = {name for name in named - known - DEPLOY_ONLY if not name.startswith(NOT_SETTINGS)}
    assert sorted(stale) == []
