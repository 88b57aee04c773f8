"""FusedBatchNormalization: parity with Keras's BatchNormalization, the fused-kernel dispatch,
moving statistics, mixed precision, XLA, saving and serving, and Conv-4 under MAML/Reptile."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
from layers import FusedBatchNormalization
from tests import harness
from zoo.meta import MAML, Conv4Backbone, Reptile, functional

RNG = np.random.default_rng(0)
IMAGES = RNG.normal(2.0, 3.0, size=(6, 5, 4, 3)).astype("float32")


def twin_layers(**kwargs):
    """A Keras BatchNormalization and a FusedBatchNormalization with the same random weights."""
    keras_bn = keras.layers.BatchNormalization(**kwargs)
    fused_bn = FusedBatchNormalization(**kwargs)
    axis = kwargs.get("axis", -1)
    for layer in (keras_bn, fused_bn):
        layer.build(IMAGES.shape if axis in (-1, 3) else np.moveaxis(IMAGES, -1, 1).shape)
    rng = np.random.default_rng(1)
    values = [rng.normal(size=v.shape).astype("float32") for v in keras_bn.weights]
    values[-1] = np.abs(values[-1]) + 0.5  # a valid moving variance
    keras_bn.set_weights(values)
    fused_bn.set_weights(values)
    return keras_bn, fused_bn


def outputs_and_gradients(layer, x, training):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(tf.cast(y, "float32") * tf.sin(tf.cast(y, "float32")))
    return y, tape.gradient(loss, [x, *layer.trainable_weights])


def op_types(fn, *args) -> set[str]:
    graph = tf.function(fn).get_concrete_function(*args).graph
    types = {op.type for op in graph.get_operations()}
    for function in graph.as_graph_def().library.function:  # gradient and cond bodies
        types |= {node.op for node in function.node_def}
    return types


def test_harness_on_images():
    harness.run_layer_test(
        FusedBatchNormalization,
        {"momentum": 0.9},
        IMAGES,
        expected_output_shape=IMAGES.shape,
        call_kwargs={"training": True},
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_outputs_gradients_and_moving_statistics_match_keras(axis, training, affine):
    x = IMAGES if axis == -1 else np.moveaxis(IMAGES, -1, 1).copy()
    keras_bn, fused_bn = twin_layers(axis=axis, momentum=0.8, center=affine, scale=affine)
    for _ in range(2):  # the second call reads updated moving statistics
        expected, expected_grads = outputs_and_gradients(keras_bn, x, training)
        actual, actual_grads = outputs_and_gradients(fused_bn, x, training)
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
        assert len(actual_grads) == (3 if affine else 1)
        for got, want in zip(actual_grads, expected_grads, strict=True):
            scale = np.abs(want).max()
            np.testing.assert_allclose(got / scale, want / scale, atol=1e-5)
        for got, want in zip(
            fused_bn.non_trainable_weights, keras_bn.non_trainable_weights, strict=True
        ):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("unbiased", [False, True])
def test_moving_statistics_update_by_hand(unbiased):
    layer = FusedBatchNormalization(momentum=0.75, unbiased_moving_variance=unbiased)
    output = layer(IMAGES, training=True)
    values = IMAGES.reshape(-1, 3).astype("float64")
    mean, variance = values.mean(0), values.var(0, ddof=1 if unbiased else 0)
    np.testing.assert_allclose(layer.moving_mean, 0.25 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance, 0.75 + 0.25 * variance, rtol=1e-5)
    # Training normalises with the biased batch variance either way.
    biased = (IMAGES - mean) / np.sqrt(values.var(0) + 1e-3)
    np.testing.assert_allclose(output, biased, rtol=1e-4, atol=1e-5)
    # Inference normalises with the moving statistics.
    moving = (IMAGES - 0.25 * mean) / np.sqrt(0.75 + 0.25 * variance + 1e-3)
    np.testing.assert_allclose(layer(IMAGES, training=False), moving, rtol=1e-4, atol=1e-5)


def test_unbiased_moving_variance_on_the_keras_path():
    flat = IMAGES.reshape(-1, 3)
    layer = FusedBatchNormalization(momentum=0.5, unbiased_moving_variance=True)
    keras_bn = keras.layers.BatchNormalization(momentum=0.5)
    np.testing.assert_allclose(layer(flat, training=True), keras_bn(flat, training=True), 1e-5)
    np.testing.assert_allclose(layer.moving_variance, 0.5 + 0.5 * flat.var(0, ddof=1), 1e-5)
    mask = np.arange(len(flat)) % 3 != 0
    masked = FusedBatchNormalization(momentum=0.5, unbiased_moving_variance=True)
    masked(flat[None], training=True, mask=mask[None])
    np.testing.assert_allclose(masked.moving_variance, 0.5 + 0.5 * flat[mask].var(0, ddof=1), 1e-4)


def test_frozen_layer_runs_in_inference_mode():
    keras_bn, fused_bn = twin_layers()
    keras_bn.trainable = fused_bn.trainable = False
    before = [w.numpy() for w in fused_bn.weights]
    np.testing.assert_allclose(fused_bn(IMAGES, training=True), keras_bn(IMAGES), 1e-5, 1e-5)
    for got, want in zip(fused_bn.weights, before, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "kwargs, x, call_kwargs, fused",
    [
        ({}, IMAGES, {}, True),
        ({"axis": 1}, np.moveaxis(IMAGES, -1, 1).copy(), {}, True),
        ({}, IMAGES.reshape(6, -1), {}, False),
        ({}, IMAGES[0], {}, False),
        ({"axis": 2}, IMAGES, {}, False),
        ({"dtype": "float64"}, IMAGES.astype("float64"), {}, False),
        ({"renorm": True}, IMAGES, {}, False),
        ({"epsilon": 1e-6}, IMAGES, {}, False),
        ({}, IMAGES, {"mask": np.ones(IMAGES.shape[:-1], bool)}, False),
    ],
    ids=["nhwc", "nchw", "rank2", "rank3", "axis2", "float64", "renorm", "epsilon", "mask"],
)
def test_fused_kernel_dispatch_and_keras_fallback(kwargs, x, call_kwargs, fused):
    keras_bn = keras.layers.BatchNormalization(momentum=0.5, **kwargs)
    layer = FusedBatchNormalization(momentum=0.5, **kwargs)
    types = op_types(lambda t: layer(t, training=True, **call_kwargs), x)
    assert ("FusedBatchNormV3" in types) is fused
    np.testing.assert_allclose(
        layer(x, training=True, **call_kwargs),
        keras_bn(x, training=True, **call_kwargs),
        rtol=1e-5,
        atol=1e-5,
    )
    np.testing.assert_allclose(layer.moving_variance, keras_bn.moving_variance, rtol=1e-5)


@pytest.mark.parametrize("training", [True, False])
def test_xla_training_step_matches_eager(training):
    _, fused_bn = twin_layers(momentum=0.5)
    eager_y, eager_grads = outputs_and_gradients(fused_bn, IMAGES, training)
    eager_moving = [w.numpy() for w in fused_bn.non_trainable_weights]
    _, compiled_bn = twin_layers(momentum=0.5)
    step = tf.function(lambda x: outputs_and_gradients(compiled_bn, x, training), jit_compile=True)
    xla_y, xla_grads = step(tf.constant(IMAGES))
    np.testing.assert_allclose(xla_y, eager_y, rtol=1e-5, atol=1e-5)
    for got, want in zip(xla_grads, eager_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    for got, want in zip(compiled_bn.non_trainable_weights, eager_moving, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("policy, atol", [("mixed_float16", 4e-3), ("mixed_bfloat16", 3e-2)])
def test_mixed_precision_computes_in_16_bits_with_float32_variables(policy, atol):
    half = policy.removeprefix("mixed_")
    with harness.dtype_policy(policy):
        keras_bn, fused_bn = twin_layers(momentum=0.5)
        x = tf.cast(IMAGES, half)
        expected, expected_grads = outputs_and_gradients(keras_bn, x, True)
        actual, actual_grads = outputs_and_gradients(fused_bn, x, True)
        types = op_types(lambda t: fused_bn(t, training=True), x)
    assert "FusedBatchNormV3" in types
    assert actual.dtype == half
    assert {v.dtype for v in fused_bn.weights} == {"float32"}
    as_float = lambda t: np.asarray(tf.cast(t, "float32"))  # noqa: E731
    np.testing.assert_allclose(as_float(actual), as_float(expected), atol=atol)
    for got, want in zip(actual_grads, expected_grads, strict=True):
        assert got.dtype == want.dtype
        scale = np.abs(as_float(want)).max()
        np.testing.assert_allclose(as_float(got) / scale, as_float(want) / scale, atol=atol / 2)
    for got, want in zip(
        fused_bn.non_trainable_weights, keras_bn.non_trainable_weights, strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=atol / 4, atol=atol / 4)


def test_config_round_trip_and_errors():
    layer = FusedBatchNormalization(axis=1, momentum=0.9, unbiased_moving_variance=True)
    config = harness.assert_config_round_trip(layer)
    assert config["unbiased_moving_variance"] is True
    assert isinstance(layer, keras.layers.BatchNormalization)
    with pytest.raises(ValueError, match="out of range for 4-D inputs"):
        FusedBatchNormalization(axis=4)(IMAGES)
    with pytest.raises(ValueError, match="known size"):
        FusedBatchNormalization().build((None, 4, 4, None))
    with pytest.raises(ValueError, match="axis=.*-1"):
        FusedBatchNormalization(axis=[-1])
    with pytest.raises(ValueError, match="momentum=1.5"):
        FusedBatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon=0"):
        FusedBatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match="renorm=True"):
        FusedBatchNormalization(unbiased_moving_variance=True, renorm=True)


def conv_model(fused=True):
    images = keras.Input((5, 4, 3))
    bn = FusedBatchNormalization if fused else keras.layers.BatchNormalization
    x = bn(momentum=0.5, name="bn")(keras.layers.Conv2D(4, 3, padding="same")(images))
    return keras.Model(images, keras.layers.Dense(2)(keras.layers.Flatten()(x)))


def test_fit_then_saved_model_and_serving_export(tmp_path):
    model = conv_model()
    model.compile("adam", "mse")
    model.fit(IMAGES, RNG.normal(size=(6, 2)), epochs=2, batch_size=3, verbose=0)
    assert not np.allclose(model.get_layer("bn").moving_mean, 0.0)
    expected = model.predict(IMAGES, verbose=0)
    model.export(str(tmp_path / "saved"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(reloaded.serve(IMAGES), expected, rtol=1e-5, atol=1e-5)
    served = tf.saved_model.load(serving.export(model, tmp_path / "models", "fusedbn"))
    outputs = served.signatures["serving_default"](tf.constant(IMAGES))
    np.testing.assert_allclose(list(outputs.values())[0], expected, rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.get_layer("bn"), FusedBatchNormalization)
    np.testing.assert_allclose(loaded.predict(IMAGES, verbose=0), expected, rtol=1e-5)


# Conv-4 and the meta-learners.


def test_conv4_uses_the_fused_layer_and_old_configs_load_as_saved(tmp_path):
    small = {"image_size": 8, "filters": 4, "num_blocks": 2}
    assert isinstance(Conv4Backbone(**small).get_layer("block_0_bn"), FusedBatchNormalization)
    old = Conv4Backbone(**small, fused_batch_norm=False)
    assert type(old.get_layer("block_0_bn")) is keras.layers.BatchNormalization
    x = RNG.normal(size=(3, 8, 8, 1)).astype("float32")
    old(x, training=True)  # moving statistics away from their initial values
    old.save(tmp_path / "new.keras")
    # A file saved before the argument existed: the same, without it in the config.
    with zipfile.ZipFile(tmp_path / "new.keras") as source:
        files = {name: source.read(name) for name in source.namelist()}
    config = json.loads(files["config.json"])
    del config["config"]["fused_batch_norm"]
    files["config.json"] = json.dumps(config)
    with zipfile.ZipFile(tmp_path / "old.keras", "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    loaded = keras.saving.load_model(tmp_path / "old.keras")
    assert type(loaded.get_layer("block_0_bn")) is keras.layers.BatchNormalization
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0)["embedding"], old.predict(x, verbose=0)["embedding"]
    )
    with pytest.raises(TypeError, match="fused_batch_norm=1"):
        Conv4Backbone(**small, fused_batch_norm=1)


def conv4_classifier(fused, dtype="float32"):
    keras.utils.set_random_seed(3)
    backbone = Conv4Backbone(
        image_size=8, filters=4, num_blocks=2, fused_batch_norm=fused, dtype=dtype
    )
    images = keras.Input((8, 8, 1), dtype=dtype)
    logits = keras.layers.Dense(3, dtype=dtype)(backbone(images)["embedding"])
    return keras.Model(images, logits)


def few_shot_episodes(tasks=2):
    rng = np.random.default_rng(5)
    support_x = rng.normal(size=(tasks, 6, 8, 8, 1)).astype("float32")
    query_x = rng.normal(size=(tasks, 9, 8, 8, 1)).astype("float32")
    support_y = np.tile(np.arange(3), (tasks, 2)).astype("int32")
    query_y = np.tile(np.arange(3), (tasks, 3)).astype("int32")
    return support_x, support_y, query_x, query_y


def maml_query_loss(model, weights, dtype):
    """One task's query loss after one inner SGD step (lr 0.1) from `weights`."""
    support_x, support_y, query_x, query_y = (part[0] for part in few_shot_episodes())
    task_loss = functional.loss_function("sparse_categorical_crossentropy")
    _, non_trainable = functional.current_weights(model)
    support_x, query_x = (tf.constant(x.astype(dtype)) for x in (support_x, query_x))
    gradients = functional.support_gradients(
        model, task_loss, weights, non_trainable, support_x, support_y
    )
    adapted = [w - 0.1 * g for w, g in zip(weights, gradients, strict=True)]
    predictions, _ = functional.call_with_weights(model, adapted, non_trainable, query_x)
    return task_loss(query_y, predictions)


