"""TensorFlow Addons' optimizers on Keras 3: TFA's numbers (dense and IndexedSlices gradients,
eager and XLA), plain `tf.Variable`s, configs and bad arguments. The shared checks are in
`test_tfa_optimizers_shared.py`."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.optimizers.adabelief import AdaBelief
from layers.optimizers.cocob import COCOB
from layers.optimizers.conditional_gradient import ConditionalGradient
from layers.optimizers.decoupled_weight_decay import (
    SGDW,
    AdamW,
    DecoupledWeightDecayExtension,
    extend_with_decoupled_weight_decay,
)
from layers.optimizers.lamb import LAMB
from layers.optimizers.moving_average import MovingAverage
from layers.optimizers.multi_optimizer import MultiOptimizer
from layers.optimizers.novograd import NovoGrad
from layers.optimizers.proximal_adagrad import ProximalAdagrad
from layers.optimizers.rectified_adam import RectifiedAdam
from layers.optimizers.stochastic_weight_averaging import StochasticWeightAveraging
from layers.optimizers.yogi import Yogi
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "optimizers.npz")
STEPS = 8

# The configurations of `tests/fixtures/tfa/make_optimizer_fixtures.py`, with the same names.
CONFIGS = {
    "yogi": (Yogi, {}),
    "yogi_tanh_l1_l2": (
        Yogi,
        {
            "learning_rate": 0.05,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "activation": "tanh",
            "initial_accumulator_value": 0.1,
        },
    ),
    "yogi_no_momentum_l2": (
        Yogi,
        {"learning_rate": 0.05, "beta1": 0.0, "l2_regularization_strength": 0.05},
    ),
    "adabelief": (AdaBelief, {"learning_rate": 0.01}),
    "adabelief_amsgrad_decay": (
        AdaBelief,
        {
            "learning_rate": 0.01,
            "beta_2": 0.9,
            "rectify": False,
            "amsgrad": True,
            "weight_decay": 0.01,
            "epsilon": 1e-8,
        },
    ),
    "adabelief_warmup": (
        AdaBelief,
        {
            "learning_rate": 0.02,
            "beta_2": 0.9,
            "weight_decay": 0.01,
            "total_steps": 10,
            "warmup_proportion": 0.3,
            "min_lr": 0.001,
        },
    ),
    "radam": (RectifiedAdam, {"learning_rate": 0.01}),
    "radam_amsgrad_decay": (
        RectifiedAdam,
        {"learning_rate": 0.01, "beta_2": 0.9, "amsgrad": True, "weight_decay": 0.01},
    ),
    "radam_warmup": (
        RectifiedAdam,
        {
            "learning_rate": 0.02,
            "beta_2": 0.9,
            "total_steps": 10,
            "warmup_proportion": 0.3,
            "min_lr": 0.001,
            "sma_threshold": 4.0,
        },
    ),
    "novograd": (NovoGrad, {"learning_rate": 0.01}),
    "novograd_decay_averaging": (
        NovoGrad,
        {"learning_rate": 0.01, "beta_2": 0.9, "weight_decay": 0.01, "grad_averaging": True},
    ),
    "novograd_amsgrad": (NovoGrad, {"learning_rate": 0.01, "beta_2": 0.5, "amsgrad": True}),
    "adamw": (AdamW, {"weight_decay": 0.01, "learning_rate": 0.01}),
    "adamw_amsgrad": (AdamW, {"weight_decay": 0.02, "learning_rate": 0.01, "amsgrad": True}),
    "sgdw": (SGDW, {"weight_decay": 0.01, "learning_rate": 0.1}),
    "sgdw_momentum": (SGDW, {"weight_decay": 0.01, "learning_rate": 0.1, "momentum": 0.9}),
    "sgdw_nesterov": (
        SGDW,
        {"weight_decay": 0.01, "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
    ),
    "lamb": (LAMB, {"learning_rate": 0.01}),
    "lamb_decay_excluded": (
        LAMB,
        {"learning_rate": 0.01, "weight_decay": 0.01, "exclude_from_weight_decay": ["bias"]},
    ),
    "lamb_no_adaptation": (
        LAMB,
        {"learning_rate": 0.01, "weight_decay": 0.01, "exclude_from_layer_adaptation": ["kernel"]},
    ),
    "proximal_adagrad": (ProximalAdagrad, {"learning_rate": 0.1}),
    "proximal_adagrad_l1_l2": (
        ProximalAdagrad,
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.05,
            "l2_regularization_strength": 0.1,
        },
    ),
    "conditional_gradient": (ConditionalGradient, {"learning_rate": 0.9, "lambda_": 0.1}),
    "conditional_gradient_nuclear": (
        ConditionalGradient,
        {"learning_rate": 0.9, "lambda_": 0.1, "ord": "nuclear"},
    ),
    "cocob": (COCOB, {}),
    "cocob_alpha": (COCOB, {"alpha": 10.0}),
}
# The averaging wrappers, built fresh for each use (they own the optimizer they wrap).
WRAPPER_CONFIGS = {
    "moving_average": lambda: MovingAverage(keras.optimizers.SGD(0.1)),
    "moving_average_dynamic": lambda: MovingAverage(
        keras.optimizers.SGD(0.1), average_decay=0.9, start_step=2, dynamic_decay=True
    ),
    "moving_average_num_updates": lambda: MovingAverage(
        keras.optimizers.Adam(0.01), average_decay=0.99, num_updates=3
    ),
    "swa": lambda: StochasticWeightAveraging(
        keras.optimizers.SGD(0.1), start_averaging=2, average_period=3
    ),
    "swa_default": lambda: StochasticWeightAveraging(keras.optimizers.SGD(0.1)),
}
# Built fresh for each use, like the wrappers; matched to the variables by TFA's names.
MULTI_OPTIMIZER_CONFIGS = {
    "multi_optimizer": lambda: MultiOptimizer(
        optimizer_specs=[
            {"optimizer": keras.optimizers.Adam(0.01), "weights": ["dense_kernel:0"]},
            {"optimizer": keras.optimizers.SGD(0.1), "weights": ["embedding_bias:0"]},
        ]
    ),
}
# One XLA replay per class (the others share its code paths).
JIT_CONFIGS = [
    "yogi",
    "adabelief_warmup",
    "radam_amsgrad_decay",
    "novograd",
    "adamw",
    "sgdw_momentum",
    "lamb_decay_excluded",
    "proximal_adagrad_l1_l2",
    "conditional_gradient_nuclear",
    "cocob",
    "moving_average_dynamic",
    "swa",
    "multi_optimizer",
]


def replay(name, jit_compile=False, steps=STEPS):
    """Applies the fixture's gradients with our optimizer; compares with TFA after each step."""
    want = np.load(FIXTURE)
    sparse = f"{name}/table1" in want
    dense = keras.Variable(want["dense0"], name="dense_kernel")
    table = keras.Variable(want["table0"], name="embedding_bias")
    variables = [dense, table] if sparse else [dense]
    if name in WRAPPER_CONFIGS or name in MULTI_OPTIMIZER_CONFIGS:
        optimizer = {**WRAPPER_CONFIGS, **MULTI_OPTIMIZER_CONFIGS}[name]()
    else:
        cls, kwargs = CONFIGS[name]
        optimizer = cls(**kwargs)
    optimizer.build(variables)

    def apply(dense_grad, values, indices):
        grads = [dense_grad]
        if sparse:
            grads.append(tf.IndexedSlices(values, indices, tf.constant([6, 3])))
        optimizer.apply(grads, variables)

    step = tf.function(apply, jit_compile=True) if jit_compile else apply
    for i in range(steps):
        step(want[f"dense_grad{i}"], want[f"values{i}"], want[f"indices{i}"])
        np.testing.assert_allclose(dense.numpy(), want[f"{name}/dense{i + 1}"], 1e-5, 1e-6)
        if sparse:
            np.testing.assert_allclose(table.numpy(), want[f"{name}/table{i + 1}"], 1e-5, 1e-6)
        if name in WRAPPER_CONFIGS:
            for variable, key in zip(variables, ["dense", "table"][: len(variables)], strict=True):
                np.testing.assert_allclose(
                    optimizer.average_of(variable).numpy(),
                    want[f"{name}/average_{key}{i + 1}"],
                    1e-5,
                    1e-6,
                )


