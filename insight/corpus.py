"""The bundled labelled comments (insight/data/evaluation.tsv), written for this project in Vietnamese and English:
accented and unaccented Vietnamese, teencode, mixed languages, short and long. The `split` column is fixed: the
"train" rows ship as training data for the starter themes, the "test" rows are only ever used to measure."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from insight.engine import Labelled

PATH = Path(__file__).parent / "data" / "evaluation.tsv"
SENTIMENT_NAMES = {"neg": "negative", "neu": "neutral", "pos": "positive"}


@dataclass(frozen=True)
class Row:
    split: str
    language: str
    style: str
    sentiment: str
    themes: tuple[str, ...]
    text: str

    def labelled(self) -> Labelled:
        return Labelled(self.text, self.themes, self.sentiment)


@functools.cache
def rows() -> tuple[Row, ...]:
    with PATH.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return tuple(
            Row(
                r["split"],
                r["language"],
                r["style"],
                SENTIMENT_NAMES[r["sentiment"]],
                tuple(t for t in r["themes"].split("|") if t),
                r["text"],
            )
            for r in reader
        )


def training() -> list[Labelled]:
    return [r.labelled() for r in rows() if r.split == "train"]


def held_out() -> list[Row]:
    return [r for r in rows() if r.split == "test"]
