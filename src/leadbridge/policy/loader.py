"""Reading `leadbridge.yaml`: every mistake is reported with its line, none with a traceback."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from leadbridge.policy.crm import COMPANY_FIELDS, PERSON_FIELDS, PolicyFile

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


def _suggestion(model: type[BaseModel] | None, name: str) -> str:
    if model is None:
        return ""
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
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
# Accepted ranges the schema does not bound yet (asked of policy/crm.py; until it has them,
# the loader refuses absurd values itself): path inside a sync -> (lowest, highest, unit).
SYNC_BOUNDS: dict[tuple[str, ...], tuple[float, float, str]] = {
    ("pull", "interval_minutes"): (1, 10_080, "minutes (a week)"),
    ("setup_window_hours",): (0, 720, "hours (30 days)"),
}
OBJECT_MAPS = {"lead": PERSON_FIELDS, "contact": PERSON_FIELDS, "account": COMPANY_FIELDS}
CUSTOM_OBJECT = {"lead": "person", "contact": "person", "account": "company"}


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


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _sync_problems(name: str, sync: yaml.Node) -> dict[tuple[Any, ...], str]:
    """Problems the schema reports at the sync (or not at all), here at their own line:
    unknown hub fields in a field map, and values outside their accepted range."""
    problems: dict[tuple[Any, ...], str] = {}
    custom: dict[str, set[str]] = {"person": set(), "company": set()}
    for item in _items(_get(sync, "custom_fields")):
        field_name, kind = _get(item, "name"), _get(item, "object")
        kind_value = kind.value if isinstance(kind, yaml.ScalarNode) else "person"
        if isinstance(field_name, yaml.ScalarNode) and kind_value in custom:
            custom[kind_value].add(f"custom.{field_name.value}")
    for label, known_fields in OBJECT_MAPS.items():
        known = set(known_fields) | custom[CUSTOM_OBJECT[label]]
        for index, item in enumerate(_items(_get(_get(sync, label), "fields"))):
            hub = _get(item, "hub")
            if not isinstance(hub, yaml.ScalarNode) or hub.value in known:
                continue
            close = difflib.get_close_matches(str(hub.value), sorted(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"
            loc = ("syncs", name, label, "fields", index, "hub")
            problems[loc] = (
                f"{_line(hub.start_mark)}{_dotted(loc)}: unknown hub field "
                f"{str(hub.value)[:80]!r} ({hint})"
            )
    for where, (low, high, unit) in SYNC_BOUNDS.items():
        node: yaml.Node | None = sync
        for part in where:
            node = _get(node, part)
        value = _number(node)
        if node is not None and value is not None and not low <= value <= high:
            at = ("syncs", name, *where)
            problems[at] = (
                f"{_line(node.start_mark)}{_dotted(at)}: must be between {low:g} and "
                f"{high:g} {unit}, got {str(node.value)[:40]}"
            )
    return problems


def _number(node: yaml.Node | None) -> float | None:
    """The node's value when YAML reads it as a number (not a bool, not a string)."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        value = _Loader("").construct_object(node)
    except (yaml.YAMLError, ValueError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def parse_policy(text: str, path: str = "leadbridge.yaml") -> PolicyFile:
    root, data = _read_yaml(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(path, ["line 1: the policy must be a mapping (version:, syncs:)"])
    early: dict[tuple[Any, ...], str] = {}
    syncs = _get(root, "syncs")
    if isinstance(syncs, yaml.MappingNode):
        for key, sync in syncs.value:
            early.update(_sync_problems(str(key.value), sync))
    try:
        policy = PolicyFile.model_validate(data)
    except ValidationError as exc:
        problems = [*early.values(), *_validation_problems(exc, root, early)]
        raise PolicyError(path, problems) from None
    if early:
        raise PolicyError(path, list(early.values()))
    return policy


RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _range_message(loc: tuple[Any, ...], got: Any) -> str | None:
    """'must be between 1 and 200, got 500' from the field's own bounds."""
    model = _model_at(loc)
    field = model.model_fields.get(str(loc[-1])) if model else None
    if field is None:
        return None
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    shown = str(got)[:40]
    if low is not None and high is not None:
        return f"must be between {low} and {high}, got {shown}"
    if low is not None:
        return f"must be at least {low}, got {shown}"
    return f"must be at most {high}, got {shown}" if high is not None else None


def _validation_problems(
    exc: ValidationError, root: yaml.Node | None, early: dict[tuple[Any, ...], str]
) -> list[str]:
    reported_syncs = {loc[1] for loc in early}
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if loc in early:
            continue
        # The schema's own unknown-field check names the sync, not the field: reported above.
        if len(loc) == 2 and loc[1] in reported_syncs and "unknown hub field" in message:
            continue
        node = _node_at(root, loc)
        line = f"line {node.start_mark.line + 1}: " if node is not None else ""
        if error["type"] == "extra_forbidden":
            message = f"unknown setting{_suggestion(_model_at(loc), str(loc[-1]))}"
        elif error["type"] in RANGE_ERRORS:
            message = _range_message(loc, error.get("input")) or message
        problems.append(f"{line}{_dotted(loc)}: {message}")
    return problems


def load_policy(path: Path | None = None) -> PolicyFile:
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
    return parse_policy(text, str(target))
