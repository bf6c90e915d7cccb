"""Loads every OpenLineage event of a JSON-lines file into the official client's generated classes
(openlineage-python: openlineage.client.generated) and serialises it back with its Serde; prints one
JSON summary line per event, or exits 1 naming the first event the client refuses or that does not
round-trip unchanged. Used by test/workflows/openlineage.test.ts."""
import json
import sys

from openlineage.client.generated import (
    base,
    error_message_run,
    output_statistics_output_dataset,
    parent_run,
    schema_dataset,
)
from openlineage.client.serde import Serde


def run_facets(facets):
    out = {}
    for key, f in (facets or {}).items():
        if key == "parent":
            out[key] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=f["run"]["runId"]),
                job=parent_run.Job(namespace=f["job"]["namespace"], name=f["job"]["name"]),
                producer=f["_producer"],
            )
        elif key == "errorMessage":
            out[key] = error_message_run.ErrorMessageRunFacet(
                message=f["message"], programmingLanguage=f["programmingLanguage"], producer=f["_producer"]
            )
        else:
            raise ValueError(f"unexpected run facet {key}")
    return out


def dataset_facets(facets):
    out = {}
    for key, f in (facets or {}).items():
        if key != "schema":
            raise ValueError(f"unexpected dataset facet {key}")
        out[key] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=x["name"], type=x.get("type")) for x in f["fields"]],
            producer=f["_producer"],
        )
    return out


def output_facets(facets):
    out = {}
    for key, f in (facets or {}).items():
        if key != "outputStatistics":
            raise ValueError(f"unexpected output facet {key}")
        out[key] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=f["rowCount"], producer=f["_producer"]
        )
    return out


def load(e):
    return base.RunEvent(
        eventType=base.EventType[e["eventType"]],
        eventTime=e["eventTime"],
        producer=e["producer"],
        run=base.Run(runId=e["run"]["runId"], facets=run_facets(e["run"].get("facets"))),
        job=base.Job(namespace=e["job"]["namespace"], name=e["job"]["name"], facets={}),
        inputs=[
            base.InputDataset(namespace=d["namespace"], name=d["name"], facets=dataset_facets(d.get("facets")))
            for d in e["inputs"]
        ],
        outputs=[
            base.OutputDataset(
                namespace=d["namespace"],
                name=d["name"],
                facets=dataset_facets(d.get("facets")),
                outputFacets=output_facets(d.get("outputFacets")),
            )
            for d in e["outputs"]
        ],
    )


def strip_empty(v):
    """Serde leaves out empty collections; the emitter writes {} for no facets."""
    if isinstance(v, dict):
        return {k: strip_empty(x) for k, x in v.items() if x not in ({}, [], None)}
    if isinstance(v, list):
        return [strip_empty(x) for x in v]
    return v


for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    raw = json.loads(line)
    try:
        event = load(raw)
    except Exception as err:  # noqa: BLE001
        print(f"event {n} refused by openlineage-python: {err!r}", file=sys.stderr)
        sys.exit(1)
    back = strip_empty(Serde.to_dict(event))
    if back != strip_empty(raw):
        print(f"event {n} does not round-trip:\n{json.dumps(back, sort_keys=True)}\n!=\n{json.dumps(strip_empty(raw), sort_keys=True)}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({
        "type": event.eventType.value,
        "job": event.job.name,
        "runId": event.run.runId,
        "inputs": len(event.inputs),
        "outputs": [[d.name, (d.outputFacets or {}).get("outputStatistics").rowCount if (d.outputFacets or {}).get("outputStatistics") else None] for d in event.outputs],
        "schemaFields": sum(len(d.facets["schema"].fields) for d in event.inputs + event.outputs if d.facets and "schema" in d.facets),
        "error": event.run.facets.get("errorMessage").message if event.run.facets.get("errorMessage") else None,
        "parent": event.run.facets["parent"].job.name,
    }))
