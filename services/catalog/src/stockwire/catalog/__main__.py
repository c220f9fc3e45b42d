"""``python -m stockwire.catalog``: serve the catalog until SIGTERM or SIGINT."""

from stockwire.catalog.bootstrap import bootstrap
from stockwire.catalog.settings import CatalogSettings
from stockwire.runtime.service import serve


def main() -> None:
    app, runtime = bootstrap(CatalogSettings())
    serve(app, runtime)


if __name__ == "__main__":
    main()
