"""The demo's guided tour: `leadbridge` commands run in-process against the demo's hub, exactly as
a person types them (the same CLI, the same policy file in the working directory), each printed
with the head of what it answered. A command that fails stops the demo with its output: the
tour only shows what works."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from typer.testing import CliRunner


class TourFailed(RuntimeError):
    """A command of the tour did not succeed: a bug in the demo or in the product."""


class Tour:
    def __init__(self, console: Console, workdir: Path, env: dict[str, str]) -> None:
        self.console = console
        self.workdir = workdir
        self.env = {**env, "COLUMNS": str(max(100, console.width))}
        self.outputs: dict[str, str] = {}  # the displayed command line -> what it printed
        # CliRunner captures what the commands print; it is the CLI's own test harness, used
        # here because the tour must run the very commands a person runs, in this process.
        self._runner = CliRunner()

    def note(self, text: str) -> None:
        self.console.print(f"[dim]# {escape(text)}[/dim]")

    def run(
        self,
        *args: str,
        shown: str | None = None,
        lines: int = 6,
        env: dict[str, str] | None = None,
        input: str | None = None,
        exit_code: int = 0,
    ) -> str:
        from leadbridge.cli.main import app
        from leadbridge.settings import get_settings

        display = shown or "leadbridge " + " ".join(shlex.quote(a) for a in args)
        self.console.print(f"[bold cyan]$ {escape(display)}[/bold cyan]")
        get_settings.cache_clear()  # the tour's environment names the demo's hub
        with self._in_workdir():
            result = self._runner.invoke(
                app, list(args), input=input, env={**self.env, **(env or {})}
            )
        output = result.output
        failed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if result.exit_code != exit_code or failed:
            raise TourFailed(f"`{display}` failed (exit {result.exit_code}):\n{output}")
        self._show(output, lines)
        self.outputs[display] = output
        return output

    def show_rows(self, output: str, word: str) -> None:
        """The rows of a long answer that mention `word` (what this step is about)."""
        for row in output.splitlines():
            if word in row:
                self.console.print("  " + escape(row.strip()), soft_wrap=True)

    def _show(self, output: str, lines: int) -> None:
        rows = [row for row in output.splitlines() if row.strip()]
        for row in rows[:lines]:
            self.console.print("  " + escape(row), soft_wrap=True)
        if len(rows) > lines:
            self.console.print(f"  [dim]… {len(rows) - lines} more lines[/dim]")

    @contextmanager
    def _in_workdir(self) -> Iterator[None]:
        before = Path.cwd()
        os.chdir(self.workdir)  # the policy file and CSV files a person would have at hand
        try:
            yield
        finally:
            os.chdir(before)


def run_id(output: str) -> int:
    """The run a `push` or `pull` answer names ("push run 12: …")."""
    found = re.search(r"\brun (\d+)\b", output)
    if found is None:
        raise TourFailed(f"no run id in {output!r}")
    return int(found.group(1))
