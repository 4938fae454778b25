"""Demo data: the partners of a real cooperation table, a user of every role,
and whatever sample data each package contributes. Idempotent."""
from __future__ import annotations

from agreements import partners as partner_service
from ill import accounts

# The network of UIN Sumatera Utara's library and its partners (public facts
# from its cooperation table; codes are ours).
PARTNERS = [
    ("UINSU", "Perpustakaan UIN Sumatera Utara", "Sumatera Utara", "slims"),
    ("PNRI", "Perpustakaan Nasional RI", "DKI Jakarta", "inlislite"),
    ("UGM", "Universitas Gadjah Mada", "DI Yogyakarta", "koha"),
    ("KEMENAG", "Perpustakaan Balitbang dan Diklat Kemenag", "DKI Jakarta", "inlislite"),
    ("UINSUKA", "UIN Sunan Kalijaga", "DI Yogyakarta", "koha"),
    ("UINSGD", "UIN Sunan Gunung Djati Bandung", "Jawa Barat", "slims"),
    ("UINRF", "UIN Raden Fatah Palembang", "Sumatera Selatan", "slims"),
    ("IAINBKT", "IAIN Bukittinggi", "Sumatera Barat", "slims"),
    ("IAINBSK", "IAIN Batusangkar", "Sumatera Barat", "slims"),
    ("IAINMAL", "IAIN Malikussaleh", "Aceh", "slims"),
    ("UNIMAL", "Universitas Malikussaleh", "Aceh", "koha"),
    ("POLMED", "Politeknik Negeri Medan", "Sumatera Utara", "slims"),
    ("UMSU", "Universitas Muhammadiyah Sumatera Utara", "Sumatera Utara", "koha"),
    ("PWBI", "Politeknik Wilmar Bisnis Indonesia", "Sumatera Utara", "other"),
    ("UQ", "Universitas Quality", "Sumatera Utara", "slims"),
    ("STIPAP", "STIPAP", "Sumatera Utara", "other"),
    ("UDA", "Universitas Darma Agung", "Sumatera Utara", "slims"),
]

PASSWORD = "demo-password"
USERS = [
    ("admin@demo.ill", "admin", None, "Admin Jaringan"),
    ("koordinator@demo.ill", "coordinator", None, "Koordinator Kerja Sama"),
    ("pustakawan@uinsu.demo.ill", "librarian", "UINSU", "Pustakawan UINSU"),
    ("pustakawan@ugm.demo.ill", "librarian", "UGM", "Pustakawan UGM"),
    ("pustakawan@uinsuka.demo.ill", "librarian", "UINSUKA", "Pustakawan UIN Sunan Kalijaga"),
    ("mahasiswa@uinsu.demo.ill", "patron", "UINSU", "Siti Mahasiswa"),
    ("dosen@uinsu.demo.ill", "patron", "UINSU", "Ahmad Dosen"),
]
# Their library cards, to scan at the desk (a student's NIM, a lecturer's NIP).
CARDS = {"mahasiswa@uinsu.demo.ill": "0401202001", "dosen@uinsu.demo.ill": "198001012005011001"}


def load(session) -> list[str]:
    lines = []
    for code, name, region, system in PARTNERS:
        partner_service.upsert(session, code, name, region=region, system=system)
    session.flush()
    lines.append(f"{len(PARTNERS)} partner libraries")
    for email, role, code, name in USERS:
        if accounts.find_user(session, email):
            continue
        library = partner_service.by_code(session, code) if code else None
        user = accounts.create_user(session, email, PASSWORD, role, library, name=name)
        user.card_number = CARDS.get(email, "")
    session.flush()
    for contribute in _package_demos():
        lines.extend(contribute(session))
    lines.append("")
    lines.append(f"Demo sign-ins (password for all: {PASSWORD}):")
    for email, role, code, _name in USERS:
        lines.append(f"  {role:<12} {email}" + (f"  ({code})" if code else "")
                     + (f"  card {CARDS[email]}" if email in CARDS else ""))
    return lines


def _package_demos():
    """Each package's demo contribution, in dependency order."""
    from agreements import demo as agreements_demo
    from union_catalog import demo as catalog_demo

    from . import loan_demo

    return [agreements_demo.load, catalog_demo.load, loan_demo.load]
