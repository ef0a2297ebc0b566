"""Is this source ready for replication? Checks with the fix for every failure.

AWS DMS refuses (or silently mis-replicates) a MySQL source without a ROW binlog, a FULL row
image, enough binlog retention or the replication privileges (``reference/dms.md`` §4.1); our
binlog reader also needs ``binlog_row_metadata = FULL`` to know column names from the events. Each
check yields a ``Finding``; a failing one carries the statement that fixes it at runtime
(``fix_sql``) and the ``my.cnf`` lines under ``[mysqld]`` that make the fix survive a restart
(``fix_cnf``). Full-load-only tasks (``cdc=False``) need SELECT and nothing else.

``SHOW GRANTS`` output may contain password hashes; it is parsed here and never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pymysql

from dersonlake.errors import OperationFailed, SourceNotReady
from dersonlake.sources.mysql.connection import ConnectionParams, connect, describe_error

Status = Literal["ok", "warning", "error"]

MIN_RETENTION_SECONDS = 24 * 3600
RECOMMENDED_RETENTION_DAYS = 7
# A conservative full-load rate for the retention estimate: about a tenth of what docs/benchmarks.md
# measured on the 2-core dev machine (323k rows/s, 55 MB/s of Parquet written, 1M-row table). A
# slower source, network or target is the usual case, so the estimate errs long; the estimate is the
# larger of the row-based and the byte-based time.
ESTIMATE_ROWS_PER_SECOND = 30_000
ESTIMATE_BYTES_PER_SECOND = 5 * 1024 * 1024
# Warn when the binlog is kept less than this many times the estimated full-load time.
RETENTION_SAFETY_FACTOR = 2

_VARIABLES = (
    "version", "version_comment", "log_bin", "server_id", "binlog_format", "binlog_row_image",
    "binlog_row_metadata", "expire_logs_days", "binlog_expire_logs_seconds", "binlog_checksum",
    "log_bin_compress", "binlog_transaction_compression",
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One check's outcome. ``fix_sql`` runs as an admin; ``fix_cnf`` goes under ``[mysqld]``."""

    check: str
    status: Status
    message: str
    fix_sql: str | None = None
    fix_cnf: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __str__(self) -> str:
        text = f"[{self.status}] {self.check}: {self.message}"
        if self.fix_sql:
            text += f"\n    fix now:  {self.fix_sql}"
        if self.fix_cnf:
            text += "\n    my.cnf [mysqld]:  " + "; ".join(self.fix_cnf.splitlines())
        return text


@dataclass(frozen=True)
class ServerVersion:
    """``10.11.19-MariaDB-0+deb12u1`` -> (10, 11, 19), mariadb=True."""

    text: str
    numbers: tuple[int, int, int]
    mariadb: bool

    @classmethod
    def parse(cls, text: str, comment: str = "") -> ServerVersion:
        found = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
        numbers = (int(found[1]), int(found[2]), int(found[3])) if found else (0, 0, 0)
        return cls(text, numbers, "mariadb" in f"{text} {comment}".lower())

    @property
    def product(self) -> str:
        return "MariaDB" if self.mariadb else "MySQL"

    def __str__(self) -> str:
        return f"{self.product} {'.'.join(map(str, self.numbers))}"


def preflight(
    params: ConnectionParams,
    *,
    cdc: bool = True,
    schemas: Sequence[str] | None = None,
    full_load: bool = False,
    tables: Sequence[tuple[str, str]] | None = None,
) -> list[Finding]:
    """Connect with ``params`` and run every check (``schemas``: where SELECT is needed; default
    ``params.databases``, and when that is empty SELECT on ``*.*`` is expected).

    ``full_load`` (a CDC task that starts with a full load): also compare the binlog retention with
    the estimated full-load time of ``tables`` (schema, table), or of every base table of
    ``schemas`` when not given, since CDC starts from a position recorded before the load.
    """
    conn = connect(params)
    try:
        return check_connection(
            conn,
            cdc=cdc,
            schemas=schemas if schemas is not None else params.databases,
            full_load=full_load,
            tables=tables,
        )
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"preflight on {params.address} failed: {describe_error(exc, params)}"
        ) from None
    finally:
        conn.close()


