"""Where a notebook runs: versions, the device, Colab detection.

The course is written for TensorFlow, Keras 3's default backend; the notebooks that avoid
tf.data (01) also run on the JAX backend, which is how their full profile was measured on a GPU
machine that had JAX but no TensorFlow.
"""

from __future__ import annotations

import platform
import sys


def in_colab() -> bool:
    """True inside Google Colab (the ``google.colab`` module is importable there).

    >>> in_colab()
    False
    """
    if "google.colab" in sys.modules:
        return True
    try:
        import importlib.util
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def gpu_names() -> list[str]:
    """Names of the GPUs the active Keras backend can use (TensorFlow, JAX or PyTorch).

    >>> isinstance(gpu_names(), list)
    True
    """
    import os
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    try:
        if backend == "jax":
            import jax
            return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        import tensorflow as tf
        names = []
        for gpu in tf.config.list_physical_devices("GPU"):
            try:
                names.append(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name))
            except Exception:  # pragma: no cover
                names.append(gpu.name)
        return names
    except Exception:  # backend not installed or no driver: no GPU
        return []


def device_label() -> str:
    """The device the active Keras backend computes on, in words (for tables and logs).

    >>> device_label().startswith(("GPU: ", "CPU only"))
    True
    """
    import os
    gpus = gpu_names()
    if gpus:
        return f"GPU: {gpus[0]}" + (f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else "")
    return f"CPU only ({os.cpu_count()} cores)"


def describe_environment(profile: str | None = None) -> dict[str, str]:
    """Print and return Python / TensorFlow / Keras versions, the device and the profile.

    >>> info = describe_environment("smoke")  # doctest: +ELLIPSIS
    Python ...
    >>> info["profile"]
    'smoke'
    """
    import os

    import keras
    gpus = gpu_names()
    device = device_label()
    backend = keras.backend.backend()
    try:
        backend_version = __import__(backend).__version__
    except ImportError:  # pragma: no cover
        backend_version = "?"
    info = {"python": platform.python_version(), "backend": backend, "backend_version": backend_version,
            "keras": keras.__version__, "device": device, "colab": str(in_colab())}
    if backend == "tensorflow":
        info["tensorflow"] = backend_version
    if profile is not None:
        info["profile"] = profile
    engine = "TensorFlow" if backend == "tensorflow" else backend
    print(f"Python {info['python']} | {engine} {backend_version} | Keras {info['keras']} | "
          f"{device}" + (f" | profile: {profile}" if profile else ""))
    if info["colab"] == "True" and not gpus:
        print("No GPU attached. In Colab: Runtime > Change runtime type > GPU, then run again.")
    return info


# --------------------------------------------------------------------------- Colab
def _repo_url() -> str:
    from . import REPO_URL
    return REPO_URL


def colab_url(notebook: str) -> str:
    """The Colab address that opens ``notebooks/<notebook>`` from the course repository.

    >>> colab_url("01_cnn_basics.ipynb").startswith("https://colab.research.google.com/github/")
    True
    """
    path = _repo_url().removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{path}/blob/main/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """The markdown "Open in Colab" badge for a notebook (every notebook's title cell has it).

    >>> "colab-badge.svg" in colab_badge("01_cnn_basics.ipynb")
    True
    """
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


def setup_cell_source() -> str:
    """The first lines of every notebook's setup cell.

    In Colab it pip-installs ``seminar_utils`` from the course repository. TensorFlow is not a
    dependency of the package, so Colab's own TensorFlow is kept; Keras is (>= 3.10), so an older
    Colab Keras is upgraded before anything imports it. Outside Colab it installs nothing.

    >>> "google.colab" in setup_cell_source()
    True
    """
    return (
        "# Setup. In Colab, install the course package (TensorFlow is already there: not reinstalled).\n"
        "import os, sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    !pip install -q "seminar_utils @ git+{_repo_url()}"\n'
        'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")\n'
    )
