"""``python -m stockwire.stock``: serve stock (HTTP and consumers) until SIGTERM or SIGINT."""

from stockwire.runtime.service import serve
from stockwire.stock.bootstrap import bootstrap
from stockwire.stock.settings import StockSettings


def main() -> None:
    app, runtime = bootstrap(StockSettings())
    serve(app, runtime)


if __name__ == "__main__":
    main()
