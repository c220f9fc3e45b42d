from stockwire.notifier.bootstrap import bootstrap
from stockwire.notifier.settings import NotifierSettings
from stockwire.runtime.service import serve


def main() -> None:
    app, runtime = bootstrap(NotifierSettings())
    serve(app, runtime)


if __name__ == "__main__":
    main()
