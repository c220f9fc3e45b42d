import sys

from stockwire.devstack.cli import main

sys.exit(main())
