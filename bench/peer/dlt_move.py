# Why: bench/peer.ts compares learnsync with dlt on the same Postgres → Postgres move; this is the
# dlt side, run in its own pinned venv. It times only pipeline.run() (dlt's extract, normalize and
# load, its own connections included), after imports, and prints one JSON line.
import json
import os
import sys
import tempfile
import time

import dlt
from dlt.sources.sql_database import sql_table

backend, table, file_format = sys.argv[1:4]
source_url, dest_url = os.environ["PEER_SOURCE_URL"], os.environ["PEER_DEST_URL"]

with tempfile.TemporaryDirectory() as pipelines_dir:
    source = sql_table(credentials=source_url, table=table, backend=backend, chunk_size=100_000,
                       **({"backend_kwargs": {"return_type": "arrow"}} if backend == "connectorx" else {}))
    source.apply_hints(primary_key="event_id")
    pipeline = dlt.pipeline(
        pipeline_name=f"peer_{backend}",
        destination=dlt.destinations.postgres(credentials=dest_url, create_indexes=True),
        dataset_name=f"dlt_{backend}",
        pipelines_dir=pipelines_dir,
        progress=None,
    )
    started = time.perf_counter()
    info = pipeline.run(source, write_disposition="replace", loader_file_format=None if file_format == "default" else file_format)
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    rows = pipeline.last_trace.last_normalize_info.row_counts.get(table, 0)
    print(json.dumps({"backend": backend, "file_format": file_format, "rows": rows, "seconds": seconds}))
