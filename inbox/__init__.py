"""The mailbox side of intake: IMAP for requests coming in, SMTP for replies going out."""
