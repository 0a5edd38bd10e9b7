"""Deploy the onboarding flow from this checkout to a process work pool of the bench's server.

`python -m bench.deploy POOL NAME` (PREFECT_API_URL in the environment) creates the pool if it
is missing and the deployment `onboard-request/NAME`, and prints the deployment's id. It runs
in its own process so the benchmark's process never binds to one Prefect API.

The job's command is set to `python -m prefect.engine`: without one, Prefect 3.9's process
worker starts each flow run through a workspace supervisor, a second Python process per run,
which on two cores costs more than the onboarding itself.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect.workers.process import ProcessWorker

from settings import PROJECT_DIR

ENTRYPOINT = "flows/onboard_request.py:onboard_request"


async def ensure_pool(name: str) -> None:
    async with get_client() as client:
        try:
            await client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                )
            )
        except ObjectAlreadyExists:
            pass


def main(pool: str, name: str) -> None:
    asyncio.run(ensure_pool(pool))
    source = flow.from_source(source=str(PROJECT_DIR), entrypoint=ENTRYPOINT)
    deployment_id = source.deploy(  # type: ignore[union-attr]
        name=name,
        work_pool_name=pool,
        build=False,
        push=False,
        print_next_steps=False,
        ignore_warnings=True,
        job_variables={"command": f"{sys.executable} -m prefect.engine"},
    )
    print(deployment_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
