"""Interpretability: Grad-CAM, integrated gradients, SHAP and counterfactual explanations."""
