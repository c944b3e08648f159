"""Versions, resources, limits and describes: what a client reads before it reads records."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from leadbridge.sandbox.salesforce.resources import Answer, Call, Resources

VERSIONS = ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
GLOBAL_KEYS = (
    "name",
    "label",
    "labelPlural",
    "keyPrefix",
    "custom",
    "createable",
    "updateable",
    "deletable",
    "queryable",
    "retrieveable",
    "searchable",
    "replicateable",
    "mergeable",
    "undeletable",
    "triggerable",
    "layoutable",
    "mruEnabled",
    "feedEnabled",
    "activateable",
    "customSetting",
    "deprecatedAndHidden",
    "hasSubtypes",
    "isInterface",
    "isSubtype",
)


def urls(name: str, version: str) -> dict[str, str]:
    p = f"/services/data/v{version}/sobjects/{name}"
    return {"sobject": p, "describe": f"{p}/describe", "rowTemplate": f"{p}/{{ID}}"}


def add_meta_routes(app: FastAPI, resources: Resources) -> None:
    org = resources.gate.org
    gate = resources.gate

    @app.get("/services/data")
    @app.get("/services/data/")
    async def versions() -> list[dict[str, str]]:  # free: it does not count
        return [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS]

    def resource_list(call: Call) -> Answer:
        base_path = f"/services/data/v{call.version}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        return Answer(200, {k: f"{base_path}/{k}" for k in names})

    def composite_list(call: Call) -> Answer:
        base_path = f"/services/data/v{call.version}/composite"
        return Answer(200, {k: f"{base_path}/{k}" for k in ("tree", "batch", "sobjects")})

    def limits(call: Call) -> Answer:
        with org.lock:
            return Answer(
                200,
                {
                    "DailyApiRequests": {
                        "Max": org.daily_limit,
                        "Remaining": max(0, org.daily_limit - org.api_usage),
                    },
                    "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                    "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                    "DataStorageMB": {"Max": 5, "Remaining": 5},
                },
            )

    def record_count(call: Call) -> Answer:
        names = [n for n in call.query.get("sObjects", "").split(",") if org.canonical(n)]
        counts = [
            {"count": sum(1 for r in org.rows(n) if not r["IsDeleted"]), "name": org.canonical(n)}
            for n in names
        ]
        return Answer(200, {"sObjects": counts})

    def describe_out(name: str, version: str) -> dict[str, Any]:
        d = copy.deepcopy(org.describe(name))
        d["urls"] = urls(name, version)
        return d

    def describe_global(call: Call) -> Answer:
        return Answer(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [
                    {
                        **{k: org.describes[n].get(k) for k in GLOBAL_KEYS},
                        "urls": urls(n, call.version),
                    }
                    for n in org.describes
                ],
            },
        )

    def describe(call: Call) -> Answer:
        return Answer(200, describe_out(gate.obj_or_404(call.params["name"]), call.version))

    def basic_info(call: Call) -> Answer:
        full = describe_out(gate.obj_or_404(call.params["name"]), call.version)
        left_out = ("fields", "childRelationships", "recordTypeInfos")
        info = {k: v for k, v in full.items() if k not in left_out}
        return Answer(200, {"objectDescribe": info, "recentItems": []})

    resources.add("GET", ("/", ""), resource_list, "meta")
    resources.add("GET", ("/composite", "/composite/"), composite_list, "meta")
    resources.add("GET", ("/limits", "/limits/"), limits, "limits")
    resources.add("GET", ("/limits/recordCount",), record_count, "limits")
    resources.add("GET", ("/sobjects", "/sobjects/"), describe_global, "sobject")
    resources.add(
        "GET", ("/sobjects/{name}/describe", "/sobjects/{name}/describe/"), describe, "sobject"
    )
    resources.add("GET", ("/sobjects/{name}", "/sobjects/{name}/"), basic_info, "sobject")