def check_connection(
    conn: pymysql.connections.Connection,
    *,
    cdc: bool = True,
    schemas: Sequence[str] = (),
    full_load: bool = False,
    tables: Sequence[tuple[str, str]] | None = None,
) -> list[Finding]:
    """``preflight`` on an open connection (the checks are about the connection's own user)."""
    with conn.cursor() as cur:
        placeholders = ", ".join(["%s"] * len(_VARIABLES))
        cur.execute(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({placeholders})", _VARIABLES)
        variables = {str(name).lower(): str(value) for name, value in cur.fetchall()}
        cur.execute("SELECT CURRENT_USER()")
        current_user = str(cur.fetchone()[0])
        cur.execute("SHOW GRANTS")
        grants = [str(row[0]) for row in cur.fetchall()]
    version = ServerVersion.parse(variables.get("version", ""), variables.get("version_comment", ""))
    findings = [_check_version(version)]
    if cdc:
        findings += _check_binlog(variables, version)
        if full_load and variables.get("log_bin", "OFF").upper() in ("ON", "1"):
            rows, size = _load_size(conn, schemas, tables)
            findings.append(check_load_time(_retention_seconds(conn, variables), rows, size))
    findings += check_privileges(grants, _quote_account(current_user), cdc=cdc, schemas=schemas)
    return findings


def require_ready(findings: Sequence[Finding], source: str) -> None:
    """Raise ``SourceNotReady`` naming every error and its fix; warnings do not stop a task."""
    errors = [f for f in findings if f.status == "error"]
    if errors:
        details = "; ".join(
            f"{f.check}: {f.message}" + (f" (fix: {f.fix_sql})" if f.fix_sql else "")
            + (f" (my.cnf [mysqld]: {' / '.join(f.fix_cnf.splitlines())})" if f.fix_cnf else "")
            for f in errors
        )  # fmt: skip
        raise SourceNotReady(f"source {source} is not ready for replication: {details}")


# -- server settings ------------------------------------------------------------------------------
def _check_version(version: ServerVersion) -> Finding:
    too_old = (version.mariadb and version.numbers < (10, 0, 24)) or (
        not version.mariadb and version.numbers < (5, 6, 0)
    )
    if too_old:
        return Finding(
            "server_version", "warning", f"{version} is older than AWS DMS supports; upgrade the server"
        )
    return Finding("server_version", "ok", f"{version} ({version.text})")


def _check_binlog(v: dict[str, str], version: ServerVersion) -> list[Finding]:
    found: list[Finding] = []
    if v.get("log_bin", "OFF").upper() not in ("ON", "1"):
        found.append(
            Finding(
                "log_bin",
                "error",
                "the binary log is off; CDC reads changes from it (log_bin is read-only at runtime: "
                "add the lines and restart the server; on RDS/Aurora enable automated backups)",
                fix_cnf="log-bin = mysql-bin\nserver-id = 1",
            )
        )
        return found  # the other binlog settings do not matter until it is on
    found.append(Finding("log_bin", "ok", "binary log is on"))

    if v.get("server_id", "0") in ("0", ""):
        found.append(Finding("server_id", "error", "server_id is 0; a binlog source needs server_id >= 1",
                             fix_sql="SET GLOBAL server_id = 1;", fix_cnf="server-id = 1"))  # fmt: skip

    found.append(
        _expect(
            v,
            "binlog_format",
            "ROW",
            "STATEMENT or MIXED logging does not carry the changed rows",
            extra=" Sessions already open keep their old format: reconnect the applications "
            "(or restart the server).",
        )
    )
    found.append(_expect(v, "binlog_row_image", "FULL", "update/delete events must carry every column"))
    if "binlog_row_metadata" in v:
        found.append(
            _expect(
                v,
                "binlog_row_metadata",
                "FULL",
                "row events must carry column names (applies to events written after the change)",
            )
        )
    else:
        found.append(
            Finding(
                "binlog_row_metadata",
                "warning",
                f"{version} has no binlog_row_metadata (MariaDB >= 10.5 / MySQL >= 8.0.1 have it): "
                "column names come from information_schema, wrong for events older than a DDL change",
            )
        )
    found.append(_check_retention(v, version))
    # Our reader decodes both (MariaDB's zlib events, MySQL 8's zstd TRANSACTION_PAYLOAD); AWS DMS
    # refuses them (pre-migration assessment mysql-check-binlog-compression): a documented difference.
    compression = (
        ("log_bin_compress", "MariaDB compressed binlog events"),
        ("binlog_transaction_compression", "MySQL compressed transactions (also a session variable)"),
    )
    for name, what in compression:
        if v.get(name, "OFF").upper() in ("ON", "1"):
            message = (
                f"{name} is ON: {what} are supported by derson-lake's reader, but AWS DMS refuses "
                "such a source; turn it off if AWS DMS will read it too"
            )
            found.append(
                Finding(
                    name, "warning", message, fix_sql=f"SET GLOBAL {name} = OFF;", fix_cnf=f"{name} = OFF"
                )
            )
    checksum = v.get("binlog_checksum", "")
    if checksum:
        found.append(
            Finding(
                "binlog_checksum",
                "ok",
                f"binlog_checksum = {checksum} (informational: our reader handles CRC32 and NONE; "
                "older AWS DMS versions asked for NONE)",
            )
        )
    return found


def _expect(v: dict[str, str], name: str, wanted: str, why: str, extra: str = "") -> Finding:
    actual = v.get(name, "")
    if actual.upper() == wanted:
        return Finding(name, "ok", f"{name} = {wanted}")
    return Finding(
        name,
        "error",
        f"{name} is {actual or 'unset'}, must be {wanted}: {why}.{extra}",
        fix_sql=f"SET GLOBAL {name} = '{wanted}';",
        fix_cnf=f"{name} = {wanted}",
    )


def _check_retention(v: dict[str, str], version: ServerVersion) -> Finding:
    seconds = _int(v.get("binlog_expire_logs_seconds"))
    days = _float(v.get("expire_logs_days"))
    if not seconds and days:
        seconds = int(days * 86400)
    if "binlog_expire_logs_seconds" in v and (not version.mariadb or "expire_logs_days" not in v):
        fix_sql = f"SET GLOBAL binlog_expire_logs_seconds = {RECOMMENDED_RETENTION_DAYS * 86400};"
        fix_cnf = f"binlog_expire_logs_seconds = {RECOMMENDED_RETENTION_DAYS * 86400}"
    else:
        fix_sql = f"SET GLOBAL expire_logs_days = {RECOMMENDED_RETENTION_DAYS};"
        fix_cnf = f"expire_logs_days = {RECOMMENDED_RETENTION_DAYS}"
    rds = " On RDS: CALL mysql.rds_set_configuration('binlog retention hours', 168);"
    if not seconds:
        return Finding(
            "binlog_retention",
            "warning",
            "binlogs are never purged (retention 0): the disk fills up; "
            "AWS DMS asks for expire_logs_days >= 1." + rds,
            fix_sql=fix_sql,
            fix_cnf=fix_cnf,
        )
    shown = f"{seconds / 86400:g} days" if seconds >= 86400 else f"{seconds / 3600:g} hours"
    if seconds < MIN_RETENTION_SECONDS:
        return Finding(
            "binlog_retention",
            "warning",
            f"binlogs are kept only {shown}: a delta run started later than that after the previous one "
            "finds its position purged and must reload." + rds,
            fix_sql=fix_sql,
            fix_cnf=fix_cnf,
        )
    return Finding("binlog_retention", "ok", f"binlogs are kept {shown}")


def _retention_seconds(conn: pymysql.connections.Connection, v: dict[str, str]) -> int:
    """The binlog retention in seconds, 0 for "never purged".

    ``binlog_expire_logs_seconds`` wins when set (MySQL 8, MariaDB >= 10.6), else
    ``expire_logs_days``; on RDS/Aurora the effective one is ``mysql.rds_configuration``'s
    'binlog retention hours' (NULL: RDS purges binlogs within minutes, counted as 300 s), read
    only when that table exists and is readable.
    """
    seconds = _int(v.get("binlog_expire_logs_seconds")) or 0
    if not seconds:
        seconds = int((_float(v.get("expire_logs_days")) or 0) * 86400)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'")
            row = cur.fetchone()
    except pymysql.MySQLError:
        return seconds  # not RDS, or the table is not readable: the server variables are the truth
    if row is None:
        return seconds
    hours = _float(row[0])
    return int(hours * 3600) if hours else 300


def _load_size(
    conn: pymysql.connections.Connection, schemas: Sequence[str], tables: Sequence[tuple[str, str]] | None
) -> tuple[int, int]:
    """Estimated rows and data bytes (``information_schema.TABLES``) of the tables to load."""
    sql = "SELECT COALESCE(SUM(TABLE_ROWS), 0), COALESCE(SUM(DATA_LENGTH), 0) FROM information_schema.TABLES "
    params: list[str] = []
    if tables is not None:
        if not tables:
            return 0, 0
        sql += (
            "WHERE TABLE_TYPE = 'BASE TABLE' AND ("
            + " OR ".join(["(TABLE_SCHEMA = %s AND TABLE_NAME = %s)"] * len(tables))
            + ")"
        )
        for schema, table in tables:
            params += [schema, table]
    elif schemas:
        sql += f"WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN ({', '.join(['%s'] * len(schemas))})"
        params += list(schemas)
    else:
        sql += (
            "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN "
            "('mysql', 'information_schema', 'performance_schema', 'sys')"
        )
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows, size = cur.fetchone()
    return int(rows), int(size)


def estimate_load_seconds(rows: int, data_bytes: int) -> float:
    """A conservative full-load time (see ``ESTIMATE_ROWS_PER_SECOND``)."""
    return max(rows / ESTIMATE_ROWS_PER_SECOND, data_bytes / ESTIMATE_BYTES_PER_SECOND)


def check_load_time(retention_seconds: int, rows: int, data_bytes: int) -> Finding:
    """Warn when the binlog may be purged before a full load ends (``reference/dms.md`` §4.1).

    CDC of a full-load-and-cdc task starts at the position recorded before the load; if the binlog
    files from there are purged while the load runs, the task must reload from scratch.
    """
    estimate = estimate_load_seconds(rows, data_bytes)
    size = f"~{rows:,} rows, {data_bytes / 1024 / 1024:,.0f} MiB"
    about = f"estimated full-load time {_duration(estimate)} ({size} at a conservative " + (
        f"{ESTIMATE_ROWS_PER_SECOND:,} rows/s or {ESTIMATE_BYTES_PER_SECOND // (1024 * 1024)} MiB/s)"
    )
    if not retention_seconds:
        return Finding("binlog_retention_vs_full_load", "ok", f"binlogs are never purged; {about}")
    if retention_seconds >= RETENTION_SAFETY_FACTOR * estimate:
        return Finding(
            "binlog_retention_vs_full_load",
            "ok",
            f"binlogs are kept {_duration(retention_seconds)}, "
            f"at least {RETENTION_SAFETY_FACTOR}x the {about}",
        )
    wanted = max(int(RETENTION_SAFETY_FACTOR * estimate) + 1, MIN_RETENTION_SECONDS)
    return Finding(
        "binlog_retention_vs_full_load",
        "warning",
        f"binlogs are kept only {_duration(retention_seconds)}, less than {RETENTION_SAFETY_FACTOR}x the "
        f"{about}: the binlog from where CDC starts may be purged before the load ends, and the task then "
        f"has to reload. Keep them at least {_duration(wanted)}. On RDS: CALL "
        f"mysql.rds_set_configuration('binlog retention hours', {max(24, -(-wanted // 3600))});",
        fix_sql=f"SET GLOBAL binlog_expire_logs_seconds = {wanted};",
        fix_cnf=f"binlog_expire_logs_seconds = {wanted}",
    )


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.3g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} hours"
    if seconds >= 60:
        return f"{seconds / 60:.3g} minutes"
    return f"{seconds:.3g} s"


