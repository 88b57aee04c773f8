# The two commands: `make demo` and `make test` (`make test-slow` adds the learning runs). Each
# creates .venv when missing and installs the project into it (editable) with the extras it needs.
PYTHON ?= python3
VENV ?= .venv
# Hugging Face transformers on torch CPU (peers and parity references; see its target below).
HF_VENV ?= .venv-hf
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2 --durations=25

.PHONY: demo test test-slow bench bench-rl bench-dqn bench-meta bench-dp bench-nas bench-ssl bench-detr bench-electra lock docker bench-tfmot bench-hub bench-graph bench-tfa bench-addons lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras; reinstalls when the packaging files change.
$(VENV)/.installed-%: pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-serving
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/zoo demo

test: $(VENV)/.installed-all,test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The learning runs (`@pytest.mark.slow`), which `make test` leaves out.
test-slow: $(VENV)/.installed-all,test
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

bench: $(VENV)/.installed-all,test
	$(BIN)/python -m benchmarks

# The RL comparison runs stable-baselines3 (PyTorch) from its own environment: never a dependency.
SB3_VENV ?= .venv-sb3
$(SB3_VENV)/bin/python:
	$(PYTHON) -m venv $(SB3_VENV)
	$(SB3_VENV)/bin/python -m pip install --quiet torch==2.13.0 stable-baselines3 sb3-contrib gymnasium

# Seven seeds, as the SAC goal is stated; override with `make bench-rl RL_SEEDS=0,1,2 RL_ALGOS=sac`.
RL_SEEDS ?= 0,1,2,3,4,5,6
RL_ALGOS ?= ppo,sac
bench-rl: $(VENV)/.installed-all,test $(SB3_VENV)/bin/python
	SB3_PYTHON=$(SB3_VENV)/bin/python RL_SEEDS=$(RL_SEEDS) RL_ALGOS=$(RL_ALGOS) \
		$(BIN)/python -m benchmarks.bench_rl

# DQN / Rainbow (and QR-DQN from sb3-contrib) to CartPole 475 and Acrobot -100 vs SB3's DQN.
bench-dqn: $(VENV)/.installed-all,test $(SB3_VENV)/bin/python
	SB3_PYTHON=$(SB3_VENV)/bin/python RL_SEEDS=0,1,2,3,4 DQN_SIDES=rainbow,sb3,qrdqn,dqn \
		$(BIN)/python -m benchmarks.bench_dqn

