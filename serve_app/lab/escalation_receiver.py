"""A human queue's front door for trying escalation: a real HTTP receiver
of Triage's escalation webhook.

`triage escalation receive --port 8900 [--secret-env TRIAGE_ESCALATION_SECRET]
[--out tickets.jsonl]` checks each delivery's signature (when a secret is
given: a bad or stale one gets 401), prints one line per ticket and appends
the delivery to --out. The tests run the same `Receiver` in a thread, telling
it which statuses to answer with (then 200), to drive the router's retries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from serve_app.escalation.webhook import verify


class Receiver:
    def __init__(self, statuses: list[int] | None = None, port: int = 0, secret: str | None = None,
                 out: Path | None = None, echo: bool = False):
        self.statuses = list(statuses or [])
        self.deliveries: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    delivery = {"headers": headers, "raw": raw, "body": json.loads(raw or b"null")}
                    receiver.deliveries.append(delivery)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if secret and not verify(secret, headers.get("x-triage-timestamp", "0"), raw,
                                             headers.get("x-triage-signature", "")):
                        status = 401
                    if status == 200:
                        receiver.accepted(delivery)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.out = out
        self.echo = echo
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/escalations"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accepted(self, delivery: dict) -> None:
        body = delivery["body"]
        if self.echo:
            print(f"ticket {body.get('ticket')} tenant={body.get('tenant')} trigger={body.get('trigger')} "
                  f"text_withheld={body.get('text_withheld')}: {body.get('reason')}", flush=True)
        if self.out is not None:
            with self.out.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"headers": delivery["headers"], "body": body}) + "\n")

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.statuses.extend(statuses)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Receive Triage escalation webhooks (check, print, store).")
    p.add_argument("--port", type=int, default=8900)
    p.add_argument("--secret-env", default=None, help="env var with the shared secret; deliveries must be signed")
    p.add_argument("--out", type=Path, default=None, help="append each accepted delivery to this JSONL file")
    args = p.parse_args(argv)
    secret = os.environ.get(args.secret_env) if args.secret_env else None
    if args.secret_env and not secret:
        print(f"${args.secret_env} is not set", file=sys.stderr)
        return 2
    rx = Receiver(port=args.port, secret=secret, out=args.out, echo=True)
    print(f"listening on {rx.url}" + (" (signatures checked)" if secret else ""), flush=True)
    try:
        rx.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        rx.server.server_close()
    return 0
