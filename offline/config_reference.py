"""The README's config table, generated from stacks/config.py so the documentation never drifts.

`python -m offline.config_reference` prints it; `--write` replaces the marked block in README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from offline.harness import PROJECT, ROOT
from stacks.config import StackConfig

START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def _constraints(info: FieldInfo) -> str:
    parts = []
    for item in info.metadata:
        for attr, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    annotation = info.annotation
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
        annotation = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
        if get_origin(annotation) is Literal:
            parts.append("each one of " + ", ".join(map(str, get_args(annotation))))
    elif get_origin(annotation) is Literal:
        parts.append("one of " + ", ".join(map(str, get_args(annotation))))
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value: Any = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "**required**"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value)}`"


def rows(model: type[BaseModel] = StackConfig, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, allowed) for every key, nested models expanded after their parent."""
    out: list[tuple[str, str, str]] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        alias = info.alias or to_camel(name)
        key = "aws:region" if name == "aws_region" else f"{PROJECT}:{alias}" if not prefix else f"{prefix}.{alias}"
        allowed = "; ".join(p for p in (info.description or "", _constraints(info)) if p)
        out.append((key, _default(info), allowed))
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            nested.append((key, info.annotation))
    for key, sub in nested:
        out.extend(rows(sub, key))
    return out


def render() -> str:
    lines = ["| key | default | allowed / meaning |", "|---|---|---|"]
    lines += [f"| `{k}` | {d} | {a.replace('|', '/')} |" for k, d, a in rows()]
    return "\n".join(lines)


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    table = render()
    if not args.write:
        print(table)
        return 0
    readme = ROOT / "README.md"
    text = readme.read_text()
    head, rest = text.split(START, 1)
    readme.write_text(f"{head}{START}\n{table}\n{END}{rest.split(END, 1)[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