@pytest.mark.parametrize(
    "name", sorted(CONFIGS) + sorted(WRAPPER_CONFIGS) + sorted(MULTI_OPTIMIZER_CONFIGS)
)
def test_matches_tensorflow_addons(name):
    replay(name)


@pytest.mark.parametrize("name", JIT_CONFIGS)
def test_matches_tensorflow_addons_under_xla(name):
    replay(name, jit_compile=True, steps=3)


def test_averages_go_into_the_model_and_swap_back():
    variable = keras.Variable(np.zeros(2, "float32"))
    optimizer = MovingAverage(keras.optimizers.SGD(1.0), average_decay=0.5)
    for _ in range(2):
        optimizer.apply([tf.constant([-1.0, -2.0])], [variable])
    # weights 1, 2 then 2, 4; averages 0.5, 1 then 1.25, 2.5
    np.testing.assert_allclose(optimizer.average_of(variable).numpy(), [1.25, 2.5])
    assert optimizer.has_shadow_copy
    optimizer.swap_weights()
    np.testing.assert_allclose(variable.numpy(), [1.25, 2.5])
    optimizer.swap_weights()
    np.testing.assert_allclose(variable.numpy(), [2.0, 4.0])
    optimizer.assign_average_vars([variable])
    np.testing.assert_allclose(variable.numpy(), [1.25, 2.5])


