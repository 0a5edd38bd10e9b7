"""What `hotspot-onboard serve` and `hotspot-onboard form-link` do."""

from __future__ import annotations

import logging
import re

import uvicorn

from store import crud
from store.db import migrate, session_scope
from web.app import create_app
from web.links import form_url

LINK_IN_PATH = re.compile(r"/f/[^/?\s]+")


class RedactLinks(logging.Filter):
    """Keep form links' tokens out of the access log: each one opens a company's form."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                LINK_IN_PATH.sub("/f/<link>", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def serve(*, host: str, port: int) -> None:
    """Run the web app with uvicorn until interrupted."""
    migrate()
    logging.getLogger("uvicorn.access").addFilter(RedactLinks())
    uvicorn.run(create_app(), host=host, port=port, proxy_headers=True)


def form_link(company: str, *, days: float | None, base_url: str | None) -> str | None:
    """A signed link to the company's form, or None if there is no such company."""
    migrate()
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        company_id = found.id if found else None
    if company_id is None:
        return None
    return form_url(company_id, days=days, base_url=base_url)
