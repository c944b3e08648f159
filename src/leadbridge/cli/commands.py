"""Every command of `leadbridge`, by group: its name, the cli module that registers it, and the
first paragraph of its help. The root and every group list their commands from here (cli/lazy.py)
without importing a command module; `leadbridge CMD …` imports only CMD's module.

Order is the order `--help` lists. tests/unit/test_cli_commands.py fails when this table and the
commands the modules register drift apart (a missing, extra or renamed command, another help).
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    module: str | None  # leadbridge.cli.<module> registers it; None: a group with no callback
    help: str  # the first paragraph of the command's help, as `--help` lists it


ROOT = ""

# A group's name → its commands; ROOT holds the top-level commands and groups.
COMMANDS: dict[str, dict[str, Entry]] = {
    ROOT: {
        "init": Entry("hub", "Create (or upgrade) the hub database and the encryption key."),
        "rotate-key": Entry(
            "hub",
            "Seal every connection's credentials with a new key, then drop the old key.",
        ),
        "settings": Entry(
            "apollo",
            "Show or change a job's settings, e.g. `leadbridge settings apollo-push "
            "batch_size=50`.",
        ),
        "run": Entry("apollo", "Run a job once, now, with a progress bar."),
        "pull": Entry("crm", "Pull from the CRM now (refused during the setup window)."),
        "push": Entry(
            "crm",
            "Push now; named records are a manual push (stage rules and the scope do not apply).",
        ),
        "activate": Entry(
            "crm",
            "End the setup window now: automatic sync starts, manual pull is allowed.",
        ),
        "undo": Entry("crm", "Restore what a run replaced (and delete what it created)."),
        "plan": Entry(
            "explain",
            "Print what a run would do now: changes first (create / update / link, errors), "
            "then\nwhat is held back and why; records already in sync only with --all.\nJOB is "
            "apollo-push or a CRM sync of the policy (salesforce, hubspot).",
        ),
        "explain": Entry(
            "explain",
            "Why a company was or was not pushed: every criterion, and what a run would do.",
        ),
        "audit": Entry(
            "audit",
            "Find duplicates within the CRM, within the hub and across, and the records to "
            "clean\nbefore syncing (invalid e-mails, test contacts, no activity for 12 months).",
        ),
        "status": Entry(
            "ops",
            "Connections, link states, the CRM sync counts and the latest runs.",
        ),
        "serve": Entry(
            "ops",
            "Run the scheduler (every connection's jobs on their intervals) and the web app.",
        ),
        "demo": Entry(
            "ops",
            "The whole product against local sandboxes, as the commands you would type: the "
            "lead push\nto Apollo, the two-way sync with Salesforce and HubSpot (audit, plan, "
            "edits both ways,\nexplain, undo), the REST API; then the dashboard (until Ctrl+C).",
        ),
        "worker": Entry(
            "scale",
            "Run jobs as one of any number of workers sharing a PostgreSQL hub (procrastinate).",
        ),
        "migrate-hub": Entry(
            "scale",
            "Copy a hub into a new database (SQLite to PostgreSQL): every table, counts verified.",
        ),
        "sandbox": Entry(None, "Run a local emulator of an outside API."),
        "connect": Entry(None, "Connect an outside system."),
        "import": Entry(None, "Import CSV files into the hub."),
        "users": Entry(None, "Remote users and their mapping to hub users."),
        "errors": Entry("ops", "The error log."),
        "policy": Entry(None, "The policy file."),
        "edit": Entry(None, "Change a hub record by hand."),
        "admin": Entry(None, "Accounts of the web app and API tokens."),
        "delete": Entry(None, "Delete a hub record (a tombstone)."),
        "merge": Entry(None, "Merge two hub records into one."),
        "deals": Entry(None, "Deals in the hub and their sync with the CRMs."),
    },
    "sandbox": {
        "apollo": Entry(
            "sandbox",
            "Serve the Apollo sandbox on 127.0.0.1:PORT (prints its API key).",
        ),
        "salesforce": Entry(
            "sandbox",
            "Serve the Salesforce sandbox on 127.0.0.1:PORT (prints its CA file and a session id).",
        ),
        "hubspot": Entry(
            "sandbox",
            "Serve the HubSpot sandbox on 127.0.0.1:PORT (prints its URL and a private-app token).",
        ),
    },
    "connect": {
        "apollo": Entry(
            "apollo",
            "Connect an Apollo team with an API key, or with OAuth (--oauth).",
        ),
        "salesforce": Entry(
            "crm",
            "Store an authorised org; automatic sync waits for the setup window.",
        ),
        "hubspot": Entry(
            "hubspot",
            "Connect a HubSpot portal (--token for a private app, or --oauth); automatic sync "
            "waits\nfor the setup window.",
        ),
    },
    "import": {
        "companies": Entry(
            "hub",
            "Import company leads (upsert by domain); bad rows are listed, good ones kept.",
        ),
        "people": Entry(
            "hub",
            "Import people (upsert by e-mail); bad rows are listed, good ones kept.",
        ),
        "users": Entry(
            "hub",
            "Import hub users (upsert by e-mail). Columns: email, first_name, last_name, active.",
        ),
        "activities": Entry(
            "hub",
            "Import activities (e-mails, calls, meetings, notes, tasks, summaries), once\neach "
            "by their id; bad rows are listed, good ones kept. They are pushed to the CRMs, "
            "never pulled.",
        ),
        "deals": Entry(
            "deals",
            "Import deals; bad rows are listed (and write nothing), good ones kept.",
        ),
    },
    "users": {
        "sync": Entry(
            "apollo",
            "Fetch the Apollo team's users and map them to hub users by e-mail.",
        ),
        "map": Entry(
            "apollo",
            "Map a hub user to an Apollo user by hand (overrides the e-mail match).",
        ),
        "unmap": Entry(
            "apollo",
            "Remove a hub user's Apollo mapping (it is not re-mapped automatically).",
        ),
        "list": Entry("apollo", "Apollo users and the hub users they map to."),
    },
    "errors": {
        "retry": Entry(
            "ops",
            "Make failed records eligible again on the next run (after fixing the cause).",
        ),
    },
    "policy": {
        "check": Entry(
            "crm",
            "Lint the policy against the live schema of the connection's objects.",
        ),
    },
    "edit": {
        "person": Entry(
            "edit",
            "Set a person's fields: first_name, last_name, email, email_status, title, phone,\n"
            "mobile_phone, company (domain or name), stage, lead_status, owner (a hub user's "
            "e-mail),\nsource, tags (`;`-separated: all of them), custom.<name>; add and remove "
            "single tags\nwith --tag / --untag.",
        ),
        "company": Entry(
            "edit",
            "Set a company's fields: name, domain, website, industry, employee_count, icp_fit, "
            "stage,\naccount_stage, is_customer, is_lead, quarantine, owner (a hub user's "
            "e-mail),\ncustom.<name>.",
        ),
    },
    "admin": {
        "create-user": Entry(
            "admin",
            "Create an account of the web app (the password is asked for, never an argument).",
        ),
        "create-token": Entry(
            "admin",
            "Create a REST API token (printed once; only its hash is kept).",
        ),
    },
    "delete": {
        "person": Entry(
            "remove",
            "Delete a person: kept as a tombstone, left out of plans, pushes, lists and the audit.",
        ),
        "company": Entry(
            "remove",
            "Delete a company: kept as a tombstone (its people stay, without it in plans).",
        ),
    },
    "merge": {
        "person": Entry(
            "remove",
            "Merge OTHER into KEEP: KEEP keeps its links (and takes OTHER's values where it "
            "has\nnone), OTHER is unlinked and deleted.",
        ),
        "company": Entry(
            "remove",
            "Merge OTHER into KEEP: OTHER's people move to KEEP, OTHER is unlinked and deleted.",
        ),
    },
    "deals": {
        "list": Entry("deals", "The hub's deals, the latest change first."),
        "stages": Entry(
            "deals",
            "The CRM's deal pipeline(s) the hub mirrors: each stage with its probability and "
            "state.",
        ),
        "sync": Entry("deals", "Sync deals with the CRM now, per the policy's `deals.mode`."),
        "explain": Entry(
            "deals",
            "Why a deal syncs (or does not) with the CRM: its plan line and its link.",
        ),
    },
}
