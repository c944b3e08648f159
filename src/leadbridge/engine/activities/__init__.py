"""Activity push (hub → CRM only): which activities a sync pushes (select.py, pure), what
each becomes in the CRM (the connector's activity writer), and the run that sends them once."""
