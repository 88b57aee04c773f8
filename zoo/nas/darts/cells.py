"""DARTS's cell search space: where the reduction cells sit, and the searchable `SearchCell`.

A network is a stem, `num_cells` cells and a classifier. Cell `k` reads the outputs of cells
`k - 2` and `k - 1` (the stem's output stands in for both before the first cell), maps each to
the cell's width with a 1x1 ReLU-conv-BN (a `FactorizedReduce` where cell `k - 1` halved the
resolution), and computes `num_nodes` intermediate nodes, each the sum of an edge from every
earlier state; its output concatenates the intermediate nodes. The cells at one and two thirds
of the depth are reduction cells: their edges from the two inputs have stride 2 and the width
doubles.

Reference:
    Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019, §2.1, A.1.
"""

from __future__ import annotations

import keras

from layers.validation import check_positive_int
from zoo.nas.darts.genotype import edge_index, num_edges
from zoo.nas.mixed_op import MixedOp
from zoo.nas.ops import FactorizedReduce, ReLUConvBN


def reduction_cells(num_cells: int) -> tuple[int, ...]:
    """Indices of the reduction cells: `num_cells // 3` and `2 * num_cells // 3` (distinct)."""
    return tuple(sorted({num_cells // 3, 2 * num_cells // 3}))


def cell_plan(num_cells: int, channels: int) -> list[tuple[int, bool, bool]]:
    """`(width, reduction, reduction_prev)` of each cell: the width doubles at each reduction."""
    plan, reduction_prev = [], False
    for k in range(num_cells):
        reduction = k in reduction_cells(num_cells)
        if reduction:
            channels *= 2
        plan.append((channels, reduction, reduction_prev))
        reduction_prev = reduction
    return plan


def preprocessing(channels: int, reduction_prev: bool, name: str, dtype=None):
    """The layers mapping a cell's two inputs to its width: `(for input 0, for input 1)`."""
    pre0 = (
        FactorizedReduce(channels, name=f"{name}_pre0", dtype=dtype)
        if reduction_prev
        else ReLUConvBN(channels, name=f"{name}_pre0", dtype=dtype)
    )
    return pre0, ReLUConvBN(channels, name=f"{name}_pre1", dtype=dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SearchCell(keras.layers.Layer):
    """A searchable cell: a `MixedOp` on every edge, mixed by weights given at call time.

    `cell(s0, s1, weights)`: `weights` is `(num_edges, len(op_names))`, one row per edge in
    `zoo.nas.darts.genotype.edge_index` order. `cell.edges[e]` is edge `e`'s `MixedOp`,
    `cell.pre0`/`cell.pre1` the input preprocessing.

    Args:
        op_names: the candidate operations.
        channels: the cell's width (channels of every node).
        num_nodes: intermediate nodes. Defaults to `4`.
        reduction: whether this is a reduction cell. Defaults to `False`.
        reduction_prev: whether the previous cell was one. Defaults to `False`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    cell = SearchCell(OP_NAMES, channels=16)
    out = cell(s0, s1, keras.ops.softmax(alpha_normal))  # (batch, h, w, 4 * 16)
    ```
    """

    def __init__(
        self,
        op_names,
        channels: int,
        num_nodes: int = 4,
        reduction: bool = False,
        reduction_prev: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.op_names = list(op_names)
        self.channels = check_positive_int("channels", channels)
        self.num_nodes = check_positive_int("num_nodes", num_nodes)
        self.reduction = bool(reduction)
        self.reduction_prev = bool(reduction_prev)
        self.pre0, self.pre1 = preprocessing(channels, reduction_prev, "cell", self.dtype_policy)
        self.edges = []
        for node in range(num_nodes):
            for source in range(2 + node):
                stride = 2 if reduction and source < 2 else 1
                self.edges.append(
                    MixedOp(
                        self.op_names,
                        channels,
                        stride,
                        name=f"edge_{edge_index(node, source)}",
                        dtype=self.dtype_policy,
                    )
                )

    @property
    def num_edges(self) -> int:
        return num_edges(self.num_nodes)

    def call(self, s0, s1, weights, training=None):
        states = [self.pre0(s0, training=training), self.pre1(s1, training=training)]
        for node in range(self.num_nodes):
            total = None
            for source, state in enumerate(states):
                e = edge_index(node, source)
                term = self.edges[e](state, weights[e], training=training)
                total = term if total is None else total + term
            states.append(total)
        return keras.ops.concatenate(states[2:], axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "op_names": self.op_names,
            "channels": self.channels,
            "num_nodes": self.num_nodes,
            "reduction": self.reduction,
            "reduction_prev": self.reduction_prev,
        }
