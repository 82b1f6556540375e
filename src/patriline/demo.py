"""``make demo``: runs the main job end to end on the embedded default (SQLite)."""

from __future__ import annotations

from patriline.cli import main


def run() -> int:
    return main(["kits"])


if __name__ == "__main__":
    raise SystemExit(run())