def test_swa_averages_the_snapshots_only():
    variable = keras.Variable(np.zeros(1, "float32"))
    optimizer = StochasticWeightAveraging(
        keras.optimizers.SGD(1.0), start_averaging=1, average_period=2
    )
    for _ in range(6):  # weights 1..6 after steps 0..5; snapshots after steps 1, 3 and 5
        optimizer.apply([tf.constant([-1.0])], [variable])
    np.testing.assert_allclose(optimizer.average_of(variable).numpy(), [(2 + 4 + 6) / 3])
    assert optimizer.get_config()["optimizer"]["class_name"] == "SGD"


PLAIN_VARIABLE_OPTIMIZERS = {
    "Yogi": lambda: Yogi(),
    "AdaBelief": lambda: AdaBelief(),
    "NovoGrad": lambda: NovoGrad(amsgrad=True),
    "RectifiedAdam": lambda: RectifiedAdam(),
    "AdamW": lambda: AdamW(0.01),
    "SGDW": lambda: SGDW(0.01, momentum=0.9),
    "LAMB": lambda: LAMB(),
    "ProximalAdagrad": lambda: ProximalAdagrad(),
    "ConditionalGradient": lambda: ConditionalGradient(0.9),
    "COCOB": lambda: COCOB(),
    "MovingAverage": lambda: MovingAverage(keras.optimizers.SGD(0.1)),
    "StochasticWeightAveraging": lambda: StochasticWeightAveraging(keras.optimizers.SGD(0.1)),
    "MultiOptimizer": lambda: MultiOptimizer(
        optimizer_specs=[{"optimizer": "adam", "weights": ["Variable:0"]}]
    ),
}


@pytest.mark.parametrize("in_function", [False, True])
@pytest.mark.parametrize("name", sorted(PLAIN_VARIABLE_OPTIMIZERS))
def test_plain_tf_variables_as_in_tfa_training_loops(name, in_function):
    optimizer, variable = PLAIN_VARIABLE_OPTIMIZERS[name](), tf.Variable([1.0, 2.0])

    def step():
        optimizer.apply_gradients([(tf.constant([0.1, -0.2]), variable)])

    step = tf.function(step) if in_function else step
    step()
    step()
    assert np.all(np.isfinite(variable.numpy())) and not np.allclose(variable.numpy(), [1, 2])


