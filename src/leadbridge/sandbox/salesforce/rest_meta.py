"""Versions, resources, limits and describes: what a client reads before it reads records."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from leadbridge.sandbox.salesforce.gate import Gate

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


def add_meta_routes(app: FastAPI, api: APIRouter, gate: Gate) -> None:
    org = gate.org

    # --- versions and resources (the versions list is free: it does not count) ---------------

    @app.get("/services/data")
    @app.get("/services/data/")
    async def versions() -> list[dict[str, str]]:
        return [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS]

    @api.get("/")
    @api.get("")
    async def resources(version: str, request: Request) -> dict[str, str]:
        await gate(request)
        base_path = f"/services/data/v{version}"
        return {
            k: f"{base_path}/{k}"
            for k in ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        }

    @api.get("/limits")
    @api.get("/limits/")
    async def limits(version: str, request: Request) -> dict[str, Any]:
        await gate(request)
        with org.lock:
            return {
                "DailyApiRequests": {
                    "Max": org.daily_limit,
                    "Remaining": max(0, org.daily_limit - org.api_usage),
                },
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
            }

    @api.get("/limits/recordCount")
    async def record_count(version: str, request: Request, sObjects: str = "") -> dict[str, Any]:
        await gate(request)
        names = [n for n in sObjects.split(",") if org.canonical(n)]
        return {
            "sObjects": [
                {
                    "count": sum(1 for r in org.rows(n) if not r["IsDeleted"]),
                    "name": org.canonical(n),
                }
                for n in names
            ]
        }

    # --- describe ---------------------------------------------------------------------------

    def describe_out(name: str, version: str) -> dict[str, Any]:
        d = copy.deepcopy(org.describe(name))
        d["urls"] = urls(name, version)
        return d

    @api.get("/sobjects")
    @api.get("/sobjects/")
    async def describe_global(version: str, request: Request) -> dict[str, Any]:
        await gate(request)
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [
                {**{k: org.describes[n].get(k) for k in GLOBAL_KEYS}, "urls": urls(n, version)}
                for n in org.describes
            ],
        }

    @api.get("/sobjects/{name}/describe")
    @api.get("/sobjects/{name}/describe/")
    async def describe(version: str, name: str, request: Request) -> dict[str, Any]:
        await gate(request)
        return describe_out(gate.obj_or_404(name), version)

    @api.get("/sobjects/{name}")
    @api.get("/sobjects/{name}/")
    async def basic_info(version: str, name: str, request: Request) -> dict[str, Any]:
        await gate(request)
        canonical = gate.obj_or_404(name)
        full = describe_out(canonical, version)
        return {
            "objectDescribe": {
                k: v
                for k, v in full.items()
                if k not in ("fields", "childRelationships", "recordTypeInfos")
            },
            "recentItems": [],
        }
