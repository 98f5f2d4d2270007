"""The shared fixture zone (tests/zones/example.zone) and the domains it defines."""

from pathlib import Path

ZONE_FILE = Path(__file__).parent / "zones" / "example.zone"
ZONE = ZONE_FILE.read_text()

# every audited domain in the zone, from well configured to hostile; missing.example does not exist
FIXTURE_DOMAINS = [
    "good.example",
    "nomail.example",
    "weak.example",
    "broken.example",
    "toomany.example",
    "sub.org.example",
    "hostile.example",
    "bigtxt.example",
    "implicit.example",
    "loopy.example",
    "missing.example",
]
