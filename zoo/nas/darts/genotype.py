"""The discrete architecture DARTS derives: a `Genotype`, and `derive()` from the mixing weights.

Reference:
    Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019, §2.4.
"""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np

from zoo.nas.ops import OP_NAMES, check_op_name


def num_edges(num_nodes: int) -> int:
    """Edges of a cell with `num_nodes` intermediate nodes: node j has `2 + j` inputs."""
    return sum(2 + j for j in range(num_nodes))


def edge_index(node: int, source: int) -> int:
    """The index of the edge from state `source` (0, 1: the cell inputs) into node `node`."""
    return sum(2 + j for j in range(node)) + source


@keras.saving.register_keras_serializable(package="keras_zoo")
@dataclasses.dataclass(frozen=True)
class Genotype:
    """A derived DARTS architecture: two incoming edges per intermediate node, for the normal
    and the reduction cell; each cell outputs the concatenation of all its intermediate nodes.

    Attributes:
        normal: `(op_name, source)` pairs, two per node in node order; `source` is 0 or 1 for
            the cell's inputs (the outputs of the cells two and one back) or `2 + k` for
            intermediate node `k`, which must come before the node.
        reduce: the same for the reduction cell (edges from sources 0 and 1 have stride 2).

    Example:

    ```python
    genotype = Genotype.from_json(open("genotype.json").read())
    model = build_from_genotype(genotype, num_classes=10)
    ```
    """

    normal: tuple
    reduce: tuple

    def __post_init__(self):
        for cell in ("normal", "reduce"):
            object.__setattr__(self, cell, _check_cell(cell, getattr(self, cell)))
        if len(self.normal) != len(self.reduce):
            raise ValueError(
                "The normal and the reduction cell must have as many nodes. Received: "
                f"normal with {len(self.normal) // 2} nodes, reduce with {len(self.reduce) // 2}"
            )

    @property
    def num_nodes(self) -> int:
        """Intermediate nodes per cell."""
        return len(self.normal) // 2

    def check_fits(self, op_names=OP_NAMES, num_nodes: int | None = None) -> Genotype:
        """Raises `ValueError` unless every op is among `op_names` and, where given, the cells
        have `num_nodes` nodes; returns the genotype."""
        for cell in ("normal", "reduce"):
            for op_name, _ in getattr(self, cell):
                if op_name not in op_names:
                    raise ValueError(
                        f"The genotype's {cell} cell uses an operation outside the search space "
                        f"{list(op_names)}. Received: op_name={op_name!r}"
                    )
        if num_nodes is not None and self.num_nodes != num_nodes:
            raise ValueError(
                f"The genotype has {self.num_nodes} nodes per cell but the space has "
                f"{num_nodes}. Received: num_nodes={num_nodes}"
            )
        return self

    def to_dict(self) -> dict:
        return {cell: [list(edge) for edge in getattr(self, cell)] for cell in ("normal", "reduce")}

    @classmethod
    def from_dict(cls, value) -> Genotype:
        if isinstance(value, Genotype):
            return value
        if not isinstance(value, dict) or set(value) != {"normal", "reduce"}:
            raise ValueError(
                "A genotype must be a dict with keys 'normal' and 'reduce'. "
                f"Received: genotype={value!r}"
            )
        return cls(normal=value["normal"], reduce=value["reduce"])

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        return cls.from_dict(json.loads(text))

    # Keras serialisation: a genotype given to `DartsNetwork` is saved inside its config.
    def get_config(self) -> dict:
        return self.to_dict()

    @classmethod
    def from_config(cls, config: dict) -> Genotype:
        return cls.from_dict(config)


def _check_cell(cell: str, edges) -> tuple:
    if isinstance(edges, str) or not isinstance(edges, list | tuple) or not edges:
        raise ValueError(
            f"`{cell}` must be a non-empty list of (op_name, source) pairs. Received: "
            f"{cell}={edges!r}"
        )
    if len(edges) % 2:
        raise ValueError(
            f"`{cell}` must hold two (op_name, source) pairs per node. Received: {cell} with "
            f"{len(edges)} pairs"
        )
    checked = []
    for k, edge in enumerate(edges):
        if not isinstance(edge, list | tuple) or len(edge) != 2:
            raise ValueError(f"`{cell}[{k}]` must be an (op_name, source) pair. Received: {edge!r}")
        op_name, source = edge
        check_op_name(op_name)
        if op_name == "none":
            raise ValueError(f"A derived cell has no 'none' edges. Received: {cell}[{k}]={edge!r}")
        node = k // 2
        if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < 2 + node:
            raise ValueError(
                f"`{cell}[{k}]` feeds node {node}, whose sources are 0..{node + 1}. "
                f"Received: source={source!r}"
            )
        if k % 2 and checked[-1][1] == source:
            raise ValueError(
                f"The two edges into node {node} of `{cell}` come from one source. "
                f"Received: source={source!r}"
            )
        checked.append((op_name, source))
    return tuple(checked)


def derive(weights_normal, weights_reduce, op_names=OP_NAMES) -> Genotype:
    """The discrete architecture of DARTS §2.4: for each intermediate node, the two incoming
    edges whose strongest non-`none` operation has the largest weight, each with that op.

    Args:
        weights_normal: `(num_edges, len(op_names))` mixing weights (softmax of the
            architecture parameters) of the normal cell; edges in `edge_index` order.
        weights_reduce: the same for the reduction cell.
        op_names: the operation of each column. Defaults to `OP_NAMES`.

    Returns:
        A `Genotype`.

    Example:

    ```python
    genotype = derive(*search_model.mixing_weights())
    ```
    """
    op_names = [check_op_name(name) for name in op_names]
    candidates = [i for i, name in enumerate(op_names) if name != "none"]
    if not candidates:
        raise ValueError(f"`op_names` has no operation but 'none'. Received: op_names={op_names}")
    cells = []
    for cell, weights in (("weights_normal", weights_normal), ("weights_reduce", weights_reduce)):
        weights = np.asarray(weights, dtype="float64")
        nodes = _nodes_for(weights.shape[0]) if weights.ndim == 2 else None
        if nodes is None or weights.shape[1] != len(op_names):
            raise ValueError(
                f"`{cell}` must be (num_edges, {len(op_names)}) with num_edges = 2 + 3 + ... "
                f"(one row per edge). Received: {cell} with shape {weights.shape}"
            )
        edges = []
        for node in range(nodes):
            rows = weights[edge_index(node, 0) : edge_index(node, 0) + 2 + node][:, candidates]
            strongest = rows.max(axis=1)
            # Stable: the earlier source wins a tie.
            for source in sorted(np.argsort(-strongest, kind="stable")[:2]):
                edges.append((op_names[candidates[int(np.argmax(rows[source]))]], int(source)))
        cells.append(edges)
    return Genotype(normal=cells[0], reduce=cells[1])


def _nodes_for(edges: int) -> int | None:
    nodes = 0
    while num_edges(nodes) < edges:
        nodes += 1
    return nodes if nodes and num_edges(nodes) == edges else None
