from stockwire.assets.bootstrap import bootstrap
from stockwire.assets.settings import AssetsSettings
from stockwire.runtime.service import serve


def main() -> None:
    app, runtime = bootstrap(AssetsSettings())
    serve(app, runtime)


if __name__ == "__main__":
    main()
