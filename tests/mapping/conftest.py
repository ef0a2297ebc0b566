from __future__ import annotations

import pytest
from mapping_helpers import shop_catalog

from dersonlake.sources.catalog import Catalog


@pytest.fixture
def catalog() -> Catalog:
    return shop_catalog()
