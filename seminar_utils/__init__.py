"""seminar_utils: the shared plumbing of the cnn-seminar notebooks.

Modules: ``profiles`` (run settings), ``data`` (datasets, mirror, stand-ins, tf.data),
``train`` (seeding, timing, checks), ``plots`` (curves, grids, confusion matrices),
``models`` (layer table, parameter counts), ``backbones`` (the pretrained-model registry),
``pretrained`` (frozen conv bases for notebooks 04-05, with the CIFAR-10-trained offline stand-in),
``explain`` (Grad-CAM, activations, filter patterns, occlusion), ``augment`` (augmentation and
mixup), ``benchmark`` (the resumable many-backbone benchmark of notebook 07), ``env``
(versions, device, Colab).
"""

__version__ = "0.1.0"

# The one place that names the public repository (Colab badges and the Colab install use it).
REPO_URL = "https://github.com/cnn-seminar/cnn-seminar"
