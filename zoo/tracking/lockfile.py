"""The pinned versions a container rebuilds the project with: `requirements-lock.txt`.

`python -m zoo.tracking.lockfile > requirements-lock.txt` writes, from the current environment,
`name==version` for every package `keras-zoo[all,test]` needs (its requirements, theirs, and
so on), nothing else. The `Dockerfile` installs from it.
"""

from __future__ import annotations

import importlib.metadata
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "keras-zoo"
EXTRAS = ("all", "test")


def _requirements(name: str, extras: frozenset[str]) -> list[Requirement]:
    """The requirements of installed `name` that apply here with `extras`."""
    found = []
    for text in importlib.metadata.distribution(name).requires or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras or {""}):
            found.append(requirement)
    return found


def pinned_requirements(project: str = PROJECT, extras=EXTRAS) -> dict[str, str]:
    """`{canonical name: installed version}` for everything `project[extras]` needs.

    Walks the requirements of the installed distributions (markers evaluated for this
    interpreter and platform, extras followed, including a project's extras that name the
    project itself), from `project` down.

    Args:
        project: the installed distribution to start from. Defaults to `"keras-zoo"`.
        extras: its extras. Defaults to `("all", "test")`.

    Returns:
        The pins, sorted by name; `project` itself is not among them.

    Example:

    ```python
    pins = pinned_requirements()
    print(pins["tensorflow"])  # "2.21.0"
    ```
    """
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    queue = [(canonicalize_name(project), frozenset(extras))]
    while queue:
        name, wanted = queue.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        try:
            pins[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError as error:
            raise ValueError(
                f"{name!r} is required but not installed; install the project with its extras "
                f"first. Received: {project}[{','.join(extras)}]"
            ) from error
        for requirement in _requirements(name, wanted):
            queue.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    pins.pop(canonicalize_name(project))
    return dict(sorted(pins.items()))


def lock_text(project: str = PROJECT, extras=EXTRAS) -> str:
    """`requirements-lock.txt`'s content: a header, then one `name==version` a line."""
    python = ".".join(map(str, sys.version_info[:2]))
    lines = [
        f"# Pinned by `python -m zoo.tracking.lockfile` for {project}[{','.join(extras)}] "
        f"on Python {python} ({sys.platform}).",
        *(f"{name}=={version}" for name, version in pinned_requirements(project, extras).items()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(lock_text())
