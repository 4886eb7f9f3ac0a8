"""The one-way rule between the apps (README, Layout): a lower app never imports a higher one.

customers ← surveys ← insight ← feedback ← reports ← api, webhooks. Below them all sit accounts, audit and outbox,
which import none of the domain apps; config wires everything together and is not checked."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ["accounts", "audit", "outbox"]
LAYERS = ["customers", "surveys", "insight", "feedback", "reports", "api", "webhooks"]
# Known and accepted: reports.stats is a leaf of pure statistical functions (no models, no app imports), which
# feedback's effectiveness check uses; it moves to a shared package when stats.py is split.
ALLOWED = {("feedback/effectiveness.py", "reports.stats")}


def _rank(app: str) -> int:
    # The base apps may use one another (audit's page checks accounts' roles); none uses a domain app.
    return -1 if app in BASE else LAYERS.index(app)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from reports import stats" imports reports.stats, not the whole of reports.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_app_imports_an_app_above_it():
    wrong = []
    for app in BASE + LAYERS:
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in folder.rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            for module in _imports(path):
                target = module.split(".")[0]
                if target in BASE + LAYERS and target != app and _rank(target) >= max(_rank(app), 0):
                    if any(relative == f and module.startswith(m) for f, m in ALLOWED):
                        continue
                    wrong.append(f"{relative} imports {module}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_rule_is_checked_on_real_imports():
    # The checker sees imports inside functions too (surveys' tasks import lazily).
    assert "surveys.tasks.campaign_send_chunk" in _imports(ROOT / "surveys" / "campaigns" / "delivery.py")
    assert _rank("customers") < _rank("surveys") < _rank("feedback") < _rank("reports")