# -- privileges -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grant:
    """One parsed ``GRANT ... ON obj TO ...`` line (``obj`` is ``*.*``, ``db.*`` or ``db.table``)."""

    privileges: frozenset[str]
    schema: str  # '*' for global
    table: str  # '*' for schema-wide
    column_level: frozenset[str] = frozenset()


_GRANT_RE = re.compile(
    r"^GRANT\s+(?P<privs>.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE BODY|PACKAGE)\s+)?"
    r"(?P<obj>(?:`(?:[^`]|``)*`|[^\s.`]+|\*)\.(?:`(?:[^`]|``)*`|[^\s`]+|\*))\s+TO\s",
    re.IGNORECASE | re.DOTALL,
)
_REPLICATION_CLIENT = frozenset({"REPLICATION CLIENT", "BINLOG MONITOR"})


def parse_grants(lines: Sequence[str]) -> tuple[list[Grant], int]:
    """Object grants from ``SHOW GRANTS`` lines, and how many role grants there were."""
    grants: list[Grant] = []
    roles = 0
    for line in lines:
        match = _GRANT_RE.match(line.strip())
        if not match:
            if re.match(r"^GRANT\s+`?[^`\s]+`?(@`?[^`\s]*`?)?(\s*,\s*\S+)*\s+TO\s", line.strip(), re.I):
                roles += 1
            continue
        privileges: set[str] = set()
        column_level: set[str] = set()
        for raw in _split_top_level(match["privs"]):
            name = re.sub(r"\s+", " ", raw.split("(", 1)[0]).strip().upper()
            if name == "ALL":
                name = "ALL PRIVILEGES"
            (column_level if "(" in raw else privileges).add(name)
        schema, table = _split_object(match["obj"])
        grants.append(Grant(frozenset(privileges), schema, table, frozenset(column_level)))
    return grants, roles


