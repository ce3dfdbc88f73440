#!/usr/bin/env python3
"""Check the bench corpus against the official `anthropic` Python SDK (the schema oracle).

Reads an SSE body (a file, or stdin) as served by `examples/sse_server.rs`, and validates every
event's data against the SDK's `BetaManagedAgentsStreamSessionEvents` union: no field unknown to
the SDK anywhere, and the dump round-trips to the same JSON (timestamps compared as instants,
since the SDK re-renders them with microseconds).

    .ci/.venv/bin/python bench/validate_corpus.py body.sse
    curl -s http://127.0.0.1:<port>/v1/sessions/x/events/stream | .ci/.venv/bin/python bench/validate_corpus.py

(.ci/.venv is the venv `.ci/run` sets up with the pinned SDK.) Exit status 1 on any failure.
"""
import collections
import datetime
import json
import pathlib
import sys

import pydantic

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"))
from validate import strip_extras  # noqa: E402
from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents  # noqa: E402


def instant(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def main():
    raw = open(sys.argv[1], "rb").read() if len(sys.argv) > 1 else sys.stdin.buffer.read()
    adapter = pydantic.TypeAdapter(BetaManagedAgentsStreamSessionEvents)
    counts, bad = collections.Counter(), collections.Counter()
    for frame in raw.decode().split("\n\n"):
        data = [line[6:] for line in frame.split("\n") if line.startswith("data: ")]
        if not data:
            continue
        value = json.loads("\n".join(data))
        counts[value["type"]] += 1
        try:
            obj = adapter.validate_python(value)
            extras = strip_extras(obj)
            if extras:
                raise ValueError(f"fields unknown to the SDK: {extras}")
            dumped = adapter.dump_python(obj, mode="json", exclude_unset=True, by_alias=True)
            if value.get("processed_at") is not None and dumped.get("processed_at") is not None:
                if instant(value["processed_at"]) == instant(dumped["processed_at"]):
                    dumped["processed_at"] = value["processed_at"]
            if dumped != value:
                raise ValueError(f"does not round-trip: got {json.dumps(dumped, sort_keys=True)[:300]}")
        except (pydantic.ValidationError, ValueError) as e:
            if not bad[value["type"]]:
                print(f"FAIL {value['type']} {value.get('id')}: {str(e)[:400]}", file=sys.stderr)
            bad[value["type"]] += 1
    for ty, n in counts.most_common():
        print(f"{ty:34} {n:7}" + (f"  {bad[ty]} bad" if bad[ty] else ""))
    total = sum(counts.values())
    print(f"{total - sum(bad.values())} passed, {sum(bad.values())} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
