"""The benchmark harness behind ``benchmarks/run.py``, one concept per module.

* ``common``: the workload's sizes and names, shared by every module.
* ``adapter``: the calls a client must answer; ``clients/``: one module per client, found by
  discovery, so that adding a peer is adding one file there.
* ``worker``: what runs inside a client's own process (the timed operations).
* ``runner``: the parent side: passes, workers in fresh processes, merging and pairing.
* ``servers``: the sink and SeaweedFS, started and stopped around a run.
* ``startup``: import and time-to-first-response, in fresh processes of a lean venv.
* ``targets``: the issue-8 targets, evaluated from one run's numbers.
* ``report``: the markdown tables, the chart and the README block.

Modules here import only the standard library at module level: a client's process imports
them before its timing starts, so anything heavier would be preloaded for the client.
"""
