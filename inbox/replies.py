"""Replies to customers, composed as pure functions (sending is `inbox.smtp`'s job)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from enum import StrEnum

from store.schemas import CompanyStanding, RequestOutcome

# Addresses that are machines: never answered, so no two robots ever talk in a loop.
NO_REPLY_LOCAL_PARTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply")


class ReplyKind(StrEnum):
    acknowledgement = "acknowledgement"
    refusal = "refusal"
    live = "live"


def may_reply_to(address: str | None, *, own_addresses: tuple[str, ...]) -> bool:
    """False for our own addresses and for machines (bounces, no-reply senders)."""
    if not address or "@" not in address:
        return False
    local = address.lower().partition("@")[0]
    own = {a.lower() for a in own_addresses if a}
    return address.lower() not in own and not local.startswith(NO_REPLY_LOCAL_PARTS)


def compose_reply(
    kind: ReplyKind,
    outcome: RequestOutcome,
    *,
    sender: str,
    to: str,
    in_reply_to: str | None,
) -> EmailMessage:
    """The reply of `kind` about `outcome`, threaded under the customer's message.

    The subject is ours, never the sender's: nothing a stranger wrote is sent on by Offstreet.
    """
    return compose_message(
        sender=sender,
        to=to,
        subject=f"Re: your HotSpot SpotID request #{outcome.request_id}",
        body=BODIES[kind](outcome),
        in_reply_to=in_reply_to,
    )


def compose_message(
    *, sender: str, to: str, subject: str, body: str, in_reply_to: str | None = None
) -> EmailMessage:
    """An automatic message of ours (our subject, marked auto-replied, threaded if asked)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    # RFC 3834: an automatic reply says so, and asks other robots not to answer it.
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    return message


def token_link_body(
    *, company: str, spots: list[tuple[str, str]], url: str, expires: datetime, reminder: bool
) -> str:
    """The email asking the requester for the company's HotSpot token, through a link only.

    Never "reply with your token": a token in an email would sit in mailboxes for good.
    """
    lines = "\n".join(f"  - {location}: SpotID {spot_id}" for location, spot_id in spots)
    opening = (
        "A reminder: we still need your company's HotSpot token to finish your integration."
        if reminder
        else "Your HotSpot integration is almost done. HotSpot shows Offstreet permits at these "
        f"locations only with {company}'s HotSpot company token:"
    )
    return (
        "Hello,\n\n"
        f"{opening}\n\n{lines}\n\n"
        "Please enter the token on this secure page (it opens once, for you):\n\n"
        f"  {url}\n\n"
        f"The link works until {expires:%Y-%m-%d %H:%M} UTC. Please do not send the token by "
        "email. As soon as it is entered we check it with HotSpot and finish the setup; we "
        "will write again when the integration is live.\n\n"
        "— Offstreet integrations\n"
    )


def token_renewal_body(
    *, company: str, spots: list[tuple[str, str]], url: str, expires: datetime
) -> str:
    """The short email telling a live company's contact that HotSpot refuses its token now."""
    lines = "\n".join(f"  - {location}: SpotID {spot_id}" for location, spot_id in spots)
    return (
        "Hello,\n\n"
        f"HotSpot no longer accepts {company}'s HotSpot company token, so Offstreet permits at "
        f"these locations may not show to enforcement:\n\n{lines}\n\n"
        "Please enter the renewed token on this secure page (it opens once, for you):\n\n"
        f"  {url}\n\n"
        f"The link works until {expires:%Y-%m-%d %H:%M} UTC. Please do not send the token by "
        "email.\n\n"
        "— Offstreet integrations\n"
    )


def _spot_lines(outcome: RequestOutcome, *, with_reasons: bool = False) -> str:
    lines = []
    for spot in outcome.spots:
        reason = f" — {spot.customer_reason}" if with_reasons and spot.customer_reason else ""
        lines.append(f"  - {spot.location}: SpotID {spot.spot_id}{reason}")
    return "\n".join(lines)


def _acknowledgement(outcome: RequestOutcome) -> str:
    return (
        "Hello,\n\n"
        "Thank you: we received your HotSpot SpotID request and understood it as:\n\n"
        f"{_spot_lines(outcome)}\n\n"
        "We are now testing each SpotID with HotSpot (a test permit for plate TEST123) and "
        "will write again when the integration is live. If anything above is wrong, reply to "
        "this message with the correction.\n\n"
        "— Offstreet integrations\n"
    )


def _refusal(outcome: RequestOutcome) -> str:
    # Every line that stopped the request, each with its reason in the customer's words.
    refused = [s for s in outcome.spots if s.customer_reason]
    return (
        "Hello,\n\n"
        "We could not set up your HotSpot SpotIDs as sent; nothing has been changed yet. "
        "The problems:\n\n"
        f"{_spot_lines(outcome.model_copy(update={'spots': refused}), with_reasons=True)}\n\n"
        "Please reply with the corrected SpotIDs (one per location, as shown in HotSpot) and "
        "we will go ahead.\n\n"
        "— Offstreet integrations\n"
    )


def _live(outcome: RequestOutcome) -> str:
    return (
        "Hello,\n\n"
        "Your HotSpot integration is live. Offstreet permits at these locations now show in "
        "HotSpot's enforcement lookup:\n\n"
        f"{_spot_lines(outcome)}\n\n"
        "— Offstreet integrations\n"
    )


BODIES = {
    ReplyKind.acknowledgement: _acknowledgement,
    ReplyKind.refusal: _refusal,
    ReplyKind.live: _live,
}


