"""A page's title is text: the browser shows <title> as it is, markup included, in the tab and the history."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = re.compile(r"{%\s*block title\s*%}(.*?){%\s*endblock", re.S)


def test_no_page_title_holds_markup_or_a_line_break():
    found_in = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    templates = [p for p in found_in if ".venv" not in p.parts]
    assert len(templates) > 50
    found = {
        str(path.relative_to(ROOT)): title
        for path in templates
        for title in TITLE.findall(path.read_text(encoding="utf-8"))
        if "<" in title or "\n" in title
    }
    assert found == {}
