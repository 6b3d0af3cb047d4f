"""python -m claudelens_nb.cli"""

import sys

from . import main

sys.exit(main())
