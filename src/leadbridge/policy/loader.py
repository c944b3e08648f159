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
    for part in _file_path(loc):
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


def _file_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error location as a path in the file: a sync's object sections are written at its
    own level (`contact:`), the schema keeps them under `objects`."""
    if len(loc) > 3 and loc[0] == "syncs" and loc[2] == "objects":
        return (*loc[:2], *loc[3:])
    return loc


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


MAX_DEPTH = 40  # a policy nests 6 deep; deeper is a mistake, and PyYAML recurses per level
MAX_VALUES = 100_000  # after aliases are expanded: no policy is this big (billion laughs)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose integers fail as YAML errors with their line, not as a bare
    ValueError (Python refuses to convert integers over 4,300 digits)."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a number with too many digits ({len(str(node.value)):,})",
                node.start_mark,
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _line(mark: Any) -> str:
    return f"line {mark.line + 1}: " if mark is not None else ""


def _check_shape(text: str, path: str) -> None:
    """Refuse nesting PyYAML cannot compose (it recurses) before composing; events are flat."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise PolicyError(
                    path,
                    [f"{_line(event.start_mark)}nested more than {MAX_DEPTH} levels deep"],
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _count_values(root: yaml.Node, path: str) -> None:
    """Refuse aliases that refer to themselves or expand past MAX_VALUES."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise PolicyError(path, [f"{_line(node.start_mark)}a YAML alias refers to itself"])
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        if total > MAX_VALUES:
            raise PolicyError(
                path,
                [f"{_line(node.start_mark)}expands to more than {MAX_VALUES:,} values (aliases?)"],
            )
        return total

    size(root)


def _read_yaml(text: str, path: str) -> tuple[yaml.Node | None, Any]:
    try:
        _check_shape(text, path)
        root = yaml.compose(text, Loader=_Loader)
        if root is not None:
            _count_values(root, path)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PolicyError(
            path, [f"{_line(mark)}not valid YAML ({getattr(exc, 'problem', None) or exc})"]
        ) from None
    except RecursionError:  # a shape _check_shape let through: still one line, no traceback
        raise PolicyError(path, ["nested too deeply to read"]) from None
    return root, data


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def parse_policy(
    text: str, path: str = "leadbridge.yaml", sections: Mapping[str, str] | None = None
) -> PolicyFile:
    """`sections`: the object sections the known systems have (name -> kind); with them, a
    misspelt section is refused at its line with a "did you mean"."""
    root, data = _read_yaml(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(path, ["line 1: the policy must be a mapping (version:, syncs:)"])
    context = {"sections": dict(sections)} if sections is not None else None
    try:
        policy = PolicyFile.model_validate(data, context=context)
    except ValidationError as exc:
        raise PolicyError(path, _validation_problems(exc, root, sections or {})) from None
    problems = []
    for name, sync in policy.syncs.items():
        for where, message in sync.map_problems(sections or _sections_by_name(sync)):
            loc = ("syncs", name, *where)
            node = _node_at(root, loc)
            line = f"line {node.start_mark.line + 1}: " if node is not None else ""
            problems.append(f"{line}{_dotted(_file_path(loc))}: {message}")
    for loc, message in policy.scope_problems():
        node = _node_at(root, loc)
        line = f"line {node.start_mark.line + 1}: " if node is not None else ""
        problems.append(f"{line}{_dotted(loc)}: {message}")
    if problems:
        raise PolicyError(path, problems)
    return policy


def _sections_by_name(sync: CrmSync) -> dict[str, str]:
    """Without the systems' sections, a section's kind is guessed from its fields' names."""
    return {
        section: "company" if any(f.hub in ("name", "domain") for f in m.fields) else "person"
        for section, m in sync.objects.items()
    }


RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _range_message(loc: tuple[Any, ...], got: Any) -> str | None:
    """'must be between 0 and 720 hours, got -1' from the field's own bounds (and its unit,
    the field's description when it is one)."""
    model = _model_at(loc)
    field = model.model_fields.get(str(loc[-1])) if model else None
    if field is None:
        return None
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    unit = f" {field.description}" if field.description else ""
    shown = str(got)[:40]
    if low is not None and high is not None:
        return f"must be between {low} and {high}{unit}, got {shown}"
    if low is not None:
        return f"must be at least {low}{unit}, got {shown}"
    return f"must be at most {high}{unit}, got {shown}" if high is not None else None


def _validation_problems(
    exc: ValidationError, root: yaml.Node | None, sections: Mapping[str, str]
) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        node = _node_at(root, loc)
        line = f"line {node.start_mark.line + 1}: " if node is not None else ""
        if error["type"] == "extra_forbidden":
            message = f"unknown setting{_suggestion(_model_at(loc), str(loc[-1]), sections)}"
        elif error["type"] in RANGE_ERRORS:
            message = _range_message(loc, error.get("input")) or message
        problems.append(f"{line}{_dotted(_file_path(loc))}: {message}")
    return problems


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
