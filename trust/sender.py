"""Who may ask: whether a request's sender may start an onboarding, and for which company.

Email: the From header must name one well-formed address, and — with sender authentication
on (MAIL_TRUSTED_AUTHSERV_IDS) — an Authentication-Results header written by Offstreet's own
border MTA must say `dmarc=pass` for the From domain, or, where it gives no DMARC result,
`dkim=pass` with `header.d` aligned to it. Headers any other host wrote are ignored (RFC 8601
§5), and shown to ops as ignored. The address must then be a contact of a company, or at one of
its domains.

Forms: the company is the one the signed link (or the staff API call, or ops' file) names,
whatever address is typed; an address that does not speak for that company holds the request.

Everything else is held for ops, never applied; replies go only to a sender that passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field
from sqlmodel import Session

from parsers import SpotIDRequest
from parsers.models import MethodResult, SenderEvidence
from store import crud
from store.models import Company, RequestState

APPROVE = (
    "ops decide: `hotspot-onboard approve REQUEST [--company NAME]` or "
    "`hotspot-onboard reject REQUEST --reason ...` (or answer the run in the Prefect UI)"
)
# Verdicts that say the message was forged or altered, whoever wrote the header.
FAILED = ("fail", "softfail")


class Admission(BaseModel):
    """The decision on one request's sender, kept with the request."""

    company_id: int | None
    state: RequestState = Field(description="received, held or needs_review")
    reason: str | None = None
    reply_to: str | None = Field(
        default=None, description="Where replies may go; None: the sender is not proven."
    )
    notes: list[str] = Field(
        default_factory=list, description="What ops should know (ignored headers)."
    )


def sender_authentication_off_warning(trusted_authserv_ids: Sequence[str]) -> str | None:
    """The one line commands print while email senders are not authenticated."""
    if trusted_authserv_ids:
        return None
    return (
        "Warning: sender authentication is off (MAIL_TRUSTED_AUTHSERV_IDS is empty): any email "
        "whose From names a company's contact is trusted. Set it to your border MTA's "
        "authserv-id in production."
    )


def who_may_ask(
    session: Session,
    request: SpotIDRequest,
    *,
    trusted_authserv_ids: Sequence[str],
    rep_domains: Sequence[str] = (),
) -> Admission:
    """The company asking, whether the request may run by itself, and where replies may go."""
    if request.source == "form":
        return _form_admission(session, request)
    evidence = request.sender_evidence or SenderEvidence(
        from_headers=0, from_addresses=[], from_defects=[], authentication_results=[]
    )
    company = crud.find_company_for_sender(session, address=request.sender or "")
    problem, notes = _sender_problem(evidence, request.sender, trusted_authserv_ids)
    if problem is not None:
        return _held(company, f"{problem}; {APPROVE}", notes=notes)
    if company is None and (request.sender or "").rpartition("@")[2] in rep_domains:
        return _from_a_rep(session, request, notes)
    if company is None:
        return _held(
            None, f"unknown sender {request.sender}; {APPROVE}", notes=notes, reply=request
        )
    return _admitted(company, request, reply_to=request.sender, notes=notes)


def _from_a_rep(session: Session, request: SpotIDRequest, notes: list[str]) -> Admission:
    """A HotSpot representative (authenticated) writing for a company: the company one of its
    contacts in To/Cc (or its name in the subject) names; never applied on the rep's word
    alone: it waits for the company's contact (the confirmation link) or ops (`confirm`)."""
    company, contact = None, None
    for address in request.recipients:
        company = crud.find_company_for_sender(session, address=address)
        if company is not None:
            contact = address
            break
    if company is None:
        subject = (request.subject or "").casefold()
        named = [c for c in crud.list_companies(session) if c.name.casefold() in subject]
        company = named[0] if len(named) == 1 else None
    if company is None or not request.spots or request.warnings:
        why = "names no company of ours" if company is None else "holds no SpotID read for sure"
        return _held(company, f"a HotSpot representative's request {why}; {APPROVE}", notes=notes)
    contact = contact or next(iter(company.contacts), None)
    return Admission(
        company_id=company.id,
        state=RequestState.finding_spot_ids,
        reason=f"SpotIDs sent by HotSpot representative {request.sender} for {company.name}: "
        f"waiting for confirmation by {contact or 'its contact'} (the link emailed) or by ops "
        "(`hotspot-onboard confirm REQUEST`)",
        reply_to=contact,
        notes=notes,
    )


