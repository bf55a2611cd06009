"""``python -m bench.validation``: run the validation study (see run.py)."""

from bench.validation.run import main

raise SystemExit(main())