def test_multi_optimizer_from_layers_updates_each_group_with_its_optimizer():
    keras.utils.set_random_seed(0)
    body, head = keras.layers.Dense(3, name="body"), keras.layers.Dense(1, name="head")
    model = keras.Sequential([keras.Input((2,)), body, head], name="sequential")
    optimizer = MultiOptimizer(
        [(keras.optimizers.SGD(0.0), body), (keras.optimizers.SGD(0.1), [head])]
    )
    model.compile(optimizer=optimizer, loss="mse")
    before = [w.numpy() for w in model.weights]
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    after = [w.numpy() for w in model.weights]
    np.testing.assert_array_equal(after[0], before[0])  # body: learning rate 0
    assert not np.allclose(after[2], before[2])  # head
    assert [int(opt.iterations) for opt in optimizer.optimizers] == [1, 1]
    head_weights = optimizer.get_config()["optimizer_specs"][1]["weights"]
    assert head_weights == ["sequential/head/kernel", "sequential/head/bias"]


def test_multi_optimizer_arguments():
    with pytest.raises(ValueError, match="Pass exactly one of"):
        MultiOptimizer()
    with pytest.raises(TypeError, match="Received: 3"):
        MultiOptimizer([(keras.optimizers.SGD(), 3)])
    with pytest.raises(TypeError, match="takes no optimizer options"):
        MultiOptimizer(optimizer_specs=[], clipnorm=1.0)


def test_sgdw_decays_the_rows_of_a_sparse_gradient_without_momentum():
    # TFA's SGDW(momentum=0) skips the decay for sparse gradients (Keras 2's SGD bypassed the
    # hook); here the rows present decay as they do with momentum and in AdamW.
    table = keras.Variable(np.ones((4, 2), "float32"))
    optimizer = SGDW(weight_decay=0.1, learning_rate=0.5)
    gradient = tf.IndexedSlices(tf.constant([[1.0, 2.0], [1.0, 0.0]]), tf.constant([2, 2]))
    optimizer.apply([gradient], [table])
    np.testing.assert_allclose(table.numpy(), [[1, 1], [1, 1], [-0.1, -0.1], [1, 1]], atol=1e-6)


def test_decay_is_not_scaled_by_the_learning_rate():
    variable = keras.Variable(np.full((3,), 2.0, "float32"))
    AdamW(weight_decay=0.25, learning_rate=0.0).apply([tf.zeros(3)], [variable])
    np.testing.assert_allclose(variable.numpy(), [1.5, 1.5, 1.5])


def test_weight_decay_schedule_and_exclusion():
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([1], [0.5, 0.25])
    kernel = keras.Variable(np.ones(2, "float32"), name="kernel")
    bias = keras.Variable(np.ones(2, "float32"), name="bias")
    optimizer = SGDW(weight_decay=schedule, learning_rate=0.0, exclude_from_weight_decay=["bia"])
    for _ in range(2):
        optimizer.apply([tf.zeros(2), tf.zeros(2)], [kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), [0.25, 0.25])  # * (1 - 0.5), then * (1 - 0.5)
    optimizer.apply([tf.zeros(2), tf.zeros(2)], [kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), [0.1875, 0.1875])  # then * (1 - 0.25)
    np.testing.assert_allclose(bias.numpy(), [1.0, 1.0])
    config = optimizer.get_config()
    assert config["exclude_from_weight_decay"] == ["bia"]
    clone = SGDW.from_config(config)
    assert isinstance(clone.weight_decay, keras.optimizers.schedules.PiecewiseConstantDecay)


def test_extend_with_decoupled_weight_decay():
    rmsprop_w = extend_with_decoupled_weight_decay(keras.optimizers.RMSprop)
    assert issubclass(rmsprop_w, DecoupledWeightDecayExtension)
    variable = keras.Variable(np.full((2,), 4.0, "float32"))
    optimizer = rmsprop_w(weight_decay=0.5, learning_rate=0.0)
    optimizer.apply([tf.ones(2)], [variable])
    np.testing.assert_allclose(variable.numpy(), [2.0, 2.0])
    assert optimizer.get_config()["weight_decay"] == 0.5
    with pytest.raises(TypeError, match="Received: base_optimizer="):
        extend_with_decoupled_weight_decay(keras.optimizers.RMSprop())


