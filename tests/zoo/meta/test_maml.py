"""MAML, FOMAML and Meta-SGD: meta-gradients against closed forms and finite differences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
from zoo.meta.functional import TransductiveBatchNormalization, call_with_weights
from zoo.meta.maml import MAML

ALPHA = 0.1


def linear_model(dtype="float64", inputs=3, seed=0):
    init = keras.initializers.RandomNormal(seed=seed)
    return keras.Sequential(
        [
            keras.Input((inputs,), dtype=dtype),
            keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init, dtype=dtype),
        ]
    )


def episode(tasks=None, support=5, query=7, inputs=3, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    lead = () if tasks is None else (tasks,)
    shapes = [(support, inputs), (support, 1), (query, inputs), (query, 1)]
    return tuple(rng.normal(size=lead + s).astype(dtype) for s in shapes)


def theta(model):
    kernel, bias = (v.numpy() for v in model.trainable_variables)
    return np.concatenate([kernel.ravel(), bias])


def design(x):
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


def mse_gradient(params, x, y):
    a = design(x)
    return 2.0 / len(x) * a.T @ (a @ params - y.ravel())


def mse(params, x, y):
    return np.mean((design(x) @ params - y.ravel()) ** 2)


def adapted_query_loss(params, sx, sy, qx, qy, steps):
    for _ in range(steps):
        params = params - ALPHA * mse_gradient(params, sx, sy)
    return mse(params, qx, qy)


def compiled_maml(model=None, **kwargs):
    maml = MAML(model or linear_model(), inner_lr=ALPHA, **kwargs)
    maml.compile(keras.optimizers.SGD(1.0), loss="mse")
    return maml


def flat(gradients):
    return np.concatenate([np.ravel(g) for g in gradients])


def test_meta_gradient_matches_finite_differences():
    maml = compiled_maml(inner_steps=3)
    data = episode()
    params = theta(maml.model)
    epsilon = 1e-6
    numeric = []
    for i in range(len(params)):
        step = np.zeros_like(params)
        step[i] = epsilon
        up = adapted_query_loss(params + step, *data, steps=3)
        down = adapted_query_loss(params - step, *data, steps=3)
        numeric.append((up - down) / (2 * epsilon))
    np.testing.assert_allclose(flat(maml.meta_gradients(*data)), numeric, rtol=1e-6, atol=1e-8)


def test_second_order_meta_gradient_matches_closed_form():
    # One inner step on linear regression: (I - a H_s) grad_q(theta - a grad_s(theta)).
    maml = compiled_maml()
    sx, sy, qx, qy = episode()
    params = theta(maml.model)
    adapted = params - ALPHA * mse_gradient(params, sx, sy)
    hessian = 2.0 / len(sx) * design(sx).T @ design(sx)
    expected = (np.eye(len(params)) - ALPHA * hessian) @ mse_gradient(adapted, qx, qy)
    np.testing.assert_allclose(flat(maml.meta_gradients(sx, sy, qx, qy)), expected, rtol=1e-10)


def test_first_order_drops_the_second_order_terms():
    maml = compiled_maml(first_order=True, inner_steps=2)
    sx, sy, qx, qy = episode()
    adapted = theta(maml.model)
    for _ in range(2):
        adapted = adapted - ALPHA * mse_gradient(adapted, sx, sy)
    expected = mse_gradient(adapted, qx, qy)
    np.testing.assert_allclose(flat(maml.meta_gradients(sx, sy, qx, qy)), expected, rtol=1e-10)


def test_meta_batch_gradient_is_the_mean_over_tasks():
    maml = compiled_maml()
    batch = episode(tasks=3)
    per_task = [flat(maml.meta_gradients(*(part[i] for part in batch))) for i in range(3)]
    np.testing.assert_allclose(flat(maml.meta_gradients(*batch)), np.mean(per_task, 0))


def test_fit_step_applies_meta_gradient_and_meta_sgd_rates():
    maml = compiled_maml(learn_inner_lr=True)
    sx, sy, qx, qy = episode()
    params = theta(maml.model)
    support_grad = mse_gradient(params, sx, sy)
    adapted = params - ALPHA * support_grad
    hessian = 2.0 / len(sx) * design(sx).T @ design(sx)
    query_grad = mse_gradient(adapted, qx, qy)
    dataset = tf.data.Dataset.from_tensors(episode(tasks=1))
    history = maml.fit(dataset, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], mse(adapted, qx, qy), rtol=1e-6)
    expected = params - (np.eye(len(params)) - ALPHA * hessian) @ query_grad
    np.testing.assert_allclose(theta(maml.model), expected, rtol=1e-6)
    # d loss / d alpha_i = -grad_s_i * grad_q_i (at the adapted weights); SGD at rate 1.
    rates = flat([rate.numpy() for rate in maml.inner_lrs])
    np.testing.assert_allclose(rates, ALPHA + support_grad * query_grad, rtol=1e-6)


def test_evaluate_reports_query_loss_after_adaptation():
    maml = compiled_maml(inner_steps=2)
    data = episode(tasks=2)
    expected = np.mean(
        [adapted_query_loss(theta(maml.model), *(p[i] for p in data), steps=2) for i in range(2)]
    )
    result = maml.evaluate(tf.data.Dataset.from_tensors(data), verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], expected, rtol=1e-6)


def batch_norm_model():
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(1),
        ]
    )


def test_train_step_under_xla_equals_graph_step():
    data = tf.data.Dataset.from_tensors(episode(tasks=2, dtype="float32"))
    results = []
    for jit in (True, False):
        maml = MAML(batch_norm_model(), inner_lr=ALPHA, inner_steps=2, learn_inner_lr=True)
        maml.compile(keras.optimizers.Adam(0.01), loss="mse", jit_compile=jit)
        maml.fit(data, epochs=1, verbose=0)
        results.append([v.numpy() for v in maml.meta_variables])
    for xla, eager in zip(*results, strict=True):
        np.testing.assert_allclose(xla, eager, rtol=1e-4, atol=1e-6)


def classification_episodes(num_episodes=5, n_way=3):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(num_episodes, n_way * 6, 3)).astype("float32")
    y = np.tile(np.arange(n_way), (num_episodes, 6)).astype("int32")
    return x[:, : n_way * 2], y[:, : n_way * 2], x[:, n_way * 2 :], y[:, n_way * 2 :]


def test_predict_and_episode_accuracies_match_adapt_per_episode():
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(6), keras.layers.BatchNormalization()]
        + [keras.layers.Dense(3)]
    )
    maml = MAML(model, inner_lr=0.5, inner_steps=2)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    maml.compile(keras.optimizers.Adam(0.01), loss=loss, steps_per_execution=2)
    parts = classification_episodes()
    dataset = tf.data.Dataset.from_tensor_slices(parts)
    expected = np.stack(
        [maml.adapt(parts[0][i], parts[1][i])(parts[2][i]).numpy() for i in range(5)]
    )
    np.testing.assert_allclose(maml.predict(dataset.batch(2), verbose=0), expected, atol=1e-5)
    accuracies = np.mean(np.argmax(expected, -1) == parts[3], axis=-1)
    for episodes in (dataset, dataset.batch(3)):  # unbatched, and meta-batches of 3
        np.testing.assert_allclose(maml.episode_accuracies(episodes, verbose=0), accuracies)
    plain = maml.predict(parts[2][0], verbose=0)  # not episodes: the wrapped model's output
    np.testing.assert_allclose(plain, model(parts[2][0]).numpy(), atol=1e-5)


def test_adapted_model_uses_batch_statistics_saves_and_exports(tmp_path):
    maml = MAML(batch_norm_model(), inner_lr=ALPHA, inner_steps=1)
    maml.compile(keras.optimizers.Adam(0.01), loss="mse")
    sx, sy, qx, _ = episode(dtype="float32")
    adapted = maml.adapt(sx, sy)
    assert any(isinstance(layer, TransductiveBatchNormalization) for layer in adapted.layers)
    weights = [tf.convert_to_tensor(w) for w in adapted.trainable_variables]
    non_trainable = [tf.convert_to_tensor(w) for w in adapted.non_trainable_variables]
    expected, _ = call_with_weights(maml.model, weights, non_trainable, qx)
    np.testing.assert_allclose(adapted.predict(qx, verbose=0), expected, rtol=1e-5)
    path = tmp_path / "adapted.keras"
    adapted.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict(qx, verbose=0), expected)
    export_dir = serving.export(adapted, tmp_path / "models", "maml")
    served = tf.saved_model.load(export_dir).signatures["serving_default"]
    np.testing.assert_allclose(
        list(served(tf.constant(qx)).values())[0], expected, rtol=1e-5, atol=1e-6
    )


def test_save_and_load_round_trip(tmp_path):
    maml = MAML(batch_norm_model(), inner_lr=0.05, inner_steps=2, learn_inner_lr=True)
    maml.compile(keras.optimizers.Adam(0.01), loss="mse")
    data = episode(tasks=2, dtype="float32")
    maml.fit(tf.data.Dataset.from_tensors(data), epochs=1, verbose=0)
    path = tmp_path / "maml.keras"
    maml.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, MAML)
    config = loaded.get_config()
    assert (config["inner_lr"], config["inner_steps"], config["learn_inner_lr"]) == (0.05, 2, True)
    assert config["first_order"] is False
    for a, b in zip(loaded.optimizer.variables, maml.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(loaded.meta_variables, maml.meta_variables, strict=True):
        np.testing.assert_array_equal(a, b)
    sx, sy, qx, _ = (part[0] for part in data)
    np.testing.assert_allclose(
        loaded.adapt(sx, sy).predict(qx, verbose=0), maml.adapt(sx, sy).predict(qx, verbose=0)
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inner_steps": 0}, "inner_steps=0"),
        ({"inner_lr": 0.0}, "inner_lr=0.0"),
        ({"inner_lr": -0.1}, "inner_lr=-0.1"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MAML(linear_model(), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"first_order": "yes"}, "first_order='yes'"), ({"learn_inner_lr": 1}, "learn_inner_lr=1")],
)
def test_flags_must_be_bools(kwargs, match):
    with pytest.raises(TypeError, match=match):
        MAML(linear_model(), **kwargs)


def test_unbuilt_model_is_refused():
    with pytest.raises(ValueError, match="must be built"):
        MAML(keras.Sequential([keras.layers.Dense(1)]))


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x)


def test_model_that_cannot_be_cloned_is_refused():
    model = Subclassed()
    model(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="cannot be cloned for adaptation"):
        MAML(model)


def test_meta_gradients_need_a_compiled_loss():
    with pytest.raises(ValueError, match="loss=None"):
        MAML(linear_model()).meta_gradients(*episode())


def test_fit_refuses_data_that_are_not_episodes():
    maml = compiled_maml()
    x, y = episode(tasks=2)[:2]
    with pytest.raises(ValueError, match="takes episodes"):
        maml.fit(tf.data.Dataset.from_tensors((x, y)), epochs=1, verbose=0)


def test_mixed_precision_fit_step_undoes_the_loss_scale():
    data = episode(tasks=1, dtype="float32")
    float32 = compiled_maml(linear_model("float32"))
    expected = theta(float32.model) - flat(float32.meta_gradients(*data))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])  # float16 math
        model.set_weights(float32.model.get_weights())
        maml = MAML(model, inner_lr=ALPHA)
        optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1.0), 2.0**6)
        maml.compile(optimizer, loss="mse")
        maml.fit(tf.data.Dataset.from_tensors(data), epochs=1, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    np.testing.assert_allclose(theta(maml.model), expected, rtol=1e-2, atol=1e-2)


def test_adapts_a_registered_zoo_task_model():
    import zoo

    model = zoo.create("cnn_digits")  # a functional Task subclass with BatchNormalization
    maml = MAML(model, inner_lr=0.1)
    maml.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    images = np.random.default_rng(0).random((5, 8, 8, 1)).astype("float32")
    adapted = maml.adapt(images, np.arange(5))
    norms = [layer for layer in adapted.layers if "BatchNormalization" in type(layer).__name__]
    assert norms and all(isinstance(layer, TransductiveBatchNormalization) for layer in norms)
    assert adapted.predict(images, verbose=0).shape == (5, 10)
    moved = [
        not np.allclose(a, b)
        for a, b in zip(adapted.trainable_variables, model.trainable_variables, strict=True)
    ]
    assert any(moved)


def test_adapted_conv4_with_fused_batch_norm_uses_batch_statistics():
    """`Conv4Backbone`'s `FusedBatchNormalization` (a BatchNormalization subclass) is swapped
    for `TransductiveBatchNormalization` in the adapted copy, as Keras's layer is."""
    from layers import FusedBatchNormalization
    from zoo.meta import Conv4Backbone

    keras.utils.set_random_seed(2)
    backbone = Conv4Backbone(image_size=8, filters=4, num_blocks=2)
    assert isinstance(backbone.get_layer("block_0_bn"), FusedBatchNormalization)
    images = keras.Input((8, 8, 1))
    model = keras.Model(images, keras.layers.Dense(3)(backbone(images)["embedding"]))
    maml = MAML(model, inner_lr=ALPHA, inner_steps=1)
    maml.compile(keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    sx, qx = rng.normal(size=(6, 8, 8, 1)), rng.normal(size=(9, 8, 8, 1))
    sx, qx = sx.astype("float32"), qx.astype("float32")
    adapted = maml.adapt(sx, np.tile(np.arange(3), 2))
    batch_norms = [
        layer
        for layer in adapted._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert batch_norms and all(
        type(layer) is TransductiveBatchNormalization for layer in batch_norms
    )
    weights = [tf.convert_to_tensor(w) for w in adapted.trainable_variables]
    non_trainable = [tf.convert_to_tensor(w) for w in adapted.non_trainable_variables]
    expected, _ = call_with_weights(maml.model, weights, non_trainable, qx)
    np.testing.assert_allclose(adapted.predict(qx, verbose=0), expected, rtol=1e-4, atol=1e-5)
