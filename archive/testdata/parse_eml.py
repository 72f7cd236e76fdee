"""Parses each EML file named on the command line with Python's email package
(policy.default, an implementation independent of ours) and prints what it found
as JSON, for archive's Go tests to compare. Usage: python3 parse_eml.py FILE..."""
import email
import hashlib
import json
import sys
from email import policy


def addresses(header):
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]


def parse(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    defects = [repr(d) for d in msg.defects]
    for part in msg.walk():
        defects += [repr(d) for d in part.defects]
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return {
        "subject": str(msg["Subject"]),
        "from": addresses(msg["From"]),
        "to": addresses(msg["To"]),
        "date": msg["Date"].datetime.isoformat() if msg["Date"] else "",
        "messageId": str(msg["Message-ID"]),
        "headers": {k.lower(): str(v) for k, v in msg.items() if k.lower().startswith("x-multiline-")},
        "text": plain.get_content() if plain else "",
        "html": html.get_content() if html else "",
        "attachments": [
            {
                "filename": a.get_filename(),
                "contentType": a.get_content_type(),
                "size": len(a.get_content()),
                "sha256": hashlib.sha256(a.get_content()).hexdigest(),
            }
            for a in msg.iter_attachments()
        ],
        "defects": defects,
    }


print(json.dumps([parse(p) for p in sys.argv[1:]], ensure_ascii=False))
