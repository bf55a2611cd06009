from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from impactlens.ingest.health import data_health
from impactlens.store.duckdb import DuckDBStore


def test_health_reports_unknown_people_identity_match_and_kpi_coverage(
    store: DuckDBStore, write: Callable[..., Path], load: Callable[..., Any]
) -> None:
    load("people", write("p.csv", "person_id,email\nE1,a@x.org\nE2,\nE3,c@x.org\nE4,d@x.org\n"))
    load(
        "activity",
        write(
            "a.csv",
            "person_id,asset_id,verb,timestamp\nE1,a,v,2024-01-01\nX1,a,v,2024-01-01\n"
            "X1,b,v,2024-01-01\nX2,a,v,2024-01-01\n",
        ),
    )
    load(
        "kpis",
        write(
            "k.csv",
            "kpi,unit_id,period,value\nsales,T1,2024-01-31,1\nsales,T1,2024-02-29,1\n"
            "sales,T2,2024-03-31,1\nnps,T1,2024-01-31,1\n",
        ),
    )
    health = data_health(store)
    act = health["unknown_people"]["activity"]
    assert (act["rows"], act["unknown_rows"], act["unknown_people"]) == (4, 3, 2)
    assert len(act["samples"]) == 2 and all(s.startswith("u_") for s in act["samples"])
    assert health["identity_match"] == {"email": {"people": 3, "match_rate": 0.75}}
    assert health["kpi_coverage"]["sales"] == {
        "units": 2,
        "first_period": "2024-01-31",
        "last_period": "2024-03-31",
        "periods": 3,
        "rows": 3,
    }
    assert [i["kind"] for i in health["imports"]] == ["people", "activity", "kpis"]
    json.dumps(health)  # JSON-ready
