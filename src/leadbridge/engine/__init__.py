"""The engine: qualify, plan (pure), apply (I/O), explain. Plan and run share one classifier."""
