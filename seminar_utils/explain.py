"""Looking inside a trained convnet: Grad-CAM, occlusion maps, activations and filter patterns.

Notebook 06 writes the core of each method by hand where it is taught; these are the versions
its later cells reuse. They take a ``Sequential`` or functional model, also with a nested base
(``Sequential([base, GlobalAveragePooling2D(), Dense(...)])``, ``inputs -> base -> head``, a
model built on ``base.output``, a ``Sequential`` never called), reached with public Keras API
only (:mod:`seminar_utils._trace`); Grad-CAM and occlusion read the class logits where the
output's softmax or sigmoid can be taken off. Everything works in the model's input space:
apply its preprocessing first, or use a model that contains it. Name a layer by its own name,
also inside a nested base, or by a path such as ``"vgg16/block5_conv3"``.
"""

from ._gradcam import grad_cam, occlusion_map, overlay
from ._patterns import activation_model, filter_grid, filter_pattern, plot_activations, responsive_filters
from ._trace import conv_layer_names

__all__ = [
    "grad_cam",
    "overlay",
    "occlusion_map",
    "activation_model",
    "plot_activations",
    "filter_pattern",
    "filter_grid",
    "conv_layer_names",
    "responsive_filters",
]