def check_privileges(
    grant_lines: Sequence[str], account: str, *, cdc: bool = True, schemas: Sequence[str] = ()
) -> list[Finding]:
    """SELECT (always) and REPLICATION CLIENT + REPLICATION SLAVE (for CDC) of ``account``."""
    grants, roles = parse_grants(grant_lines)
    global_privs = set().union(*(g.privileges for g in grants if g.schema == "*"))
    has_all = "ALL PRIVILEGES" in global_privs
    role_note = " (the account has roles; if a role grants it, activate it by default: SET DEFAULT ROLE)"
    missing_status: Status = "warning" if roles else "error"
    found: list[Finding] = []

    if has_all or "SELECT" in global_privs:
        found.append(Finding("privilege_select", "ok", "SELECT on *.*"))
    else:
        schema_select = {
            g.schema for g in grants if g.table == "*" and g.privileges & {"SELECT", "ALL PRIVILEGES"}
        }
        table_select = {
            f"{g.schema}.{g.table}" for g in grants if g.table != "*" and "SELECT" in g.privileges
        }
        needed = list(schemas) or sorted(schema_select) or ["*"]
        lacking = [s for s in needed if s not in schema_select]
        if not lacking:
            found.append(
                Finding("privilege_select", "ok", f"SELECT on {', '.join(f'{s}.*' for s in needed)}")
            )
        else:
            targets = ", ".join("*.*" if s == "*" else f"`{s}`.*" for s in lacking)
            partial = (
                f"; it has SELECT only on tables {', '.join(sorted(table_select))}" if table_select else ""
            )
            found.append(
                Finding(
                    "privilege_select",
                    missing_status,
                    f"{account} lacks SELECT on {targets}, needed to read tables and their structure"
                    + partial
                    + (role_note if roles else ""),
                    fix_sql="; ".join(f"GRANT SELECT ON {t} TO {account}" for t in targets.split(", ")) + ";",
                )
            )

    if cdc:
        for check, names, canonical, why in (
            ("privilege_replication_client", _REPLICATION_CLIENT, "REPLICATION CLIENT",
             "needed to read binlog positions (SHOW MASTER STATUS / SHOW BINARY LOGS); "
             "MariaDB >= 10.5 calls it BINLOG MONITOR"),
            ("privilege_replication_slave", frozenset({"REPLICATION SLAVE"}), "REPLICATION SLAVE",
             "needed to stream the binlog"),
        ):  # fmt: skip
            if has_all or global_privs & names:
                found.append(Finding(check, "ok", f"{canonical} on *.*"))
            else:
                found.append(
                    Finding(
                        check,
                        missing_status,
                        f"{account} lacks {canonical}: {why}" + (role_note if roles else ""),
                        fix_sql=f"GRANT {canonical} ON *.* TO {account};",
                    )
                )
    return found


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _split_object(obj: str) -> tuple[str, str]:
    names = re.findall(r"`((?:[^`]|``)*)`|([^.`]+)", obj)
    values = [(quoted.replace("``", "`") if quoted else bare) for quoted, bare in names]
    return (values[0], values[1]) if len(values) == 2 else ("*", "*")


def _quote_account(current_user: str) -> str:
    """``repl@%`` -> ``'repl'@'%'`` (the user part may itself contain ``@``)."""
    user, _, host = current_user.rpartition("@")
    return f"'{user}'@'{host}'" if user else f"'{current_user}'"


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None
