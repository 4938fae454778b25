"""Figures for notices and document delivery; prints, asserts nothing.

    python bench/delivery_bench.py [--mails 500] [--pages 300]

- queueing N notices (render in the user's language + outbox row) and
  flushing them through a real SMTP server (aiosmtpd on 127.0.0.1);
- checking and counting the pages of a PDF of P pages.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=500)
    ap.add_argument("--pages", type=int, default=300)
    args = ap.parse_args()

    from aiosmtpd.controller import Controller
    from pypdf import PdfWriter

    from ill import create_app, delivery, notify
    from ill.accounts import create_user
    from ill.extensions import db

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            return "250 OK"

    tmp = Path(tempfile.mkdtemp(prefix="ill-bench-"))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Sink(), hostname="127.0.0.1", port=port)
    smtp.start()
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp}/b.db",
                      "DATA_DIR": str(tmp), "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": port, "MAIL_SEND_ON_COMMIT": False})
    try:
        with app.app_context():
            db.create_all()
            users = [create_user(db.session, f"u{i}@example.org", "password1", "coordinator",
                                 locale=("id", "en")[i % 2]) for i in range(50)]
            db.session.commit()
            t0 = time.perf_counter()
            for i in range(args.mails):
                notify.notify(db.session, users[i % 50], "agreement_expiring", title=f"MoU {i}",
                              end=date(2026, 12, 1), parties="A, B")
            db.session.commit()
            t1 = time.perf_counter()
            result = notify.flush_outbox()
            t2 = time.perf_counter()
            print(f"queue {args.mails} notices: {t1 - t0:.2f} s "
                  f"({args.mails / (t1 - t0):.0f}/s, rendered in id and en)")
            print(f"flush through SMTP: {result.sent} sent in {t2 - t1:.2f} s "
                  f"({result.sent / (t2 - t1):.0f}/s); server got {Sink.count}")
            writer = PdfWriter()
            for _ in range(args.pages):
                writer.add_blank_page(width=595, height=842)
            buf = io.BytesIO()
            writer.write(buf)
            data = buf.getvalue()
            t0 = time.perf_counter()
            pages = delivery.count_pdf_pages(data)
            t1 = time.perf_counter()
            print(f"check + count a {len(data) / 1024:.0f} KiB PDF of {pages} pages: "
                  f"{(t1 - t0) * 1000:.1f} ms")
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
