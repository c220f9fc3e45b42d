from stockwire.replenishment.bootstrap import bootstrap
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.runtime.service import serve


def main() -> None:
    app, runtime = bootstrap(ReplenishmentSettings())
    serve(app, runtime)


if __name__ == "__main__":
    main()
