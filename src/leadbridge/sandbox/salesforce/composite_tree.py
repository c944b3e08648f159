"""sObject Tree (`POST /composite/tree/{sObject}`): record trees (a root, its children under
their relationship name, theirs...) created in one all-or-nothing call.

Records are created level by level (every root, then every second-level record, ...), each
child given its parent's new id; the answer lists `{referenceId, id}` in that order. One failure
rolls everything back and answers 400 with only the failing records' referenceIds and errors.
Limits (documented): 200 records in all, 5 record types, 5 levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadbridge.sandbox.salesforce.bodies import sobject_fields
from leadbridge.sandbox.salesforce.composite import REFERENCE_ID, bad_request, too_many
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.resources import Answer, Call, Resources

MAX_RECORDS = 200
MAX_TYPES = 5
MAX_LEVELS = 5


@dataclass
class Node:
    sobject: str
    reference_id: str
    fields: dict[str, Any]
    parent: Node | None = None
    parent_field: str | None = None  # the child's field that points at the parent


def relationships(org: Org, sobject: str) -> dict[str, dict[str, Any]]:
    """Child relationships of `sobject` that this org holds, by lower-cased name."""
    return {
        rel["relationshipName"].lower(): rel
        for rel in org.describe(sobject).get("childRelationships", [])
        if rel.get("relationshipName") and rel["childSObject"] in org.records
    }


# A collection of records still to read: (parent node, sObject, field pointing at the parent,
# the raw `records` list).
Pending = tuple[Node | None, str, str | None, Any]


def read_level(org: Org, collection: Pending) -> tuple[list[Node], list[Pending]]:
    """The nodes of one `{"records": [...]}` collection, and the child collections under them
    for the next level."""
    parent, sobject, parent_field, records = collection
    if not isinstance(records, list) or not records:
        raise bad_request("'records' is a required field: a list of records")
    nodes: list[Node] = []
    below: list[Pending] = []
    for record in records:
        fields = sobject_fields(org, sobject, record, children=True)
        attributes = fields.get("attributes") or {}
        kind, reference_id = attributes.get("type"), attributes.get("referenceId")
        if not isinstance(kind, str) or not kind:
            raise bad_request("'type' is a required attribute of every record")
        if not isinstance(reference_id, str) or not REFERENCE_ID.match(reference_id):
            raise bad_request(
                "'referenceId' is a required attribute: it starts with a letter or a number "
                "and holds only letters, numbers and underscores"
            )
        if org.canonical(kind) != sobject:
            raise bad_request(f"The record {reference_id} is of type {kind}, expected {sobject}")
        own = {k: v for k, v in fields.items() if k != "attributes" and not isinstance(v, dict)}
        node = Node(sobject, reference_id, own, parent, parent_field)
        nodes.append(node)
        rels = relationships(org, sobject)
        for key, value in fields.items():
            if key == "attributes" or not isinstance(value, dict):
                continue
            rel = rels.get(key.lower())
            if rel is None:
                raise bad_request(f"No such relationship '{key}' on sobject of type {sobject}")
            below.append((node, rel["childSObject"], rel["field"], value.get("records")))
    return nodes, below


def add_tree_routes(resources: Resources) -> None:
    gate = resources.gate
    org = gate.org

    def levels_of(root: str, body: Any) -> list[list[Node]]:
        if not isinstance(body, dict):
            raise bad_request("Can not deserialize SObjectTreeRequest: the body is not an object")
        levels: list[list[Node]] = []
        pending: list[Pending] = [(None, root, None, body.get("records"))]
        while pending:
            if len(levels) == MAX_LEVELS:
                raise too_many("levels of records", len(levels) + 1, MAX_LEVELS)
            level: list[Node] = []
            following: list[Pending] = []
            for collection in pending:
                nodes, below = read_level(org, collection)
                level.extend(nodes)
                following.extend(below)
            levels.append(level)
            pending = following
        return levels

    def tree(call: Call) -> Answer:
        root = gate.obj_or_404(call.params["name"])
        levels = levels_of(root, call.json())
        nodes = [node for level in levels for node in level]
        if len(nodes) > MAX_RECORDS:
            raise too_many("records", len(nodes), MAX_RECORDS)
        types = {node.sobject for node in nodes}
        if len(types) > MAX_TYPES:
            raise too_many("record types", len(types), MAX_TYPES)
        seen: dict[str, int] = {}
        for node in nodes:
            seen[node.reference_id] = seen.get(node.reference_id, 0) + 1
        duplicated = [node for node in nodes if seen[node.reference_id] > 1]
        if duplicated:
            error = {
                "statusCode": "INVALID_INPUT",
                "message": "Duplicate ReferenceId provided in the request",
                "fields": [],
            }
            results = [{"referenceId": n.reference_id, "errors": [error]} for n in duplicated]
            return Answer(400, {"hasErrors": True, "results": results})
        ids: dict[int, str] = {}
        with org.transaction() as journal:
            for level in levels:
                failures = []
                for node in level:
                    fields = dict(node.fields)
                    if node.parent is not None and node.parent_field:
                        link = node.parent_field.lower()
                        fields = {k: v for k, v in fields.items() if k.lower() != link}
                        fields[node.parent_field] = ids[id(node.parent)]
                    result = org.create(node.sobject, fields, user_id=call.user_id)
                    if result.success and result.id:
                        ids[id(node)] = result.id
                    else:
                        errors = result.body()["errors"]
                        failures.append({"referenceId": node.reference_id, "errors": errors})
                if failures:
                    journal.rollback()
                    return Answer(400, {"hasErrors": True, "results": failures})
        results = [{"referenceId": n.reference_id, "id": ids[id(n)]} for n in nodes]
        return Answer(201, {"hasErrors": False, "results": results})

    resources.add("POST", ("/composite/tree/{name}", "/composite/tree/{name}/"), tree, "composite")
