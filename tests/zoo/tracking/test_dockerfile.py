"""The Dockerfile cannot be built here (no Docker daemon): its inputs are checked instead."""

import fnmatch
import importlib.metadata
import os
import re
import shlex

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def _instructions():
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", _read("Dockerfile"))
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_dockerfile_copies_existing_files_and_runs_make_test():
    instructions = _instructions()
    arguments = {
        a.split("=", 1)[0]: a.split("=", 1)[1] for i, a in instructions if i == "ARG" and "=" in a
    }
    assert arguments["BASE_IMAGE"] == "python:3.11-slim"
    assert ("FROM", "${BASE_IMAGE}") in instructions
    ignored = [p for p in _read(".dockerignore").splitlines() if p and not p.startswith("#")]
    sources = []
    for instruction, argument in instructions:
        if instruction == "COPY":
            *copied, _ = shlex.split(argument)
            sources += copied
    assert "requirements-lock.txt" in sources and "zoo" in sources
    for source in sources:
        assert os.path.exists(os.path.join(ROOT, source)), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    assert instructions[-1] == ("CMD", '["make", "test"]')
    # The stamp the Dockerfile touches is the one `make test` depends on.
    (stamp,) = re.findall(r"touch \"\.venv/(\.installed-[^\"]+)\"", _read("Dockerfile"))
    assert re.search(rf"^test: \$\(VENV\)/{re.escape(stamp)}$", _read("Makefile"), re.M)


def test_lock_pins_every_requirement_of_the_project_within_its_ranges():
    """The lock pins each of `keras-zoo[all,test]`'s own requirements at a version its range
    allows. (Not "equal to the installed versions": a fresh install may pick newer releases;
    `make lock` rewrites the lock from the environment it runs in.)"""
    lines = [line for line in _read("requirements-lock.txt").splitlines() if line]
    pins = {
        canonicalize_name(name): version
        for name, version in (line.split("==") for line in lines if not line.startswith("#"))
    }
    assert {"tensorflow", "keras", "mlflow", "codecarbon", "pytest", "flwr"} <= set(pins)
    extras = importlib.metadata.metadata("keras-zoo").get_all("Provides-Extra")
    for text in importlib.metadata.requires("keras-zoo"):
        requirement = Requirement(text)
        marker = requirement.marker
        applies = marker is None or any(marker.evaluate({"extra": e}) for e in extras)
        if requirement.name == "keras-zoo" or not applies:
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} is outside {requirement.specifier}: run `make lock`"
        )
