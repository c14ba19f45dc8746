"""A real SMTP server for the mail tests (aiosmtpd), writing every message it accepts into a
Maildir. With --cert/--key it offers STARTTLS and requires it, and with --user/--password it
requires AUTH (after STARTTLS). With --refuse CODE it answers every RCPT with that code.
Prints "ready" once it listens; runs until killed."""
import argparse, mailbox, os, ssl, sys, time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--maildir", required=True)
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--user")
ap.add_argument("--password")
ap.add_argument("--refuse", type=int)
a = ap.parse_args()

box = mailbox.Maildir(a.maildir, create=True)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if a.refuse:
            return f"{a.refuse} refused for the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        box.add(envelope.original_content)
        return "250 Message accepted for delivery"


def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login.decode() == a.user and data.password.decode() == a.password
    # handled=False: aiosmtpd answers a refusal with 535 (handled=True would leave it to us)
    return AuthResult(success=ok, handled=False)


kw = {}
if a.cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    kw.update(tls_context=ctx, require_starttls=True)
if a.user:
    kw.update(authenticator=auth, auth_required=True, auth_require_tls=bool(a.cert))
c = Controller(Handler(), hostname="127.0.0.1", port=a.port, server_hostname="localhost", **kw)
c.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    c.stop()
