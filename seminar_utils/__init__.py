"""seminar_utils: the shared plumbing of the cnn-seminar notebooks.

Modules: ``profiles`` (run settings), ``data`` (datasets, mirror, stand-ins, tf.data),
``train`` (seeding, timing, checks), ``plots`` (curves, grids, confusion matrices),
``models`` (layer table, parameter counts), ``backbones`` (the pretrained-model registry),
``explain`` (Grad-CAM, activations, filter patterns, occlusion), ``augment`` (augmentation and
mixup), ``env`` (versions, device, Colab).
"""

__version__ = "0.1.0"

# The one place that names the public repository (Colab badges and the Colab install use it).
REPO_URL = "https://github.com/cnn-seminar/cnn-seminar"
