"""Deal sync with a CRM (issue 12): the hub's deals against a Salesforce Opportunity or HubSpot
deal stream, per the sync's `deals.mode`. `stages` (the CRM pipeline the hub mirrors) and
`plan` are pure; `run` reads, writes and records (links, mirror, journal, error log)."""