def test_maml_second_order_meta_gradient_matches_finite_differences():
    """MAML's meta-gradient differentiates the inner gradient, i.e. the fused kernel's
    backward pass (TensorFlow's `FusedBatchNormGradV3` gradient). Reference: central
    differences of the float64 query loss of the same network with Keras's layer (its forward
    pass and first derivative are exact; its second derivative is not: `tf.nn.moments` stops
    the gradient of the mean inside the variance, which drops a second-order term)."""
    fused = conv4_classifier(True)
    reference = conv4_classifier(False, dtype="float64")
    for target, source in zip(reference.weights, fused.weights, strict=True):
        target.assign(source.numpy().astype("float64"))
    weights, _ = functional.current_weights(fused)
    with tf.GradientTape() as tape:
        tape.watch(weights)
        loss = maml_query_loss(fused, weights, "float32")
    meta_gradient = tape.gradient(loss, weights)
    reference_weights, _ = functional.current_weights(reference)
    rng = np.random.default_rng(0)
    names = [v.path for v in fused.trainable_variables]
    for index in (0, 2, 3, 4):  # block 0 kernel, gamma, beta; block 1 kernel
        direction = rng.normal(size=weights[index].shape)
        direction /= np.linalg.norm(direction)
        losses = []
        for sign in (1.0, -1.0):
            moved = list(reference_weights)
            moved[index] = moved[index] + sign * 1e-5 * direction
            losses.append(float(maml_query_loss(reference, moved, "float64")))
        expected = (losses[0] - losses[1]) / 2e-5
        actual = float(np.sum(meta_gradient[index].numpy() * direction))
        assert actual == pytest.approx(expected, rel=2e-3, abs=1e-5), names[index]


@pytest.mark.parametrize("method", ["fomaml", "reptile"])
def test_first_order_meta_learners_step_as_with_keras_batch_norm(method):
    """One XLA meta-step of first-order MAML and of Reptile from the same weights moves them
    as it does with Keras's BatchNormalization (first derivatives agree)."""
    weights = {}
    for fused in (False, True):
        model = conv4_classifier(fused)
        if method == "fomaml":
            learner = MAML(model, inner_lr=0.1, inner_steps=2, first_order=True)
            learner.compile(keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy")
        else:
            learner = Reptile(model, inner_lr=0.1, inner_steps=3, meta_step_size=1.0)
            learner.compile(loss="sparse_categorical_crossentropy")
        learner.fit(tf.data.Dataset.from_tensors(few_shot_episodes()), epochs=1, verbose=0)
        weights[fused] = [v.numpy() for v in model.trainable_variables]
    for got, want in zip(weights[True], weights[False], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
