"""Where a notebook runs: versions, the device, Colab detection.

The course is written for TensorFlow, Keras 3's default backend; the notebooks that avoid
tf.data (01) also run on the JAX backend, which is how their full profile was measured on a GPU
machine that had JAX but no TensorFlow.
"""

from __future__ import annotations

import os
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


#: Start-up lines TensorFlow's C++ runtime prints to stderr on every start (CUDA probing on a
#: machine without a GPU, CPU-instruction notes, factory registrations): noise to a learner.
_STARTUP_NOISE = (
    "All log messages before absl::InitializeLog", "oneDNN custom operations",
    "Could not find cuda drivers", "failed call to cuInit", "cudart_stub", "cuda_platform",
    "This TensorFlow binary is optimized", "To enable the following instructions",
    "Unable to register cu", "Attempting to register factory", "TF-TRT Warning",
    "computation placer already registered", "could not open file to read NUMA node",
)


def start_quietly() -> list[str]:
    """Start Keras and its backend and look for GPUs, keeping TensorFlow's start-up log out of sight.

    TensorFlow's C++ runtime writes its start-up messages straight to file descriptor 2, before
    any Python or ``TF_CPP_MIN_LOG_LEVEL`` setting applies, and a notebook shows them as red
    error boxes ("failed call to cuInit" on every CPU machine). They are captured while Keras
    starts; any line that is not known start-up noise is printed as usual. Returns the lines
    that were left out. Every notebook's setup cell calls it once, before ``import keras``.

    >>> isinstance(start_quietly(), list)
    True
    """
    import tempfile
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            import keras  # noqa: F401  (imports the backend: the C++ start-up log is written now)
            gpu_names()   # the first device query probes CUDA ("failed call to cuInit")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        lines = tmp.read().decode(errors="replace").splitlines()
    # fit() on a tf.data.Dataset warns that its default shuffle=True is ignored: the course's
    # datasets shuffle themselves, so the warning says nothing to a learner.
    import warnings
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    dropped = [ln for ln in lines if any(n in ln for n in _STARTUP_NOISE)]
    for line in lines:
        if line.strip() and line not in dropped:
            print(line, file=sys.stderr)
    return dropped


def gpu_names() -> list[str]:
    """Names of the GPUs the active Keras backend can use (TensorFlow, JAX or PyTorch).

    >>> isinstance(gpu_names(), list)
    True
    """
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
    import numpy
    from .results import _record_environment
    _record_environment({**info, "numpy": numpy.__version__})
    if info["colab"] == "True" and not gpus:
        print("No GPU attached. In Colab: Runtime > Change runtime type > GPU, then run again.")
    return info
