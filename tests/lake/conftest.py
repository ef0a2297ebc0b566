from __future__ import annotations

import pytest

from tests.s3_endpoint import s3_endpoint


@pytest.fixture(scope="session")
def s3():
    with s3_endpoint() as endpoint:
        yield endpoint