def test_tensorflow_addons_yogi_example_converges():
    # TFA's docstring use: minimise a quadratic; Yogi moves towards the minimum every step.
    variable = keras.Variable([1.0, 2.0])
    optimizer = Yogi(learning_rate=0.1)
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(variable))
        optimizer.apply(tape.gradient(loss, [variable]), [variable])
    assert float(tf.reduce_sum(tf.square(variable))) < 1.0


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Yogi(learning_rate=-0.1), "Received: learning_rate=-0.1"),
        (lambda: Yogi(beta1=1.0), "Received: beta1=1.0"),
        (lambda: Yogi(beta2=-0.1), "Received: beta2=-0.1"),
        (lambda: Yogi(initial_accumulator_value=0.0), "Received: initial_accumulator_value=0.0"),
        (lambda: Yogi(l1_regularization_strength=-1.0), "l1_regularization_strength=-1.0"),
        (lambda: Yogi(activation="relu"), "Received: activation='relu'"),
        (lambda: AdaBelief(beta_1=1.5), "Received: beta_1=1.5"),
        (lambda: AdaBelief(epsilon=-1.0), "Received: epsilon=-1.0"),
        (lambda: AdaBelief(weight_decay=-0.1), "Received: weight_decay=-0.1"),
        (lambda: AdaBelief(warmup_proportion=2.0), "Received: warmup_proportion=2.0"),
        (lambda: AdaBelief(total_steps=-5), "Received: total_steps=-5"),
        (lambda: RectifiedAdam(beta_2=1.0), "Received: beta_2=1.0"),
        (lambda: RectifiedAdam(min_lr=-1.0), "Received: min_lr=-1.0"),
        (lambda: NovoGrad(weight_decay=-0.1), "Received: weight_decay=-0.1"),
        (lambda: NovoGrad(learning_rate=-1.0), "Received: learning_rate=-1.0"),
        (lambda: AdamW(weight_decay=-0.1), "Received: weight_decay=-0.1"),
        (lambda: AdamW(weight_decay=0.1, beta_1=1.0), "Received: beta_1=1.0"),
        (lambda: SGDW(weight_decay=0.1, momentum=-0.5), "Received: momentum=-0.5"),
        (lambda: SGDW(weight_decay=0.1, learning_rate=-0.5), "Received: learning_rate=-0.5"),
        (lambda: LAMB(beta_1=-0.1), "Received: beta_1=-0.1"),
        (lambda: LAMB(weight_decay=-1.0), "Received: weight_decay=-1.0"),
        (lambda: ProximalAdagrad(initial_accumulator_value=-1.0), "initial_accumulator_value=-1.0"),
        (lambda: ProximalAdagrad(l2_regularization_strength=-1.0), "strength=-1.0"),
        (lambda: ConditionalGradient(0.1, ord="inf"), "Received: ord='inf'"),
        (lambda: ConditionalGradient(-0.1), "Received: learning_rate=-0.1"),
        (lambda: ConditionalGradient(0.1, lambda_=-1.0), "Received: lambda_=-1.0"),
        (lambda: COCOB(alpha=0.5), "Received: alpha=0.5"),
        (lambda: MovingAverage("sgd", average_decay=1.5), "Received: average_decay=1.5"),
        (lambda: MovingAverage("sgd", start_step=-1), "Received: start_step=-1"),
        (lambda: StochasticWeightAveraging("sgd", average_period=0), "Received: average_period=0"),
        (lambda: StochasticWeightAveraging("sgd", start_averaging=-2), "start_averaging=-2"),
        (lambda: MovingAverage("sgd", learning_rate=0.1), "Received: learning_rate=0.1"),
    ],
)
def test_bad_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: AdaBelief(amsgrad="yes"), "Received: amsgrad='yes'"),
        (lambda: AdamW(weight_decay="big"), "Received: weight_decay='big'"),
        (lambda: SGDW(0.1, exclude_from_weight_decay="bias"), "exclude_from_weight_decay='bias'"),
        (lambda: LAMB(exclude_from_layer_adaptation="bias"), "layer_adaptation='bias'"),
        (lambda: MovingAverage(3), "Received: optimizer=3"),
    ],
)
def test_bad_argument_types(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize(
    "name",
    ["yogi_tanh_l1_l2", "adabelief_warmup", "radam_warmup", "lamb_no_adaptation", "cocob_alpha"],
)
def test_config_round_trip(name):
    cls, kwargs = CONFIGS[name]
    harness.assert_config_round_trip(cls(**kwargs), kwargs)
