# keras-zoo with pinned versions: the environment a recorded run (run.json) is rebuilt in.
#
# CPU (default):
#   docker build -t keras-zoo .
#   docker run --rm keras-zoo                       # runs `make test`
#   docker run --rm -v "$PWD/artifacts:/work/keras-zoo/artifacts" keras-zoo \
#       .venv/bin/zoo train mlp_digits --seed 0 --output artifacts/train
#
# CUDA variant (documented, not built in CI): TensorFlow's own `and-cuda` extra installs the CUDA
# and cuDNN wheels; the host needs an NVIDIA driver and the NVIDIA Container Toolkit.
#   docker build -t keras-zoo:cuda --build-arg TENSORFLOW_EXTRA=and-cuda .
#   docker run --rm --gpus all keras-zoo:cuda
# (Or start from TensorFlow's GPU image: --build-arg BASE_IMAGE=tensorflow/tensorflow:2.21.0-gpu;
# it must provide Python 3.11, the version requirements-lock.txt was pinned on.)
#
# requirements-lock.txt is written by `python -m zoo.tracking.lockfile` from a working .venv;
# tests/zoo/tracking/test_dockerfile.py checks that it pins every requirement within its range.

ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG TENSORFLOW_EXTRA=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

# make runs the tests; git lets run.json record a commit when the sources are a checkout.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /work/keras-zoo

# The pinned dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements-lock.txt ./
RUN python -m venv .venv \
    && .venv/bin/pip install --require-virtualenv -r requirements-lock.txt \
    && if [ -n "$TENSORFLOW_EXTRA" ]; then \
        .venv/bin/pip install "tensorflow[$TENSORFLOW_EXTRA]==$(grep '^tensorflow==' requirements-lock.txt | cut -d= -f3)"; \
    fi

# The project itself, editable, without touching the pinned dependencies.
COPY pyproject.toml setup.cfg README.md Makefile ./
COPY layers ./layers
COPY zoo ./zoo
COPY tfrecords ./tfrecords
COPY serving ./serving
COPY tests ./tests
COPY benchmarks ./benchmarks
RUN .venv/bin/pip install --no-deps -e . \
    && .venv/bin/pip check \
    # make's stamp for `make test`: the extras are installed (from the lock), do not reinstall.
    && touch ".venv/.installed-all,test"

CMD ["make", "test"]
