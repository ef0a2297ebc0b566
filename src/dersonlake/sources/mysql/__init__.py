"""MySQL / MariaDB source: connection, catalog, types, preflight, snapshot and binlog readers."""
