"""Where a notebook runs: versions, the device, Colab detection."""

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


def describe_environment(profile: str | None = None) -> dict[str, str]:
    """Print and return Python / TensorFlow / Keras versions, the device and the profile.

    >>> info = describe_environment("smoke")  # doctest: +ELLIPSIS
    Python ...
    >>> info["profile"]
    'smoke'
    """
    import keras
    import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        try:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
        except Exception:  # pragma: no cover
            name = gpus[0].name
        device = f"GPU: {name}" + (f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else "")
    else:
        import os
        device = f"CPU only ({os.cpu_count()} cores)"
    info = {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "device": device, "colab": str(in_colab())}
    if profile is not None:
        info["profile"] = profile
    print(f"Python {info['python']} | TensorFlow {info['tensorflow']} | Keras {info['keras']} | "
          f"{device}" + (f" | profile: {profile}" if profile else ""))
    if info["colab"] == "True" and not gpus:
        print("No GPU attached. In Colab: Runtime > Change runtime type > GPU, then run again.")
    return info
