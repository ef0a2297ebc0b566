"""The numbers of the binlog format: event type codes (MySQL and MariaDB) and column type codes.

Sources: MySQL's ``binlog_event.h`` / ``field_types.h`` and MariaDB's ``log_event.h``, as the
server documentation of the replication protocol lists them. Kept as plain ints (not ``IntEnum``)
because the decoder compares them per event and per column.
"""

from __future__ import annotations

# -- event types --------------------------------------------------------------------------------
QUERY = 2
STOP = 3
ROTATE = 4
INTVAR = 5
RAND = 13
USER_VAR = 14
FORMAT_DESCRIPTION = 15
XID = 16
TABLE_MAP = 19
WRITE_ROWS_V1 = 23
UPDATE_ROWS_V1 = 24
DELETE_ROWS_V1 = 25
INCIDENT = 26
HEARTBEAT = 27
IGNORABLE = 28
ROWS_QUERY = 29
WRITE_ROWS_V2 = 30
UPDATE_ROWS_V2 = 31
DELETE_ROWS_V2 = 32
GTID = 33
ANONYMOUS_GTID = 34
PREVIOUS_GTIDS = 35
TRANSACTION_CONTEXT = 36
VIEW_CHANGE = 37
XA_PREPARE = 38
PARTIAL_UPDATE_ROWS = 39
TRANSACTION_PAYLOAD = 40
HEARTBEAT_V2 = 41
GTID_TAGGED = 42
# MariaDB
ANNOTATE_ROWS = 160
BINLOG_CHECKPOINT = 161
MARIADB_GTID = 162
MARIADB_GTID_LIST = 163
START_ENCRYPTION = 164
QUERY_COMPRESSED = 165
WRITE_ROWS_COMPRESSED_V1 = 166
UPDATE_ROWS_COMPRESSED_V1 = 167
DELETE_ROWS_COMPRESSED_V1 = 168
WRITE_ROWS_COMPRESSED = 169
UPDATE_ROWS_COMPRESSED = 170
DELETE_ROWS_COMPRESSED = 171

#: rows events -> (op, version, compressed): op is I/U/D, version 1 or 2 (v2 has extra data)
ROWS_EVENTS: dict[int, tuple[str, int, bool]] = {
    WRITE_ROWS_V1: ("I", 1, False),
    UPDATE_ROWS_V1: ("U", 1, False),
    DELETE_ROWS_V1: ("D", 1, False),
    WRITE_ROWS_V2: ("I", 2, False),
    UPDATE_ROWS_V2: ("U", 2, False),
    DELETE_ROWS_V2: ("D", 2, False),
    PARTIAL_UPDATE_ROWS: ("U", 2, False),
    WRITE_ROWS_COMPRESSED_V1: ("I", 1, True),
    UPDATE_ROWS_COMPRESSED_V1: ("U", 1, True),
    DELETE_ROWS_COMPRESSED_V1: ("D", 1, True),
    WRITE_ROWS_COMPRESSED: ("I", 2, True),
    UPDATE_ROWS_COMPRESSED: ("U", 2, True),
    DELETE_ROWS_COMPRESSED: ("D", 2, True),
}

#: events that never carry row changes nor transaction boundaries: safe to pass over
HARMLESS_EVENTS = frozenset(
    {
        STOP, INTVAR, RAND, USER_VAR, INCIDENT, IGNORABLE, TRANSACTION_CONTEXT, VIEW_CHANGE,
        START_ENCRYPTION, 1, 6, 7, 8, 9, 10, 11, 12, 17, 18, 20, 21, 22,
    }
)  # fmt: skip

#: the header flag saying an event may be ignored by a reader that does not know it
LOG_EVENT_IGNORABLE_F = 0x80
#: the header flag of events the server made up for the stream (fake Rotate): no position
LOG_EVENT_ARTIFICIAL_F = 0x20

# -- column types (table map) --------------------------------------------------------------------
T_DECIMAL = 0
T_TINY = 1
T_SHORT = 2
T_LONG = 3
T_FLOAT = 4
T_DOUBLE = 5
T_NULL = 6
T_TIMESTAMP = 7
T_LONGLONG = 8
T_INT24 = 9
T_DATE = 10
T_TIME = 11
T_DATETIME = 12
T_YEAR = 13
T_NEWDATE = 14
T_VARCHAR = 15
T_BIT = 16
T_TIMESTAMP2 = 17
T_DATETIME2 = 18
T_TIME2 = 19
T_VECTOR = 242
T_JSON = 245
T_NEWDECIMAL = 246
T_ENUM = 247
T_SET = 248
T_TINY_BLOB = 249
T_MEDIUM_BLOB = 250
T_LONG_BLOB = 251
T_BLOB = 252
T_VAR_STRING = 253
T_STRING = 254
T_GEOMETRY = 255

NUMERIC_TYPES = frozenset(
    {T_DECIMAL, T_TINY, T_SHORT, T_LONG, T_FLOAT, T_DOUBLE, T_LONGLONG, T_INT24, T_NEWDECIMAL}
)
#: types whose charset the COLUMN_CHARSET / DEFAULT_CHARSET metadata lists (ENUM/SET have their own)
CHARACTER_TYPES = frozenset(
    {T_VARCHAR, T_VAR_STRING, T_STRING, T_BLOB, T_TINY_BLOB, T_MEDIUM_BLOB, T_LONG_BLOB}
)
BINARY_COLLATION = 63
