"""Collection: the collector specs, their executor, hooks, AWS sessions and rate caps."""
