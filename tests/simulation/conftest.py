from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulation.world import Cloud


@pytest.fixture(scope="module", autouse=True)
def cloud() -> Iterator[None]:
    """The simulated AWS lives for this module; the process is left as it was found."""
    yield
    Cloud.close()
