"""How this project starts its processes, in one place, for `make up`, the embedded commands,
the tests, the benchmarks and the screenshot script.

- `process`: a child process in a session of its own, with a log, a health wait and a stop
  that takes everything it started with it; free ports; one-line `StackError`s.
- `prefect`: `prefect server start`, the work pool, HotSpot's rate limit (a global concurrency
  limit), `prefect deploy` of prefect.yaml, process workers, and their environment.
- `sandbox`: the HotSpot sandbox as a process, driven through its control API.
- `local`: the one local Prefect server per data dir that commands share without
  PREFECT_API_URL (started once, stopped when unused).
- `automations`: the automations and notification blocks that tell ops about runs.
"""
