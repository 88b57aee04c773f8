"""Interpretability: Grad-CAM, integrated gradients, SHAP and counterfactual explanations.

Example:

```python
import zoo

heatmaps = zoo.explain.grad_cam(model, images)  # (batch, height, width) in [0, 1]
attributions = zoo.explain.integrated_gradients(model, images, target=3)
values = zoo.explain.shap_values(model, x, background)
found = zoo.explain.counterfactuals(model, x, target_class=1, immutable=[0])
```
"""

from zoo.explain.attention_maps import attention_probabilities, attention_rollout, rollout
from zoo.explain.counterfactual_metrics import counterfactual_metrics
from zoo.explain.counterfactuals import CounterfactualNotFoundError, counterfactuals
from zoo.explain.grad_cam import grad_cam, grad_cam_plus_plus
from zoo.explain.images import colored_heatmap, overlay, read_image, save_png
from zoo.explain.integrated_gradients import completeness_gap, integrated_gradients
from zoo.explain.shap_explainers import SHAP_METHODS, explained_model, shap_values
from zoo.explain.shap_plots import shap_summary_plot

__all__ = [
    "SHAP_METHODS",
    "CounterfactualNotFoundError",
    "attention_probabilities",
    "attention_rollout",
    "colored_heatmap",
    "completeness_gap",
    "counterfactual_metrics",
    "counterfactuals",
    "explained_model",
    "grad_cam",
    "grad_cam_plus_plus",
    "integrated_gradients",
    "overlay",
    "read_image",
    "rollout",
    "save_png",
    "shap_summary_plot",
    "shap_values",
]
