"""``python -m stockwire.catalog``: serve the catalog until SIGTERM or SIGINT."""

from stockwire.catalog.bootstrap import bootstrap
from stockwire.runtime.service import serve
from stockwire.runtime.settings import Settings


def main() -> None:
    app, runtime = bootstrap(Settings())
    serve(app, runtime)


if __name__ == "__main__":
    main()
