"""Inbound emails (by UIDVALIDITY/UID) and the replies claimed before they are sent."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, select

from store.models import (
    InboundMessage,
    Reply,
    utcnow,
)


def get_inbound(
    session: Session, *, mailbox: str, uidvalidity: int, uid: int
) -> InboundMessage | None:
    return session.exec(
        select(InboundMessage).where(
            InboundMessage.mailbox == mailbox,
            InboundMessage.uidvalidity == uidvalidity,
            InboundMessage.uid == uid,
        )
    ).first()


def record_inbound(session: Session, *, message: InboundMessage) -> InboundMessage:
    session.add(message)
    session.flush()
    return message


def mark_filed(session: Session, *, inbound_id: int, folder: str) -> None:
    message = session.get(InboundMessage, inbound_id)
    if message is not None:
        message.filed_to = folder
        message.filed_at = utcnow()
        session.add(message)


def claim_reply(session: Session, *, request_id: int, kind: str, recipient: str) -> Reply | None:
    """Claim the one reply of this kind for the request; None if it was already sent."""
    reply = session.exec(
        select(Reply).where(Reply.request_id == request_id, Reply.kind == kind)
    ).first()
    if reply is not None:
        return None if reply.sent_at is not None else reply
    reply = Reply(request_id=request_id, kind=kind, recipient=recipient)
    session.add(reply)
    session.flush()
    return reply


def mark_reply_sent(session: Session, *, reply_id: int) -> None:
    reply = session.get(Reply, reply_id)
    if reply is not None:
        reply.sent_at = utcnow()
        session.add(reply)


def replies_for(session: Session, *, request_id: int) -> Sequence[Reply]:
    return session.exec(select(Reply).where(Reply.request_id == request_id)).all()
