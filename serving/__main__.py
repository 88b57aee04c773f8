"""`python -m serving BASE_DIR --port 8501 [--grpc-port 8500]`: the local model server."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from serving.cli import main  # noqa: E402

raise SystemExit(main())
