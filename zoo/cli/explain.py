"""`zoo explain gradcam MODEL IMAGE`: Grad-CAM heatmap and overlay PNGs for a saved model."""

from __future__ import annotations

import argparse
import glob
import json
import os
import warnings

from zoo.cli.arguments import non_negative_int, number_pair, positive_int

METHODS = ("gradcam", "gradcam++", "rollout")


def load_trained_model(path: str):
    """The model of a `.keras` file, or of the one `.keras` file in a directory (what `zoo
    train` writes to its `--output`)."""
    import keras

    import zoo  # noqa: F401  (registers zoo's classes for loading)

    if os.path.isdir(path):
        found = sorted(glob.glob(os.path.join(path, "*.keras")))
        if len(found) != 1:
            raise ValueError(
                f"MODEL directory must hold exactly one .keras file; it holds {len(found)}. "
                f"Received: {path}"
            )
        path = found[0]
    elif not path.endswith(".keras"):
        raise ValueError(
            "MODEL must be a saved .keras file (or the directory `zoo train` wrote it to): "
            f"explanations need trained weights. Received: {path}"
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No .keras file at {path!r}. Received: {path}")
    with warnings.catch_warnings():
        # A Task compiles itself when built; its optimizer's saved state is not needed here.
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        return keras.saving.load_model(path, compile=False), path


def run_gradcam(args: argparse.Namespace) -> int:
    """Explains one image; writes `<image>_<method>.png` and `<image>_<method>_overlay.png`."""
    from zoo import explain
    from zoo.explain.grad_cam import (
        class_activation_map,
        grad_cam_plus_plus_weights,
        grad_cam_weights,
    )
    from zoo.explain.images import image_for_model
    from zoo.explain.model_outputs import class_scores

    model, model_path = load_trained_model(args.model)
    pixels = explain.read_image(args.image)
    batch = image_for_model(pixels, tuple(model.inputs[0].shape[1:]), args.value_range)
    scores = class_scores(model(batch, training=False)).numpy()[0]
    if args.method == "rollout":
        if args.class_index is not None or args.layer is not None:
            raise ValueError("--class-index and --layer do not apply to --method rollout.")
        heatmap, layer, class_index = explain.attention_rollout(model, batch)[0], None, None
    else:
        plus_plus = args.method == "gradcam++"
        weights = grad_cam_plus_plus_weights if plus_plus else grad_cam_weights
        maps, layer, classes = class_activation_map(
            model, batch, args.class_index, args.layer, weights
        )
        heatmap, class_index = maps[0], int(classes[0])
    stem = os.path.splitext(os.path.basename(args.image))[0]
    scale = args.scale or max(1, 256 // min(pixels.shape[:2]))
    method = args.method.replace("++", "_plus_plus")
    heatmap_path = explain.save_png(
        explain.colored_heatmap(heatmap),
        os.path.join(args.output, f"{stem}_{method}.png"),
        scale=max(1, scale * pixels.shape[0] // heatmap.shape[0]),
    )
    overlay_path = explain.save_png(
        explain.overlay(pixels, heatmap, alpha=0.4),
        os.path.join(args.output, f"{stem}_{method}_overlay.png"),
        scale=scale,
    )
    result = {
        "model": model_path,
        "image": args.image,
        "method": args.method,
        "layer": layer,
        "class_index": class_index,
        "predicted_class": int(scores.argmax()),
        "heatmap": heatmap_path,
        "overlay": overlay_path,
    }
    print(json.dumps(result, indent=2))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds `explain gradcam MODEL IMAGE [options]`."""
    explain = commands.add_parser(
        "explain",
        help="explain a saved model's predictions (Grad-CAM heatmaps)",
        description="Explain a trained model's predictions.",
    )
    methods = explain.add_subparsers(dest="explainer", metavar="EXPLAINER", required=True)
    p = methods.add_parser(
        "gradcam",
        help="Grad-CAM heatmap and overlay PNGs of one image",
        description="Grad-CAM (or Grad-CAM++, or attention rollout for ViT) of one image: "
        "writes IMAGE_METHOD.png (the heatmap) and IMAGE_METHOD_overlay.png (the heatmap "
        "over the image) to --output and prints their paths with the class explained, as JSON.",
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help="a saved .keras model, or the directory `zoo train` wrote one to",
    )
    p.add_argument("image", metavar="IMAGE", help="a PNG or JPEG image")
    p.add_argument(
        "--class-index",
        type=non_negative_int("class_index"),
        default=None,
        help="class to explain (default: the predicted class)",
    )
    p.add_argument(
        "--layer",
        default=None,
        help="layer name or path (backbone/head_act) of a convolutional feature map "
        "(default: the last one; for ViT/Swin a token map)",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="gradcam",
        help="gradcam, gradcam++ or rollout (ViT attention rollout; no class) (default: gradcam)",
    )
    p.add_argument(
        "--output", default="artifacts/explain", help="directory (default: artifacts/explain)"
    )
    p.add_argument(
        "--value-range",
        type=number_pair("value_range"),
        default=(0.0, 1.0),
        metavar="LOW,HIGH",
        help="what pixel values 0 and 255 become for the model (default: 0,1 as zoo's "
        "built-in datasets)",
    )
    p.add_argument(
        "--scale",
        type=positive_int("scale"),
        default=None,
        help="upscale the PNGs by this integer factor (default: to at least 256 pixels)",
    )
    p.set_defaults(handler=run_gradcam)
