"""`policy check` for a sync: each mapped object with its live schema, into the policy lint."""

from __future__ import annotations

from leadbridge.engine.sync.context import SyncContext
from leadbridge.policy.lint import LintObject, LintReport, lint


async def check(ctx: SyncContext) -> LintReport:
    create_as = ctx.create_people_as()
    objects = []
    for stream, mapping in ctx.maps():
        if stream.kind == "company":
            created = ctx.policy.push.push_accounts or create_as.company is not None
        else:
            created = stream.name == create_as.name
        objects.append(
            LintObject(
                stream.name,
                stream.section,
                stream.kind,
                mapping,
                await ctx.connector.schema(stream.name),
                created and stream.creatable,
            )
        )
    report = lint(objects, ctx.policy, ctx.preset, ctx.label, ctx.catalog.scope_label)
    activities = ctx.policy.activities
    if activities.enabled:
        setup = getattr(ctx.connector, "activity_setup", None)
        if setup is None:
            report.errors.append(f"activities: {ctx.label} takes no activities")
        else:
            missing = await setup(activities.emails.sequence_subtype)
            if missing:
                report.errors.append(f"activities: {missing}")
    return report
