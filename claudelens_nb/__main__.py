"""python -m claudelens_nb"""

import sys

from .cli import main

sys.exit(main())
