"""Wire a read-only offline mirror (e.g. ../shared/assets) into writable folders.

    python tools/link_mirror.py ../shared/assets .cache/mirror .cache/keras

* ``.cache/mirror`` becomes a link farm for SEMINAR_DATA_MIRROR: one symlink per dataset of
  ``<assets>/datasets`` plus ``images/``;
* ``.cache/keras`` becomes a writable KERAS_HOME whose ``models/`` and ``datasets/`` hold symlinks
  to the files of ``<assets>/keras`` (Keras checks their hashes and never downloads them again).

Nothing is copied; running it again refreshes the links. Exits 0 with a message when the assets
folder does not exist (the course then downloads, or falls back to stand-ins).
"""

from __future__ import annotations

import sys
from pathlib import Path


def link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        if dst.is_symlink() and dst.resolve() == src.resolve():
            return
        if dst.is_dir() and not dst.is_symlink():
            raise SystemExit(f"{dst} is a real directory; remove it first.")
        dst.unlink()
    dst.symlink_to(src.resolve())


def main(assets: str, mirror: str, keras_home: str) -> int:
    assets_p, mirror_p, keras_p = Path(assets), Path(mirror), Path(keras_home)
    if not (assets_p / "datasets").is_dir():
        print(f"No offline mirror at {assets_p} (no datasets/ folder): nothing to link.")
        return 0
    for item in sorted((assets_p / "datasets").iterdir()):
        link(item, mirror_p / item.name)
    if (assets_p / "images").is_dir():
        link(assets_p / "images", mirror_p / "images")
    if (assets_p / "keras").is_dir():
        for f in sorted((assets_p / "keras").rglob("*")):
            if f.is_file():
                link(f, keras_p / f.relative_to(assets_p / "keras"))
    print(f"Offline mirror linked: SEMINAR_DATA_MIRROR={mirror_p.resolve()} KERAS_HOME={keras_p.resolve()}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
