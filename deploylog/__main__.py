import sys

from deploylog.cli import main

sys.exit(main())
