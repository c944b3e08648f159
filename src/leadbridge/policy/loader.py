"""Reading `leadbridge.yaml`: every mistake is reported with its line, none with a traceback."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from leadbridge.policy.crm import CrmSync, PolicyFile

DEFAULT_PATH = Path("leadbridge.yaml")


class PolicyError(Exception):
    """The policy file cannot be used; `problems` lists each as 'line N: what is wrong'."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest YAML node along a pydantic error location (for its line number)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(part)), None)
            if nxt is None:
                key = next((k for k, _ in node.value if k.value == str(part)), None)
                return key or node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _suggestion(model: type[BaseModel] | None, name: str, extra: Iterable[str] = ()) -> str:
    if model is None:
        return ""
    names = [n for n in model.model_fields if n != "objects"]
    if model is CrmSync:
        names += list(extra)
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model an error location points into (for 'did you mean')."""
    model: type[BaseModel] | None = PolicyFile
    skip_key = False
    for part in loc[:-1]:
        if skip_key or isinstance(part, int):
            skip_key = False
            continue
        field = model.model_fields.get(str(part)) if model else None
        if field is None:
            return None
        skip_key = typing.get_origin(field.annotation) is dict
        model = _inner_model(field.annotation)
    return model


def parse_policy(
    text: str, path: str = "leadbridge.yaml", sections: Mapping[str, str] | None = None
) -> PolicyFile:
    """`sections`: the object sections the known systems have (name -> kind); with them, a
    misspelt section is refused at its line with a "did you mean"."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise PolicyError(
            path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(path, ["line 1: the policy must be a mapping (version:, syncs:)"])
    try:
        context = {"sections": dict(sections)} if sections is not None else None
        return PolicyFile.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            node = _node_at(root, loc)
            line = f"line {node.start_mark.line + 1}: " if node is not None else ""
            dotted = ".".join(str(p) for p in loc) or "(top)"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                hint = _suggestion(_model_at(loc), str(loc[-1]), sections or ())
                message = f"unknown setting{hint}"
            problems.append(f"{line}{dotted}: {message}")
        raise PolicyError(path, problems) from None


def load_policy(path: Path | None = None, sections: Mapping[str, str] | None = None) -> PolicyFile:
    """The policy at `path` (default ./leadbridge.yaml); the defaults when there is none."""
    target = path or DEFAULT_PATH
    if not target.exists():
        if path is not None:
            raise PolicyError(str(target), ["file not found"])
        return PolicyFile()
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(target), [f"cannot read it ({exc})"]) from None
    return parse_policy(text, str(target), sections)
