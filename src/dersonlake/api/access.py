"""Who may talk to the local server, and how much: the ``Host`` check, body limits and SigV4.

The server drives databases and writes lakes, so reaching it is reaching them. Three rules, as an
ASGI middleware in front of every route (the AWS endpoint, the dashboard, ``/metrics``):

* **Host check (DNS rebinding).** A web page on ``evil.example`` whose name later resolves to
  127.0.0.1 reaches a loopback server from the user's browser, but its requests carry
  ``Host: evil.example``. Only IP literals, ``localhost`` and the names the server was told about
  (``--allowed-host``; the machine's own names when bound to all addresses) are accepted.
* **Body limit.** A request body over ``max_body`` bytes is refused before it is read whole
  (``Content-Length``) or as soon as it grows past it (chunked): 413, AWS-shaped.
* **Authentication**, when credentials are configured (``serve --credentials-file``, required on a
  non-loopback address): AWS requests must carry a SigV4 signature that we recompute with
  botocore's own signer from the request as received; the dashboard and ``/metrics`` ask for HTTP
  Basic with the same access key id and secret (browsers and Prometheus speak it; put TLS in front
  when the network is not trusted). ``/health`` stays open: it tells nothing.

Errors are AWS's JSON errors (``__type`` and ``message``), never a 500.
"""

from __future__ import annotations

import base64
import configparser
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dersonlake.errors import BadInput

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Step Functions takes definitions up to 1 MiB and DMS table mappings are smaller: 8 MiB is ample.
DEFAULT_MAX_BODY = 8 * 1024 * 1024
# AWS refuses a signature whose X-Amz-Date is more than 15 minutes away from its clock.
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)
OPEN_PATHS = frozenset({"/health"})
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;\-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Access:
    """The server's rules: accepted ``Host`` names, body limit and (optionally) credentials by key id."""

    allowed_hosts: frozenset[str] = frozenset()
    any_host: bool = False
    max_body: int = DEFAULT_MAX_BODY
    credentials: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def authenticates(self) -> bool:
        return bool(self.credentials)

    def host_allowed(self, header: str | None) -> bool:
        """Whether a ``Host`` header names this server (IP literals always do: no DNS involved)."""
        if self.any_host:
            return True
        if not header:
            return False
        name = _host_name(header)
        if name is None:
            return False
        if name == "localhost" or name in self.allowed_hosts:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


def _host_name(header: str) -> str | None:
    """The host part of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), lower-case."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else None
    name, _, port = header.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".") or None


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (every address it names is loopback)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def default_allowed_hosts(bind: str, extra: Iterable[str] = ()) -> tuple[frozenset[str], bool]:
    """(names accepted in ``Host``, any host?) for a server bound to ``bind``.

    ``--allowed-host '*'`` turns the check off (behind a proxy that checks it). Bound to all
    addresses, the machine's own names are accepted too; bound to a name, that name.
    """
    names = {h.strip().lower().rstrip(".") for h in extra if h.strip()}
    if "*" in names:
        return frozenset(), True
    if bind in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    else:
        names.add(bind.strip("[]").lower())
    return frozenset(names), False


def load_credentials(path: Path) -> dict[str, str]:
    """Access key id -> secret from an AWS shared-credentials file (every profile in it).

    The same file format ``aws configure`` writes, so clients and server can share one file.
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise BadInput("the credentials file is a directory", file=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BadInput(f"cannot read the credentials file: {reason}", file=where) from None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=where)
    except configparser.Error as exc:
        raise BadInput(
            f"not an AWS credentials file: {str(exc).splitlines()[0]}",
            file=where,
            hint="Write [default] then aws_access_key_id = ... and aws_secret_access_key = ...",
        ) from None
    found: dict[str, str] = {}
    for name in parser.sections():
        section = parser[name]
        key, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
        if key and secret:
            found[key.strip()] = secret.strip()
        elif key or secret:
            raise BadInput(
                "a profile needs both aws_access_key_id and aws_secret_access_key",
                file=where,
                path=f"[{name}]",
            )
    if not found:
        raise BadInput(
            "no credentials in the file",
            file=where,
            hint="Write [default] then aws_access_key_id = ... and aws_secret_access_key = ...",
        )
    return found