_STANDING = {
    "en": {
        "live": "live: Offstreet permits show in HotSpot",
        "testing": "being tested with HotSpot (a TEST123 permit); live within minutes",
        "waiting_on_you": "waiting on you: HotSpot needs your company's HotSpot token",
        "waiting_on_offstreet": "waiting on Offstreet: a person is checking it",
        "not_requested": "not connected to HotSpot (no SpotID received)",
    },
    "fr": {
        "live": "en service : les permis Offstreet paraissent dans HotSpot",
        "testing": "en test chez HotSpot (un permis TEST123) ; en service d'ici quelques minutes",
        "waiting_on_you": "en attente de votre part : HotSpot demande le jeton HotSpot de "
        "votre entreprise",
        "waiting_on_offstreet": "en attente d'Offstreet : une personne le vérifie",
        "not_requested": "non relié à HotSpot (aucun SpotID reçu)",
    },
}


def status_answer_body(standing: CompanyStanding, *, language: str = "en") -> str:
    """The automatic answer to a status question: each location, its SpotID, where it
    stands and who it waits on, then what happens next (English or French)."""
    fr = language == "fr"
    words = _STANDING["fr" if fr else "en"]
    lines = []
    for place in standing.locations:
        spot = (
            f"SpotID {place.spot_id}" if place.spot_id else ("aucun SpotID" if fr else "no SpotID")
        )
        lines.append(
            f"  - {place.location} ({spot}) : {words[place.standing]}"
            if fr
            else f"  - {place.location} ({spot}): {words[place.standing]}"
        )
    found = {place.standing for place in standing.locations}
    if standing.integration is None and found <= {"not_requested"}:
        summary = (
            f"{standing.company} n'a pas encore d'intégration HotSpot chez Offstreet."
            if fr
            else f"{standing.company} has no HotSpot integration with Offstreet yet."
        )
    elif standing.integration == "live":
        summary = (
            f"L'intégration HotSpot de {standing.company} est en service."
            if fr
            else f"{standing.company}'s HotSpot integration is live."
        )
    else:
        summary = (
            f"L'intégration HotSpot de {standing.company} est en cours de mise en place."
            if fr
            else f"{standing.company}'s HotSpot integration is being set up."
        )
    steps = _next_steps(found, token_link_open=standing.token_link_open, fr=fr)
    if fr:
        return (
            f"Bonjour,\n\n{summary} Voici où en est chaque emplacement :\n\n"
            + "\n".join(lines)
            + f"\n\nLa suite :\n\n{steps}\n\n— L'équipe intégrations d'Offstreet\n"
        )
    return (
        f"Hello,\n\n{summary} Where each location stands:\n\n"
        + "\n".join(lines)
        + f"\n\nWhat happens next:\n\n{steps}\n\n— Offstreet integrations\n"
    )


def _next_steps(found: set[str], *, token_link_open: bool, fr: bool) -> str:
    steps = []
    if "waiting_on_you" in found:
        steps.append(
            (
                "Entrez le jeton HotSpot de votre entreprise sur la page sécurisée dont nous "
                "vous avons envoyé le lien (ne l'envoyez pas par courriel)."
                if token_link_open
                else "Nous vous demanderons le jeton HotSpot de votre entreprise par un lien "
                "sécurisé ; ne l'envoyez pas par courriel."
            )
            if fr
            else (
                "Enter your company's HotSpot token on the secure page we sent you a link to "
                "(please do not send it by email)."
                if token_link_open
                else "We will ask for your company's HotSpot token through a secure link; "
                "please do not send it by email."
            )
        )
    if "testing" in found:
        steps.append(
            "Nous vous écrirons dès que les emplacements en test seront en service."
            if fr
            else "We will write to you as soon as the locations being tested are live."
        )
    if "waiting_on_offstreet" in found:
        steps.append(
            "Offstreet vérifie ce qui reste et reviendra vers vous."
            if fr
            else "Offstreet is checking what remains and will be in touch."
        )
    if "not_requested" in found:
        steps.append(
            "Pour relier un autre emplacement, répondez avec son SpotID HotSpot (« Lot A : "
            "14283 »)."
            if fr
            else 'To connect another location, reply with its HotSpot SpotID ("Lot A: 14283").'
        )
    if not steps:
        steps.append("Rien à faire de votre côté." if fr else "Nothing is needed from you.")
    return "\n".join(f"  - {step}" for step in steps)


def proposals_body(
    *, company: str, lines: list[tuple[str, str, str]], url: str, expires: datetime
) -> str:
    """The email listing the SpotIDs Offstreet found in HotSpot for each location, with the
    single-use link to confirm them."""
    found = [f"  - {loc}: SpotID {spot} ({how})" for loc, spot, how in lines if spot]
    missing = [f"  - {loc}: {how}" for loc, spot, how in lines if not spot]
    parts = [
        f"Hello,\n\nThese are the SpotIDs we have for {company}'s locations, and where each "
        "comes from:\n",
        "\n".join(found) or "  (none)",
    ]
    if missing:
        parts += [
            "\nFor these we made no guess; reply with their SpotIDs, or loop in your HotSpot "
            "contact:\n",
            "\n".join(missing),
        ]
    parts.append(
        "\nPlease check them and confirm on this page (it opens once, for you):\n\n"
        f"  {url}\n\nThe link works until {expires:%Y-%m-%d %H:%M} UTC. Nothing is set up "
        "until you confirm; then we test each SpotID with HotSpot and write when it is live.\n\n"
        "— Offstreet integrations\n"
    )
    return "\n".join(parts)
