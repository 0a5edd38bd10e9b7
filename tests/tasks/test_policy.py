"""Tasks retry only transient HotSpot faults."""

from __future__ import annotations

from prefect.states import Failed

from hotspot import HotSpotUnavailable, SpotNotFound
from tasks.policy import is_transient
from tasks.validate import validate_spot_ids


def test_only_transient_hotspot_faults_are_retried() -> None:
    outage = Failed(data=HotSpotUnavailable("down", method="GET", path="/v1/spots/1"))
    unknown = Failed(data=SpotNotFound("no", method="GET", path="/v1/spots/1", status_code=404))
    bug = Failed(data=ValueError("a bug is not retried"))
    assert is_transient(validate_spot_ids, None, outage)  # type: ignore[arg-type]
    assert not is_transient(validate_spot_ids, None, unknown)  # type: ignore[arg-type]
    assert not is_transient(validate_spot_ids, None, bug)  # type: ignore[arg-type]
