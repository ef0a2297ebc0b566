"""An S3 endpoint on 127.0.0.1 for tests: moto's threaded server, which speaks the S3 protocol over
HTTP to boto3 and pyarrow alike (reference/deps.md §5: no MinIO package here; s3rver corrupts
pyarrow's uploads)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    region: str = "us-east-1"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name=self.region)


@contextmanager
def s3_endpoint() -> Iterator[S3Endpoint]:
    from moto.server import ThreadedMotoServer

    # Fake credentials for the fake endpoint; boto3's standard chain picks them up.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Endpoint(f"http://{host}:{port}")
    finally:
        server.stop()
