"""`DartsNetwork`: the plain Keras network of a DARTS genotype; `build_from_genotype`."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_rate
from zoo.models import Task, check_output_activation, classification_head
from zoo.nas.darts.cells import cell_plan, preprocessing
from zoo.nas.darts.genotype import Genotype, edge_index
from zoo.nas.ops import BN_EPSILON, BN_MOMENTUM, make_op
from zoo.vision.inputs import check_image_shape


def edge_layer_name(cell: int, node: int, source: int, op_name: str) -> str:
    """Name of the layer on edge `source -> node` of cell `cell` (as the supernet numbers it)."""
    return f"cell_{cell}_edge_{edge_index(node, source)}_{op_name}"


@keras.saving.register_keras_serializable(package="keras_zoo")
class DartsNetwork(Task):
    """The network of a DARTS genotype: the search network's stem, cells and classifier with
    only the genotype's edges, as a functional keras model (no architecture parameters, no
    mixing). Trains with `fit`, saves as `.keras`, exports with `serving.export`.

    Layer names follow the supernet (`stem_conv`, `cell_{k}_pre0`,
    `cell_{k}_edge_{e}_{op}`, `logits`), so `copy_search_weights` moves trained supernet
    weights onto it. The paper's evaluation network also has an auxiliary head and drop-path;
    they are left out (a training choice, not part of the architecture).

    Args:
        genotype: a `Genotype` or its dict (`Genotype.to_dict()`).
        input_shape: `(height, width, channels)` of the images. Defaults to `(8, 8, 1)`.
        image_size: side the images are resized to inside the model. Defaults to `16`.
        num_classes: classes. Defaults to `10`.
        channels: width of the first cells (doubled at each reduction). Defaults to `16`.
        num_cells: cells; those at one and two thirds of the depth reduce. Defaults to `5`.
        stem_multiplier: the stem's width is `stem_multiplier * channels`. Defaults to `3`.
        dropout: dropout before the classifier. Defaults to `0.0`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    model = DartsNetwork(genotype=search_model.derive(), num_classes=10)
    model.fit(images, labels, epochs=10)
    ```

    Reference:
        Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019.
    """

    def __init__(
        self,
        genotype,
        input_shape=(8, 8, 1),
        image_size: int = 16,
        num_classes: int = 10,
        channels: int = 16,
        num_cells: int = 5,
        stem_multiplier: int = 3,
        dropout: float = 0.0,
        output_activation: str | None = None,
        **kwargs,
    ):
        checked = Genotype.from_dict(genotype)
        image_shape = check_image_shape("input_shape", input_shape, allow_none=False)
        check_positive_int("image_size", image_size)
        check_positive_int("num_classes", num_classes)
        check_positive_int("channels", channels)
        check_positive_int("num_cells", num_cells)
        check_positive_int("stem_multiplier", stem_multiplier)
        check_rate("dropout", dropout)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)

        inputs = keras.Input(shape=image_shape, name="images")
        x = inputs
        if image_shape[:2] != (image_size, image_size):
            x = keras.layers.Resizing(image_size, image_size, name="resize", dtype=dtype)(x)
        x = keras.layers.Conv2D(
            stem_multiplier * channels,
            3,
            padding="same",
            use_bias=False,
            name="stem_conv",
            dtype=dtype,
        )(x)
        s0 = s1 = keras.layers.BatchNormalization(
            momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="stem_bn", dtype=dtype
        )(x)
        for k, (width, reduction, reduction_prev) in enumerate(cell_plan(num_cells, channels)):
            cell_edges = checked.reduce if reduction else checked.normal
            s0, s1 = s1, _cell(s0, s1, k, cell_edges, width, reduction, reduction_prev, dtype)
        x = keras.layers.GlobalAveragePooling2D(name="global_pool", dtype=dtype)(s1)
        outputs = classification_head(
            x, num_classes, dropout=dropout, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.image_shape = image_shape
        self.parsed_genotype = checked


def _cell(s0, s1, k, edges, width, reduction, reduction_prev, dtype):
    pre0, pre1 = preprocessing(width, reduction_prev, f"cell_{k}", dtype)
    states = [pre0(s0), pre1(s1)]
    for node in range(len(edges) // 2):
        terms = []
        for op_name, source in edges[2 * node : 2 * node + 2]:
            stride = 2 if reduction and source < 2 else 1
            name = edge_layer_name(k, node, source, op_name)
            terms.append(make_op(op_name, width, stride, name=name, dtype=dtype)(states[source]))
        states.append(keras.layers.Add(name=f"cell_{k}_node_{node}", dtype=dtype)(terms))
    return keras.layers.Concatenate(name=f"cell_{k}_output", dtype=dtype)(states[2:])


def build_from_genotype(genotype, **kwargs) -> DartsNetwork:
    """The plain, trainable Keras network of `genotype` (a `Genotype`, its dict or its JSON).

    Args:
        genotype: the architecture, e.g. `DartsSearchModel.derive()` or `genotype.json`'s text.
        **kwargs: the other `DartsNetwork` arguments (`num_classes`, `channels`, ...).

    Returns:
        A compiled `DartsNetwork`.

    Raises:
        ValueError: the genotype does not fit the space (an unknown op, a source that does not
            precede its node, an odd number of edges), naming what is wrong.

    Example:

    ```python
    model = build_from_genotype(open("genotype.json").read(), num_classes=10)
    ```
    """
    if isinstance(genotype, str):
        genotype = Genotype.from_json(genotype)
    return DartsNetwork(genotype=Genotype.from_dict(genotype).to_dict(), **kwargs)


def copy_search_weights(search_model, network: DartsNetwork) -> None:
    """Copies a `DartsSearchModel`'s weights onto the layers of `network` (built from one of
    its genotypes with the same `channels`, `num_cells`, `image_size` and `stem_multiplier`):
    stem, cell preprocessing, the chosen operation of every kept edge, classifier.

    Raises:
        ValueError: the two networks do not match (a layer of `network` has no counterpart,
            or its weights have other shapes).

    Example:

    ```python
    network = build_from_genotype(search_model.derive(), channels=search_model.channels, ...)
    copy_search_weights(search_model, network)
    ```
    """
    if len(search_model.cells) != network.num_cells:
        raise ValueError(
            f"The search model has {len(search_model.cells)} cells, the network "
            f"{network.num_cells}. Received: num_cells={network.num_cells}"
        )
    pairs = [
        (search_model.stem_conv, "stem_conv"),
        (search_model.stem_bn, "stem_bn"),
        (search_model.classifier, "logits"),
    ]
    genotype = network.parsed_genotype
    for k, cell in enumerate(search_model.cells):
        pairs += [(cell.pre0, f"cell_{k}_pre0"), (cell.pre1, f"cell_{k}_pre1")]
        edges = genotype.reduce if cell.reduction else genotype.normal
        for i, (op_name, source) in enumerate(edges):
            edge = cell.edges[edge_index(i // 2, source)]
            if op_name not in edge.op_names:
                raise ValueError(
                    f"The genotype uses an operation the search model lacks; it has "
                    f"{edge.op_names}. Received: op_name={op_name!r}"
                )
            layer = edge.ops[edge.op_names.index(op_name)]
            pairs.append((layer, edge_layer_name(k, i // 2, source, op_name)))
    for source_layer, name in pairs:
        target = network.get_layer(name)
        values = source_layer.get_weights()
        shapes = [tuple(w.shape) for w in target.weights]
        if [tuple(v.shape) for v in values] != shapes:
            raise ValueError(
                f"Layer {name!r} has weights of shapes {shapes} in the network but "
                f"{[v.shape for v in values]} in the search model. "
                f"Received: network={network.name!r}"
            )
        target.set_weights(values)
