"""What `hotspot-onboard serve` and `hotspot-onboard form-link` do."""

from __future__ import annotations

import logging
import re

import uvicorn

from store import crud
from store.db import migrate, session_scope
from trust.links import IssuedForm, issue_link, revoke_link
from web.app import create_app

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


def company_id(company: str) -> int | None:
    """The id of the company by that name, if there is one."""
    migrate()
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        return found.id if found else None


def form_link(company: str, *, days: float | None, base_url: str | None) -> IssuedForm | None:
    """A new signed link to the company's form, or None if there is no such company.

    Raises `ValueError` for a lifetime over MAX_FORM_LINK_DAYS.
    """
    found = company_id(company)
    return None if found is None else issue_link(found, days=days, base_url=base_url)


def revoke_form_link(company: str, link_or_id: str) -> int | None:
    """Revoke one of the company's links (by id or as sent); its id, or None if there is no
    such company. Raises `LookupError` when it is not one of the company's links."""
    found = company_id(company)
    return None if found is None else revoke_link(found, link_or_id)
