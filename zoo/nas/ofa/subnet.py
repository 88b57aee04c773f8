"""The standalone network a Once-for-All subnet configuration describes."""

from __future__ import annotations

import keras

from layers.convolution import InvertedResidual
from layers.validation import check_positive_float, check_positive_int, check_positive_ints
from zoo.models import Task, classification_head
from zoo.vision.inputs import check_image_shape


def check_stage_lists(name: str, values, num_stages: int) -> tuple[tuple[int, ...], ...]:
    """One non-empty sequence of positive integers per stage."""
    if not isinstance(values, list | tuple) or len(values) != num_stages:
        raise ValueError(
            f"`{name}` must hold one sequence per stage ({num_stages} stages). "
            f"Received: {name}={values!r}"
        )
    return tuple(check_positive_ints(f"{name}[{i}]", v) for i, v in enumerate(values))


@keras.saving.register_keras_serializable(package="keras_zoo")
class OFASubnetClassifier(Task):
    """A MobileNetV3-style classifier with a kernel size and expand ratio per block.

    The plain network of one Once-for-All configuration (`OnceForAll.extract_subnet` builds it
    and copies the supernet's weights): a 3x3 stride-2 stem, stages of `layers.InvertedResidual`
    blocks (the first block of a stage has the stage's stride), a 1x1 head convolution, global
    average pooling and a dense classifier. It trains with `fit`, saves and exports like any
    zoo model.

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(32, 32, 1)`.
        num_classes: number of classes. Defaults to `10`.
        stem_channels: filters of the stem. Defaults to `8`.
        stage_channels: output channels of each stage. Defaults to `(16, 24, 32)`.
        stage_strides: stride of each stage's first block. Defaults to `(1, 2, 2)`.
        kernels: depthwise kernel size of each block, one sequence per stage (its length is
            the stage's depth). Defaults to `((3,), (3,), (3,))`.
        expands: expand ratio of each block, shaped as `kernels`. Defaults to `((3,), (3,), (3,))`.
        head_channels: filters of the 1x1 head convolution. Defaults to `64`.
        se_ratio: squeeze-excite ratio of every block, or `None`. Defaults to `0.25`.
        activation: activation of the stem, blocks and head. Defaults to `"hard_swish"`.
        norm_momentum: batch normalization momentum. Defaults to `0.99`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    model = OFASubnetClassifier(kernels=((3, 5), (7,), (3,)), expands=((3, 6), (4,), (3,)))
    model.fit(images, labels)
    ```

    Reference:
        Cai et al., "Once-for-All: Train One Network and Specialize it for Efficient
        Deployment", ICLR 2020.
    """

    def __init__(
        self,
        input_shape=(32, 32, 1),
        num_classes: int = 10,
        stem_channels: int = 8,
        stage_channels=(16, 24, 32),
        stage_strides=(1, 2, 2),
        kernels=((3,), (3,), (3,)),
        expands=((3,), (3,), (3,)),
        head_channels: int = 64,
        se_ratio: float | None = 0.25,
        activation: str = "hard_swish",
        norm_momentum: float = 0.99,
        **kwargs,
    ):
        shape = check_image_shape("input_shape", input_shape, allow_none=False)
        check_positive_int("num_classes", num_classes)
        check_positive_int("stem_channels", stem_channels)
        channels = check_positive_ints("stage_channels", stage_channels)
        strides = check_positive_ints("stage_strides", stage_strides)
        if len(strides) != len(channels):
            raise ValueError(
                "`stage_strides` must have one stride per stage of `stage_channels`. "
                f"Received: stage_strides={stage_strides!r}"
            )
        kernel_lists = check_stage_lists("kernels", kernels, len(channels))
        expand_lists = check_stage_lists("expands", expands, len(channels))
        if [len(k) for k in kernel_lists] != [len(e) for e in expand_lists]:
            raise ValueError(
                f"`expands` must have the shape of `kernels`. Received: expands={expands!r}"
            )
        check_positive_int("head_channels", head_channels)
        check_positive_float("se_ratio", se_ratio, allow_none=True)

        dtype = self.dtype_policy_from(kwargs)
        norm = {"momentum": norm_momentum, "epsilon": 1e-3, "dtype": dtype}
        images = keras.Input(shape=shape, name="images")
        x = keras.layers.Conv2D(
            stem_channels,
            3,
            strides=2,
            padding="same",
            use_bias=False,
            name="stem_conv",
            dtype=dtype,
        )(images)
        x = keras.layers.BatchNormalization(name="stem_bn", **norm)(x)
        x = keras.layers.Activation(activation, name="stem_act", dtype=dtype)(x)
        for s, (filters, stride) in enumerate(zip(channels, strides, strict=True)):
            for j, (kernel, expand) in enumerate(
                zip(kernel_lists[s], expand_lists[s], strict=True)
            ):
                x = InvertedResidual(
                    filters,
                    expansion=expand,
                    kernel_size=kernel,
                    strides=stride if j == 0 else 1,
                    se_ratio=se_ratio,
                    activation=activation,
                    norm_momentum=norm_momentum,
                    name=f"stage_{s}_block_{j}",
                    dtype=dtype,
                )(x)
        x = keras.layers.Conv2D(head_channels, 1, use_bias=False, name="head_conv", dtype=dtype)(x)
        x = keras.layers.BatchNormalization(name="head_bn", **norm)(x)
        x = keras.layers.Activation(activation, name="head_act", dtype=dtype)(x)
        x = keras.layers.GlobalAveragePooling2D(name="pool", dtype=dtype)(x)
        outputs = classification_head(x, num_classes, dtype=dtype)
        super().__init__(inputs=images, outputs=outputs, dtype=dtype, **kwargs)


def subnet_of(supernet, kernels, expands, se_ratio, name: str | None = None):
    """An `OFASubnetClassifier` with `supernet`'s stem, stages and head, its shared layers'
    weights copied (stem, head and logits; each search copies its own blocks).

    Args:
        supernet: a `OnceForAll` or `ProxylessSupernet` (their shared attributes and layers).
        kernels: per stage, the kernel size of each block kept.
        expands: per stage, the expand ratio of each block kept.
        se_ratio: the squeeze-and-excite ratio of the blocks, or `None`.
        name: the model's name. Defaults to `None` (Keras picks one).

    Returns:
        The subnet; its blocks hold fresh weights until the caller copies them.

    Example:

    ```python
    model = subnet_of(ofa, ((3,), (5, 3)), ((3,), (4, 6)), se_ratio=0.25)
    ```
    """
    model = OFASubnetClassifier(
        input_shape=supernet.image_shape,
        num_classes=supernet.num_classes,
        stem_channels=supernet.stem_channels,
        stage_channels=supernet.stage_channels,
        stage_strides=supernet.stage_strides,
        kernels=tuple(tuple(k) for k in kernels),
        expands=tuple(tuple(e) for e in expands),
        head_channels=supernet.head_channels,
        se_ratio=se_ratio,
        activation=supernet.activation,
        **({"name": name} if name else {}),
    )
    for layer_name in ("stem_conv", "stem_bn", "head_conv", "head_bn", "logits"):
        model.get_layer(layer_name).set_weights(getattr(supernet, layer_name).get_weights())
    return model
