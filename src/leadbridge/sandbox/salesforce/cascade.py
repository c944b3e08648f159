"""Cascade deletes, as the describe's childRelationships declare them: deleting a record
deletes the children whose relationship has `cascadeDelete` (an Account takes its Contacts,
Opportunities, Notes and activities; a Contact its Tasks, Events, Notes and campaign
memberships), and undeleting it brings back exactly the children deleted with it, not those
deleted on their own before."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadbridge.sandbox.salesforce.org import Org

# Marks a row deleted by its parent's delete (the parent's id); never serialised, since rows
# are read through the describe's fields.
DELETED_WITH = "_deleted_with"

Relationship = tuple[str, str]  # (child sObject, the child's field that points at the parent)


class Children:
    """The org's children by parent id for every cascading relationship, built on demand and
    dropped whenever a reference may have changed (a create, an update, a merge, a rollback)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._index: dict[Relationship, dict[str, list[str]]] | None = None
        self._links: dict[str, set[str]] | None = None  # child sObject -> its cascading fields

    def cascading(self, parent: str) -> list[Relationship]:
        return [
            (rel["childSObject"], rel["field"])
            for rel in self.org.describes[parent].get("childRelationships", [])
            if rel.get("cascadeDelete") and rel["childSObject"] in self.org.records
        ]

    def invalidate(self) -> None:
        self._index = None

    def written(self, sobject: str, values: dict[str, Any]) -> None:
        """A create or update wrote `values`: the index goes only if a cascading link did."""
        if self._links is None:
            self._links = {}
            for parent in self.org.describes:
                for child, field_name in self.cascading(parent):
                    self._links.setdefault(child, set()).add(field_name)
        if self._index is not None and self._links.get(sobject, set()) & values.keys():
            self._index = None

    def _build(self) -> dict[Relationship, dict[str, list[str]]]:
        index: dict[Relationship, dict[str, list[str]]] = {}
        for parent in self.org.describes:
            for child, field_name in self.cascading(parent):
                if (child, field_name) in index:
                    continue
                by_parent: dict[str, list[str]] = {}
                for row in self.org.records[child].values():
                    if row.get(field_name):
                        by_parent.setdefault(row[field_name], []).append(row["Id"])
                index[(child, field_name)] = by_parent
        return index

    def of(self, parent: str, parent_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Rows (deleted or not) of every cascading relationship that point at `parent_id`."""
        if self._index is None:
            self._index = self._build()
        found: list[tuple[str, dict[str, Any]]] = []
        for child, field_name in self.cascading(parent):
            rows = self.org.records[child]
            for child_id in self._index.get((child, field_name), {}).get(parent_id, []):
                row = rows.get(child_id)
                if row is not None and row.get(field_name) == parent_id:
                    found.append((child, row))
        return found


def delete_children(org: Org, parent: str, parent_id: str, user_id: str | None) -> None:
    for child, row in org.children.of(parent, parent_id):
        if row["IsDeleted"]:
            continue
        org.remember(child, row["Id"])
        row[DELETED_WITH] = parent_id
        org.soft_delete(child, row, user_id)
        delete_children(org, child, row["Id"], user_id)


def undelete_children(org: Org, parent: str, parent_id: str, user_id: str | None) -> None:
    for child, row in org.children.of(parent, parent_id):
        if row["IsDeleted"] and row.get(DELETED_WITH) == parent_id:
            org.remember(child, row["Id"])
            row["IsDeleted"] = False
            row.pop(DELETED_WITH, None)
            org.touch(row, user_id)
            undelete_children(org, child, row["Id"], user_id)


def purge_children(org: Org, parent: str, parent_id: str) -> None:
    """Hard delete: the rows deleted with the parent leave the store with it."""
    for child, row in org.children.of(parent, parent_id):
        if row.get(DELETED_WITH) == parent_id:
            org.remember(child, row["Id"])
            org.records[child].pop(row["Id"], None)
            purge_children(org, child, row["Id"])
