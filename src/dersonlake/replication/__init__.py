"""replication layer."""