# The meta-learning comparison runs learn2learn (PyTorch) from its own environment: never a
# dependency. learn2learn 0.2.0 is an sdist whose C files were made by a Cython older than
# Python 3.11, so they are regenerated before the build; its package `__init__` needs
# torchvision and gym, which benchmarks/meta_peer.py does not import (it loads the two modules
# it uses), so neither is installed (PyPI's torchvision does not load with the CPU torch wheel).
L2L_VENV ?= .venv-l2l
L2L_SRC ?= /tmp/learn2learn-src
$(L2L_VENV)/bin/python:
	$(PYTHON) -m venv $(L2L_VENV)
	$(L2L_VENV)/bin/python -m pip install --quiet torch==2.13.0 numpy scipy cython setuptools wheel
	rm -rf $(L2L_SRC) && mkdir -p $(L2L_SRC)
	$(L2L_VENV)/bin/python -m pip download --quiet --no-deps --no-binary :all: \
		learn2learn==0.2.0 -d $(L2L_SRC)
	tar xzf $(L2L_SRC)/learn2learn-0.2.0.tar.gz -C $(L2L_SRC)
	cd $(L2L_SRC)/learn2learn-0.2.0 && $(abspath $(L2L_VENV))/bin/cython -3 learn2learn/data/*.pyx
	$(L2L_VENV)/bin/python -m pip install --quiet --no-build-isolation --no-deps \
		$(L2L_SRC)/learn2learn-0.2.0

bench-meta: $(VENV)/.installed-all,test $(L2L_VENV)/bin/python
	L2L_PYTHON=$(L2L_VENV)/bin/python $(BIN)/python -m benchmarks.bench_meta

# The DP-SGD comparison runs Opacus (PyTorch) from its own environment: never a dependency.
OPACUS_VENV ?= .venv-opacus
$(OPACUS_VENV)/bin/python:
	$(PYTHON) -m venv $(OPACUS_VENV)
	$(OPACUS_VENV)/bin/python -m pip install --quiet torch==2.13.0 opacus numpy

bench-dp: $(VENV)/.installed-all,test $(OPACUS_VENV)/bin/python
	OPACUS_PYTHON=$(OPACUS_VENV)/bin/python $(BIN)/python -m benchmarks.bench_dp
	$(BIN)/python -m benchmarks.bench_dp --learning

# DARTS's search cost against a plain epoch of the same supernet, and its learning figures. Its
# peer, Microsoft NNI, does not run here (NNI 3.0's DARTS imports pytorch_lightning, which it does
# not declare; BENCHMARKS.md); the OFA and ProxylessNAS figures come from bench_ofa.
bench-nas: $(VENV)/.installed-all,test
	$(BIN)/python -m benchmarks.bench_nas --nodes 2 --second-order
	$(BIN)/python -m benchmarks.bench_ofa

# SimCLR and MoCo v2 on upscaled digits: 10%-label linear probe vs supervised, and step times.
bench-ssl: $(VENV)/.installed-all,test
	$(BIN)/python -m benchmarks.bench_ssl

# DETR: AP on the generated shapes set, then DETR-R50 speed vs Hugging Face (torch, .venv-hf).
bench-detr: $(VENV)/.installed-all,test $(HF_VENV)/bin/python
	$(BIN)/python -m benchmarks.bench_detr learn --epochs 60 --eval-every 10
	$(BIN)/python -m benchmarks.bench_detr speed --peer-python $(HF_VENV)/bin/python

# ELECTRA (replaced-token detection) vs an MLM BERT of the same size and steps, fine-tuned on
# the standard library's docstring task (3 seeds).
bench-electra: $(VENV)/.installed-all,test
	$(BIN)/python -m benchmarks.bench_electra --seeds 0,1,2

# The pinned versions the Dockerfile installs; run after changing dependencies in pyproject.toml.
lock: $(VENV)/.installed-all,test
	$(BIN)/python -m zoo.tracking.lockfile > requirements-lock.txt

# The CPU image (runs `make test` by default); the Dockerfile's header shows the CUDA variant.
docker:
	docker build -t keras-zoo .

# The graph comparison runs PyTorch Geometric from its own environment: never a dependency.
# NeighborLoader samples with pyg-lib or torch-sparse; pyg-lib has no wheels on PyPI, so
# torch-scatter and torch-sparse are compiled against the installed torch (pip builds them
# from source: about 40 minutes on 2 cores, once; pip caches the wheels).
PYG_VENV ?= .venv-pyg
$(PYG_VENV)/bin/python:
	$(PYTHON) -m venv $(PYG_VENV)
	$(PYG_VENV)/bin/python -m pip install --quiet torch==2.13.0 torch_geometric==2.8.1 numpy scipy
	$(PYG_VENV)/bin/python -m pip install --quiet --no-build-isolation torch-scatter==2.1.2
	$(PYG_VENV)/bin/python -m pip install --quiet --no-build-isolation torch-sparse==0.6.18

bench-graph: $(VENV)/.installed-all,test $(PYG_VENV)/bin/python
	PYG_PYTHON=$(PYG_VENV)/bin/python $(BIN)/python -m benchmarks.bench_graph

# The QAT comparison runs tfmot on tf_keras from its own environment: never a dependency.
TFMOT_VENV ?= .venv-tfmot
$(TFMOT_VENV)/bin/python:
	$(PYTHON) -m venv $(TFMOT_VENV)
	$(TFMOT_VENV)/bin/python -m pip install --quiet tensorflow==2.21.0 tf-keras==2.21.0 \
		tensorflow-model-optimization==0.8.1 scikit-learn

bench-tfmot: $(VENV)/.installed-all,test $(TFMOT_VENV)/bin/python
	TFMOT_PYTHON=$(TFMOT_VENV)/bin/python $(BIN)/python -m benchmarks.bench_quantization

# The training-step comparison runs TensorFlow Addons on TF 2.15 / Keras 2 from its own
# environment (TFA's last release supports TF up to 2.15): never a dependency.
TFA_VENV ?= .venv-tfa
$(TFA_VENV)/bin/python:
	$(PYTHON) -m venv $(TFA_VENV)
	$(TFA_VENV)/bin/python -m pip install --quiet tensorflow==2.15.1 tensorflow-addons==0.23.0

bench-tfa: $(VENV)/.installed-all,test $(TFA_VENV)/bin/python
	TFA_PYTHON=$(TFA_VENV)/bin/python $(BIN)/python -m benchmarks.bench_tfa

# TFA's CRF, beam search and LazyAdam against `layers.addons`, call by call (same environment).
bench-addons: $(VENV)/.installed-all,test $(TFA_VENV)/bin/python
	TFA_PYTHON=$(TFA_VENV)/bin/python $(BIN)/python -m benchmarks.bench_addons

# The ViT/Swin/BERT/DistilBERT throughput comparison needs keras-hub: its own environment too.
HUB_VENV ?= .venv-hub
$(HUB_VENV)/bin/python:
	$(PYTHON) -m venv $(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip install --quiet -e ".[text]" keras-hub

# Hugging Face transformers on torch CPU: the generation, T5 and DETR peers (and the parity
# fixture scripts' reference), in its own environment: never a dependency.
$(HF_VENV)/bin/python:
	$(PYTHON) -m venv $(HF_VENV)
	$(HF_VENV)/bin/python -m pip install --quiet torch==2.13.0 transformers==5.24.0 tokenizers \
		safetensors sentencepiece scipy numpy

bench-hub: $(HUB_VENV)/bin/python $(HF_VENV)/bin/python
	$(HUB_VENV)/bin/python -m benchmarks.bench_vision
	$(HUB_VENV)/bin/python -m benchmarks.bench_text
	$(HUB_VENV)/bin/python -m benchmarks.bench_generation --hf-python $(HF_VENV)/bin/python
	$(HUB_VENV)/bin/python -m benchmarks.bench_t5 --hf-python $(HF_VENV)/bin/python

lint: $(VENV)/.installed-all,test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-all,test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(SB3_VENV) $(TFMOT_VENV) $(HUB_VENV) $(PYG_VENV) $(TFA_VENV) $(L2L_VENV) $(OPACUS_VENV) $(HF_VENV) artifacts .pytest_cache .ruff_cache
