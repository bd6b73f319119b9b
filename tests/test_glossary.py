"""One Korean term per concept (GLOSSARY.md): no notebook or README uses a listed variant."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + [ROOT / "README.md"]
# "과정" is a variant only when it names the course: the training / computing process is fine.
PROCESS = ("학습", "훈련", "계산", "처리", "최적화", "변환", "추론", "생성", "전처리", "탐색")


def variants() -> dict[str, str]:
    """variant -> canonical term, from GLOSSARY.md's table."""
    out = {}
    for line in (ROOT / "GLOSSARY.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.search(r"[\uac00-\ud7a3]", cells[1]) and cells[0] != "English":
            for v in re.sub(r"\([^)]*\)", "", cells[2]).split(","):
                if v.strip():
                    out[v.strip()] = cells[1]
    return out


def find(text: str, variant: str) -> list[str]:
    hits = []
    for m in re.finditer(re.escape(variant), text):
        before = text[max(0, m.start() - 4):m.start()].strip()
        if variant == "과정" and before.endswith(PROCESS):
            continue
        hits.append(text[max(0, m.start() - 20):m.end() + 20].replace("\n", " "))
    return hits


def test_the_glossary_has_its_terms():
    v = variants()
    assert v["증강"] == "데이터 증식" and v["과적합"] == "과대적합" and v["무작위 수준"] == "우연 수준"
    assert v["밀집층"] == "완전연결 층" and v["과정"] == "강좌" and v["코스"] == "강좌"


def test_process_is_not_the_course():
    assert find("학습 과정에서 손실이 줄어듭니다", "과정") == []
    assert find("이 과정의 노트북", "과정") != []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_only_canonical_korean_terms(path):
    text = path.read_text(encoding="utf-8")
    found = {f"{v} (use {c})": find(text, v)[:2] for v, c in variants().items() if find(text, v)}
    assert not found, f"{path.name}: non-canonical terms (GLOSSARY.md): {found}"
