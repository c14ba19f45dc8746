"""Reads a Maildir with Python's email package (a real MIME parser) and the xlsx attachments
with openpyxl; prints one JSON object per message: headers, bodies, attachments and, for each
workbook, its sheets' rows."""
import email, email.policy, io, json, mailbox, sys

import openpyxl

out = []
for key, msg in mailbox.Maildir(sys.argv[1], factory=None, create=False).items():
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    item = {
        "to": str(m["To"]),
        "from": str(m["From"]),
        "subject": str(m["Subject"]),
        "message_id": str(m["Message-ID"]),
        "text": "",
        "html": "",
        "attachments": [],
        "sheets": {},
    }
    for part in m.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name:
            data = part.get_payload(decode=True)
            item["attachments"].append(name)
            if name.endswith(".xlsx"):
                wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
                for ws in wb.worksheets:
                    item["sheets"][ws.title] = [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(values_only=True)]
        elif part.get_content_type() == "text/plain":
            item["text"] += part.get_content()
        elif part.get_content_type() == "text/html":
            item["html"] += part.get_content()
    out.append(item)
print(json.dumps(out, ensure_ascii=False))