def _form_admission(session: Session, request: SpotIDRequest) -> Admission:
    company = crud.get_company_by_name(session, name=request.company or "")
    if company is None:
        return _held(None, f"the form names no known company ({request.company!r}); {APPROVE}")
    if not company.speaks_for_it(request.sender):
        return _held(
            company,
            f"{request.sender} is not a contact of {company.name} (the form is "
            f"{company.name}'s); {APPROVE}",
        )
    return _admitted(company, request, reply_to=request.sender)


def _admitted(
    company: Company,
    request: SpotIDRequest,
    *,
    reply_to: str | None,
    notes: list[str] | None = None,
) -> Admission:
    if request.kind == "status_question" and not request.warnings:
        reason, state = "a status question (answered automatically)", RequestState.status_question
    elif request.kind == "find_spot_ids" and not request.warnings:
        reason = "the sender does not know its SpotIDs (Offstreet proposes them)"
        state = RequestState.finding_spot_ids
    elif request.warnings or not request.spots:
        reason = "; ".join(request.warnings) or "no SpotID could be read with certainty"
        state = RequestState.needs_review
    else:
        reason, state = None, RequestState.received
    return Admission(
        company_id=company.id, state=state, reason=reason, reply_to=reply_to, notes=notes or []
    )


def _held(
    company: Company | None,
    reason: str,
    *,
    notes: list[str] | None = None,
    reply: SpotIDRequest | None = None,
) -> Admission:
    """Held for ops; an authenticated stranger (`reply`) may still be answered."""
    return Admission(
        company_id=company.id if company else None,
        state=RequestState.held,
        reason=reason,
        reply_to=reply.sender if reply else None,
        notes=notes or [],
    )


def _sender_problem(
    evidence: SenderEvidence, sender: str | None, trusted: Sequence[str]
) -> tuple[str | None, list[str]]:
    """Why the From cannot be believed (None when it can), and notes for ops."""
    if evidence.from_headers != 1:
        return f"the message has {evidence.from_headers} From headers", []
    if len(evidence.from_addresses) != 1 or sender is None:
        return f"the From header names {len(evidence.from_addresses)} addresses", []
    if evidence.from_defects:
        return f"the From header is malformed ({'; '.join(evidence.from_defects)})", []
    domain = sender.rpartition("@")[2]
    if not trusted:
        failed = _verdicts(r for h in evidence.authentication_results for r in h.results)
        failed = [v for v in failed if v.partition("=")[2] in FAILED]
        return (f"the message failed {', '.join(failed)}" if failed else None), []
    ours = [h for h in evidence.authentication_results if h.authserv_id in trusted]
    notes = [
        f"ignored an Authentication-Results header written by {h.authserv_id!r} "
        "(not Offstreet's mail server)"
        for h in evidence.authentication_results
        if h.authserv_id not in trusted
    ]
    results = [r for h in ours for r in h.results]
    dmarc = [r for r in results if r.method == "dmarc"]
    if not ours:
        return (
            "no Authentication-Results header from Offstreet's mail server "
            f"({', '.join(trusted)}): the sender could not be verified"
        ), notes
    if dmarc:
        if any(r.result != "pass" for r in dmarc):
            return f"DMARC did not pass ({', '.join(_verdicts(dmarc))}) for {domain}", notes
        claimed = {r.properties.get("header.from", domain).lower() for r in dmarc}
        if claimed != {domain}:
            return (
                f"DMARC passed for {', '.join(sorted(claimed))}, not for the From domain {domain}",
                notes,
            )
        return None, notes
    if any(r.method == "dkim" and r.result == "pass" and _aligned(r, domain) for r in results):
        return None, notes
    return f"no DMARC result, and no DKIM signature aligned with {domain}", notes


def _aligned(result: MethodResult, domain: str) -> bool:
    """Relaxed DKIM alignment: the signing domain and the From domain are the same, or one is
    a subdomain of the other (never a bare top-level domain)."""
    signer = result.properties.get("header.d", "").lower().strip(".")
    shorter, longer = sorted((signer, domain), key=len)
    return "." in shorter and (longer == shorter or longer.endswith(f".{shorter}"))


def _verdicts(results: Iterable[MethodResult]) -> list[str]:
    found: list[str] = []
    for result in results:
        verdict = f"{result.method}={result.result}"
        if verdict not in found:
            found.append(verdict)
    return found
