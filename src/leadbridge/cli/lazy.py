"""A click group that knows its commands from cli/commands.py and imports a command's module only
when that command runs (click's documented LazyGroup pattern, on Typer's group class so the help
keeps Typer's look). `leadbridge --help` lists every command without importing one of them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from typer.core import TyperCommand, TyperGroup

from leadbridge.cli.commands import COMMANDS, ROOT

if TYPE_CHECKING:  # Typer vendors click (typer._click): its groups take these classes
    from typer._click import Command, Context, HelpFormatter


class LazyGroup(TyperGroup):
    path = ROOT  # which table of COMMANDS this group lists; set by `lazy_group`

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # Stand-ins with the table's help line (Typer's "Did you mean …?" reads the names here);
        # the real commands go to _loaded as they run.
        self.commands: dict[str, Command] = {
            name: TyperCommand(name, help=entry.help) for name, entry in COMMANDS[self.path].items()
        }
        self._loaded: dict[str, Command] = {}
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS[self.path])

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands:
            return None
        if self._listing:  # the help's list of commands: the table's line, nothing imported
            return self._loaded.get(cmd_name) or self.commands[cmd_name]
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(self.path, cmd_name)
        return self._loaded[cmd_name]

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def lazy_group(path: str) -> type[LazyGroup]:
    """The group class of COMMANDS[path] (Typer takes a class, not an instance)."""
    return type(f"LazyGroup_{path or 'root'}", (LazyGroup,), {"path": path})


def load_command(path: str, cmd_name: str) -> Command:
    """Import the module that registers `cmd_name` of group `path`, then build its click command
    the way Typer would have (a sub-group is itself a LazyGroup)."""
    import typer.main

    from leadbridge.cli.app import GROUPS, app

    entry = COMMANDS[path][cmd_name]
    if entry.module is not None:
        importlib.import_module(f"leadbridge.cli.{entry.module}")
    group = GROUPS[path]
    if path == ROOT and cmd_name in GROUPS:
        for group_info in group.registered_groups:
            if group_info.name == cmd_name:
                return typer.main.get_group_from_info(
                    group_info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                    suggest_commands=app.suggest_commands,
                )
    for command_info in group.registered_commands:
        callback = command_info.callback
        name = command_info.name or (callback and typer.main.get_command_name(callback.__name__))
        if name == cmd_name:
            return typer.main.get_command_from_info(
                command_info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
    raise LookupError(f"leadbridge.cli.{entry.module} registers no command {path} {cmd_name}")
