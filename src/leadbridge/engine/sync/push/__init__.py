"""Push: hub records to the CRM (decide.py: the pure classifier; facts.py: what it looks at;
plan.py: the plan with what holds records back; run.py: a run applying it)."""

from leadbridge.engine.sync.push.decide import Decision
from leadbridge.engine.sync.push.plan import PushPlan, plan
from leadbridge.engine.sync.push.run import PushReport, check_push, push

__all__ = ["Decision", "PushPlan", "PushReport", "check_push", "plan", "push"]
