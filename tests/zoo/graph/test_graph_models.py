"""The graph model families: GCN, GAT, GraphSAGE and GGNN backbones, node and graph
classifiers, their presets, training through `fit`, `zoo train` and serving.

The shared model checks of each registered entry run in `tests/zoo/test_registered_models.py`.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo
from tests import harness
from zoo import cli
from zoo.graph import (
    GATBackbone,
    GCNBackbone,
    GGNNBackbone,
    Graph,
    GraphClassifier,
    NodeClassifier,
    SAGEBackbone,
    batch_graphs,
    cycles_vs_trees,
    karate_club,
)
from zoo.graph.inputs import example_inputs
from zoo.graph_training import GraphData, graph_datasets, load_graph_data
from zoo.train import TrainConfig, train

ENTRIES = {
    "gcn_node": ("gcn", "node_classifier", GCNBackbone),
    "gat_node": ("gat", "node_classifier", GATBackbone),
    "graphsage_node": ("sage", "node_classifier", SAGEBackbone),
    "ggnn_graph": ("ggnn", "graph_classifier", GGNNBackbone),
}


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_presets_are_registered_with_family_task_and_backbone(name):
    family, task, backbone_class = ENTRIES[name]
    spec = zoo.get_spec(name)
    assert (spec.family, spec.task) == (family, task)
    assert spec.search_space is not None
    model = zoo.create(name, **spec.tiny)
    assert isinstance(model.backbone, backbone_class)
    assert zoo.list_models(family=family) == [name]


def test_node_classifier_outputs_one_row_of_logits_per_node():
    model = zoo.create("gat_node", num_features=5, num_classes=4, hidden_units=3, heads=2)
    inputs = example_inputs(model, 6)
    logits = model(inputs)
    assert logits.shape == (8, 4) and logits.dtype == "float32"
    # Hidden GAT layers concatenate their heads: 2 heads x 3 units.
    hidden = model.backbone.get_layer("conv_0")(inputs["node_features"], inputs["edge_index"])
    assert hidden.shape == (8, 6)


def test_gcn_paper_model_has_the_published_parameter_count():
    # Kipf & Welling's Cora model: 1433 -> 16 -> 7, with biases.
    model = zoo.create("gcn_node")
    assert model.count_params() == 1433 * 16 + 16 + 16 * 7 + 7


def test_gat_paper_model_has_the_published_parameter_count():
    # Velickovic et al.'s Cora model: 8 heads of 8 units (kernel + 2 attention vectors per
    # head, bias), one output head of 7 units.
    model = zoo.create("gat_node")
    hidden = 1433 * 64 + 2 * 64 + 64
    output = 64 * 7 + 2 * 7 + 7
    assert model.count_params() == hidden + output


def test_graph_classifier_outputs_one_row_per_graph():
    graphs = cycles_vs_trees(num_graphs=5, seed=1)
    inputs, labels = batch_graphs(graphs)
    model = zoo.create("ggnn_graph", units=8, num_steps=2)
    logits = model(inputs)
    assert logits.shape == (5, 2) and labels.shape == (5,)


def test_graph_classifier_works_with_any_graph_backbone():
    graphs = cycles_vs_trees(num_graphs=4, seed=2)
    inputs, labels = batch_graphs(graphs)
    backbone = SAGEBackbone(num_features=1, hidden_units=4, num_layers=1)
    model = GraphClassifier(backbone, num_classes=2, pooling="max")
    harness._fit_one_epoch(model, inputs, labels, batch_size=4, whole_batch=True)
    assert model(inputs).shape == (4, 2)


def test_loss_is_the_mean_cross_entropy_over_the_masked_nodes():
    graph = karate_club()
    model = zoo.create("gcn_node", num_features=graph.num_features, num_classes=2, dropout=0.0)
    loss, accuracy = model.evaluate(graph.full_batch_dataset("test"), verbose=0)
    logits = keras.ops.convert_to_numpy(model(graph.inputs()))
    mask = graph.mask("test")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -log_probs[mask, graph.labels[mask]].mean()
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    np.testing.assert_allclose(accuracy, (logits.argmax(-1) == graph.labels)[mask].mean())


def test_gcn_learns_karate_club_factions_from_two_labelled_nodes():
    keras.utils.set_random_seed(0)
    graph = karate_club()
    model = zoo.create("gcn_node", num_features=graph.num_features, num_classes=2)
    # 60 full-batch steps in one epoch (an epoch per step would add 59 input iterators).
    model.fit(graph.full_batch_dataset("train").repeat(60), epochs=1, verbose=0, shuffle=False)
    _, accuracy = model.evaluate(graph.full_batch_dataset("test"), verbose=0)
    assert accuracy >= 0.8


def test_node_classifier_trains_on_sampled_subgraphs():
    graph = karate_club()
    data = load_graph_data("graphsage_node", "karate_club")
    model = zoo.create("graphsage_node", **data.model_arguments(), hidden_units=8)
    train_data, validation = graph_datasets(data, model, batch_size=2, fanouts=[3, 2])
    history = model.fit(train_data, validation_data=validation, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert len(history.history["val_accuracy"]) == 2
    assert graph.mask("train").sum() == 2  # one subgraph per epoch with batch_size=2


def test_fanouts_must_match_the_number_of_graph_layers():
    data = load_graph_data("graphsage_node", "karate_club")
    model = zoo.create("graphsage_node", **data.model_arguments(), hidden_units=4)
    with pytest.raises(ValueError, match=r"fanouts=\[25\]"):
        graph_datasets(data, model, batch_size=4, fanouts=[25])
    graph_data = load_graph_data("ggnn_graph", "cycles_vs_trees")
    with pytest.raises(ValueError, match="fanouts"):
        graph_datasets(graph_data, model, batch_size=4, fanouts=[2])


def test_backbones_pass_the_model_checks_with_the_options_the_presets_leave_out():
    # GATv2 attention, GCN's improved self-loops and the LSTM aggregator (not XLA-compatible:
    # its padded neighbour tensor has a data-dependent size) are not in a tiny preset.
    inputs = example_inputs(zoo.create("gcn_node", **zoo.get_spec("gcn_node").tiny), 4)
    inputs = {k: inputs[k] for k in ("node_features", "edge_index")}
    config = dict(num_features=4, hidden_units=4, heads=2, num_layers=1, v2=True)
    harness.run_model_test(
        lambda: GATBackbone(**config),
        inputs,
        init_kwargs=config,
        whole_batch=True,
        run_mixed_precision=False,
        run_distributed=False,
    )
    for backbone in (
        GCNBackbone(num_features=4, hidden_units=4, improved=True),
        SAGEBackbone(num_features=4, hidden_units=4, aggregator="lstm", normalize=True),
    ):
        outputs = backbone(inputs)["node_embeddings"]
        assert outputs.shape == (6, 4) and np.isfinite(outputs).all()


def test_gcn_backbone_matches_a_stack_of_gcn_layers():
    import layers

    backbone = GCNBackbone(num_features=4, hidden_units=3, num_layers=2, dropout=0.0)
    graph = karate_club()
    inputs = {"node_features": graph.node_features[:, :4], "edge_index": graph.edge_index}
    expected = inputs["node_features"]
    for i in range(2):
        conv = backbone.get_layer(f"conv_{i}")
        reference = layers.GCNConv(3)
        reference(expected, inputs["edge_index"])
        reference.set_weights(conv.get_weights())
        expected = keras.ops.relu(reference(expected, inputs["edge_index"]))
    np.testing.assert_allclose(backbone(inputs)["node_embeddings"], expected, rtol=1e-5, atol=1e-6)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="output_units=16"):
        NodeClassifier(GCNBackbone(num_features=4, output_units=16), num_classes=3)
    with pytest.raises(TypeError, match="backbone="):
        NodeClassifier(keras.Sequential([keras.Input((4,))]), num_classes=3)
    with pytest.raises(ValueError, match="pooling='median'"):
        zoo.create("ggnn_graph", pooling="median")
    with pytest.raises(ValueError, match="units=2"):
        GGNNBackbone(num_features=3, units=2)
    with pytest.raises(ValueError, match="num_layers=0"):
        GCNBackbone(num_layers=0)
    with pytest.raises(ValueError, match="dropout=1.5"):
        GATBackbone(dropout=1.5)
    with pytest.raises(ValueError, match="aggregator='median'"):
        SAGEBackbone(aggregator="median")


def test_model_rejects_out_of_range_edges_naming_the_value():
    model = zoo.create("gcn_node", num_features=2, num_classes=2)
    inputs = {
        "node_features": np.ones((3, 2), "float32"),
        "edge_index": np.array([[0, 1], [1, 5]], "int32"),
    }
    with pytest.raises(ValueError, match="edge_index.*5"):
        model(inputs)


def test_exported_node_classifier_serves_a_graph(tmp_path):
    graph = karate_club()
    model = zoo.create("gcn_node", num_features=graph.num_features, num_classes=2)
    path = serving.export(model, tmp_path, "gcn")
    loaded = tf.saved_model.load(path)
    outputs = loaded.signatures["serving_default"](
        node_features=tf.constant(graph.node_features),
        edge_index=tf.constant(graph.edge_index),
    )
    (served,) = outputs.values()
    np.testing.assert_allclose(served, model(graph.inputs()), rtol=1e-5, atol=1e-6)


def test_zoo_train_on_a_built_in_graph_and_a_graph_tfrecord(tmp_path, capsys):
    graph = karate_club()
    records = graph.to_tfrecords(str(tmp_path / "karate"))
    result = train(
        TrainConfig(
            model="gcn_node",
            data=records[0],
            epochs=3,
            deterministic=False,
            output=str(tmp_path / "from_records"),
            verbose=0,
        )
    )
    assert keras.saving.load_model(result["model_path"]).count_params() == (
        34 * 16 + 16 + 16 * 2 + 2
    )
    argv = ["train", "graphsage_node", "--data", "karate_club", "--fanouts", "4,2"]
    argv += ["--batch-size", "1", "--epochs", "2", "--no-deterministic", "--verbose", "0"]
    assert cli.main([*argv, "--output", str(tmp_path / "sampled")]) == 0
    history = json.loads((tmp_path / "sampled" / "history.json").read_text())
    assert len(history["loss"]) == 2 and "val_accuracy" in history


def test_train_options_for_graph_models_are_checked():
    with pytest.raises(ValueError, match=r"fanouts=\[2\]"):
        TrainConfig(model="cnn_digits", fanouts=[2])
    with pytest.raises(ValueError, match="strategy='mirrored'"):
        TrainConfig(model="gcn_node", strategy="mirrored")
    with pytest.raises(ValueError, match=r"fanouts=\[0\]"):
        TrainConfig(model="gcn_node", fanouts=[0])


def test_load_graph_data_reads_graph_sets_and_planetoid_directories(tmp_path):
    graphs = cycles_vs_trees(num_graphs=10, seed=3)
    zoo.graph.graphs_to_tfrecords(graphs, str(tmp_path / "graphs"))
    data = load_graph_data("ggnn_graph", str(tmp_path / "graphs*"))
    assert (len(data.train_graphs), len(data.validation_graphs)) == (8, 2)
    assert data.model_arguments() == {"num_features": 1, "num_classes": 2}
    with pytest.raises(ValueError, match="validation_data"):
        load_graph_data("gcn_node", "karate_club", validation_data="x")
    unlabelled = Graph(np.ones((3, 2)), np.array([[0, 1], [1, 2]]))
    unlabelled.to_tfrecords(str(tmp_path / "unlabelled"))
    with pytest.raises(ValueError, match="labels"):
        load_graph_data("gcn_node", str(tmp_path / "unlabelled*"))


def test_zoo_tune_searches_a_graph_model_on_a_built_in_graph(tmp_path):
    from zoo.tuning import tune

    result = tune(
        "gcn_node",
        tuner="random",
        max_trials=1,
        epochs=2,
        data="karate_club",
        directory=str(tmp_path),
        verbose=0,
    )
    assert result["trials"] == 1 and 0.0 <= result["score"] <= 1.0
    best = keras.saving.load_model(result["model_path"])
    assert best.input["node_features"].shape[-1] == 34  # num_features from the data


def test_gcn_takes_edge_weights_and_other_models_train_without_them():
    rng = np.random.default_rng(0)
    graph = Graph(
        rng.random((5, 3)),
        np.array([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]),
        labels=[0, 1, 0, 1, 0],
        edge_weight=[1.0, 2.0, 0.5, 1.0, 3.0],
        train_mask=[True, True, False, True, False],
        val_mask=[False, False, True, False, True],
    )
    weighted = zoo.create("gcn_node", num_features=3, num_classes=2, edge_weights=True)
    unweighted = weighted.backbone.get_layer("normalization")(graph.node_features, graph.edge_index)
    assert not np.allclose(
        weighted.backbone.get_layer("normalization")(*graph.inputs().values())[1],
        unweighted[1],
    )
    data = GraphData(num_features=3, num_classes=2, graph=graph)
    for model in (weighted, zoo.create("gat_node", num_features=3, num_classes=2)):
        train_data, validation = graph_datasets(data, model, batch_size=2)
        model.fit(train_data, validation_data=validation, epochs=1, verbose=0)