class Denied(Exception):
    """A request refused before it reaches a route: its HTTP status and AWS error."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def verify_sigv4(
    access: Access, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> None:
    """Recompute the request's SigV4 signature with botocore's signer; ``Denied`` unless it matches.

    ``headers`` are lower-cased names to values as received. Only the headers the client signed are
    given to the signer, at the time and scope the client signed for.
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise Denied(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH.match(authorization.strip())
    if not match:
        raise Denied(403, "IncompleteSignatureException", "the Authorization header is not AWS SigV4")
    secret = access.credentials.get(match["key"])
    if secret is None:
        raise Denied(
            403, "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    stamp = headers.get("x-amz-date", "")
    try:
        when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise Denied(403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed") from None
    if abs(dt.datetime.now(dt.UTC) - when) > MAX_CLOCK_SKEW or stamp[:8] != match["date"]:
        raise Denied(403, "InvalidSignatureException", "Signature expired or dated for another day")
    signed = match["signed"].split(";")
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():  # else the body is unsigned
        raise Denied(403, "InvalidSignatureException", "X-Amz-Content-SHA256 does not match the body")
    if "host" not in signed:
        raise Denied(403, "IncompleteSignatureException", "the Host header must be signed")
    request = AWSRequest(
        method=method,
        url=f"http://{headers.get('host', '')}{path}" + (f"?{query}" if query else ""),
        headers={name: headers.get(name, "") for name in signed},
        data=body,
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(match["key"], secret), match["service"], match["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if signer.signed_headers(signer.headers_to_sign(request)) != match["signed"] or not hmac.compare_digest(
        expected, match["signature"]
    ):
        raise Denied(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )


def verify_basic(access: Access, headers: dict[str, str]) -> None:
    """HTTP Basic with an access key id and its secret, for the dashboard's pages."""
    challenge = {"www-authenticate": 'Basic realm="derson-lake"'}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Denied(401, "MissingAuthenticationTokenException", "sign in with an access key id", challenge)
    try:
        key, _, secret = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise Denied(401, "IncompleteSignatureException", "malformed Basic credentials", challenge) from None
    known = access.credentials.get(key)
    if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
        raise Denied(401, "UnrecognizedClientException", "unknown access key id or wrong secret", challenge)


class AccessMiddleware:
    """Applies ``access`` to every HTTP request before ``app`` sees it (see the module docstring)."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if not self.access.host_allowed(headers.get("host")):
                raise Denied(
                    403,
                    "AccessDeniedException",
                    f"Host {headers.get('host')!r} is not this server's name; start serve with "
                    "--allowed-host NAME to accept it",
                )
            body = await self._read_body(headers, receive)
            if self.access.authenticates and scope["path"] not in OPEN_PATHS:
                if scope["method"] == "POST":
                    verify_sigv4(
                        self.access,
                        scope["method"],
                        scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
                        scope.get("query_string", b"").decode("latin-1"),
                        headers,
                        body,
                    )
                else:
                    verify_basic(self.access, headers)
        except Denied as denied:
            await _deny(send, denied)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.access.max_body
        too_big = Denied(
            413, "RequestEntityTooLargeException", f"the request body is larger than {limit} bytes"
        )
        length = headers.get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            raise (
                too_big
                if length.strip().isdigit()
                else Denied(400, "SerializationException", "malformed Content-Length")
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body we already read, once; then the client's own messages (a disconnect when it leaves:
    streaming responses listen for it, and must not hear it early)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


async def _deny(send: Send, denied: Denied) -> None:
    payload = json.dumps({"__type": denied.code, "message": denied.message}).encode()
    headers = [
        (b"content-type", b"application/x-amz-json-1.1"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
        *((k.encode(), v.encode()) for k, v in denied.headers.items()),
    ]
    await send({"type": "http.response.start", "status": denied.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
