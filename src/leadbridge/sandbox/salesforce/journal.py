"""Transactions over the in-memory org: a journal keeps each row as it was before the
transaction first touched it, so allOrNone (collections, /composite) and sObject Tree can roll
back everything a failed request did, cascades included."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadbridge.sandbox.salesforce.org import Org


class Journal:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.before: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.log_sizes = {name: len(log) for name, log in org.deleted_log.items()}

    def remember(self, sobject: str, record_id: str) -> None:
        key = (sobject, record_id)
        if key not in self.before:
            self.before[key] = copy.deepcopy(self.org.records[sobject].get(record_id))

    def rollback(self) -> None:
        """Every touched row back as it was (rows made here removed); the delete log too."""
        org = self.org
        for (sobject, record_id), row in self.before.items():
            if row is None:
                org.records[sobject].pop(record_id, None)
            else:
                org.records[sobject][record_id] = copy.deepcopy(row)
        for name, size in self.log_sizes.items():
            del org.deleted_log[name][size:]
        org.children.invalidate()


@contextmanager
def transaction(org: Org) -> Iterator[Journal]:
    """Holds the org's lock; writes made inside can be rolled back with the journal (an
    exception rolls them back by itself). Transactions nest: each keeps its own journal."""
    with org.lock:
        journal = Journal(org)
        org.journals.append(journal)
        try:
            yield journal
        except BaseException:
            journal.rollback()
            raise
        finally:
            org.journals.remove(journal)
