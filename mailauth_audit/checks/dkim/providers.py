"""The big hosted mail providers' DKIM selector conventions, and how to tell which one a
domain uses from its MX hosts and its SPF includes. Pure data and pure matching, no I/O.

DKIM keys cannot be listed, only guessed (RFC 6376 §3.6.2.1); a provider that publishes the
selector names it signs with turns a guess into a near-certainty, so these are probed first
when the provider is detected. A provider whose selectors are random tokens is listed too,
with no selectors: the report can then say why nothing could be probed by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MailProvider:
    """One provider's published conventions (see `note` for the source)."""

    name: str  # stable identifier used in results: "fastmail"
    title: str  # for people: "Fastmail"
    mx_suffixes: tuple[str, ...]  # an MX host equal to or under one of these
    spf_includes: tuple[str, ...]  # an SPF include:/redirect= equal to or under one of these
    selectors: tuple[str, ...]  # () when the provider's selectors cannot be guessed
    note: str  # where the names come from, or why there are none to probe


PROVIDERS: tuple[MailProvider, ...] = (
    MailProvider(
        name="google",
        title="Google Workspace",
        mx_suffixes=("google.com", "googlemail.com"),
        spf_includes=("_spf.google.com",),
        selectors=("google",),
        note="Google Admin console > Authenticate email: default prefix `google`.",
    ),
    MailProvider(
        name="microsoft365",
        title="Microsoft 365",
        mx_suffixes=("mail.protection.outlook.com", "mx.microsoft"),
        spf_includes=("spf.protection.outlook.com",),
        selectors=("selector1", "selector2"),
        note="Microsoft Defender DKIM setup: CNAMEs selector1 and selector2 to the tenant.",
    ),
    MailProvider(
        name="amazonses",
        title="Amazon SES",
        mx_suffixes=("amazonses.com",),  # inbound-smtp.<region>.amazonaws.com: too broad
        spf_includes=("amazonses.com",),
        selectors=(),
        note="Easy DKIM publishes three CNAMEs named by random tokens "
        "(<token>._domainkey -> <token>.dkim.amazonses.com): nothing to probe by name; "
        "give the tokens from the SES console with --selector.",
    ),
    MailProvider(
        name="mailchimp",
        title="Mailchimp / Mandrill",
        mx_suffixes=("mandrillapp.com",),
        spf_includes=("servers.mcsv.net", "spf.mandrillapp.com", "mandrillapp.com"),
        selectors=("k1", "k2", "k3"),
        note="Mailchimp and Mandrill domain authentication: CNAMEs k1, k2 and k3.",
    ),
    MailProvider(
        name="sendgrid",
        title="SendGrid",
        mx_suffixes=("sendgrid.net",),
        spf_includes=("sendgrid.net",),
        selectors=("s1", "s2"),
        note="SendGrid domain authentication: CNAMEs s1 and s2 (custom names possible).",
    ),
    MailProvider(
        name="zoho",
        title="Zoho Mail",
        mx_suffixes=(
            "zoho.com",
            "zoho.eu",
            "zoho.in",
            "zoho.com.au",
            "zoho.jp",
            "zohocloud.ca",
            "zoho.sa",
            "zohomail.com",
        ),
        spf_includes=(
            "zoho.com",
            "zoho.eu",
            "zoho.in",
            "zoho.com.au",
            "zoho.jp",
            "zohocloud.ca",
            "zoho.sa",
            "zohomail.com",
        ),
        selectors=("zoho", "zmail"),
        note="Zoho Mail admin console: selector named by the admin, `zoho` or `zmail` "
        "in Zoho's own examples.",
    ),
    MailProvider(
        name="fastmail",
        title="Fastmail",
        mx_suffixes=("messagingengine.com",),
        spf_includes=("spf.messagingengine.com",),
        selectors=("fm1", "fm2", "fm3"),
        note="Fastmail custom domains: CNAMEs fm1, fm2 and fm3 to dkim.fmhosted.com.",
    ),
    MailProvider(
        name="proton",
        title="Proton Mail",
        mx_suffixes=("protonmail.ch", "proton.ch"),
        spf_includes=("_spf.protonmail.ch", "protonmail.ch"),
        selectors=("protonmail", "protonmail2", "protonmail3"),
        note="Proton Mail custom domains: CNAMEs protonmail, protonmail2 and protonmail3.",
    ),
    MailProvider(
        name="icloud",
        title="iCloud Mail",
        mx_suffixes=("mail.icloud.com",),
        spf_includes=("icloud.com",),
        selectors=("sig1",),
        note="iCloud+ custom email domains: CNAME sig1 to icloudmailadmin.com.",
    ),
    MailProvider(
        name="yandex",
        title="Yandex 360",
        mx_suffixes=("mx.yandex.net", "mx.yandex.ru"),
        spf_includes=("_spf.yandex.net",),
        selectors=("mail",),
        note="Yandex 360 for business: TXT record at mail._domainkey.",
    ),
    MailProvider(
        name="brevo",
        title="Brevo (Sendinblue)",
        mx_suffixes=(),
        spf_includes=("spf.brevo.com", "spf.sendinblue.com", "sendinblue.com"),
        selectors=("brevo1", "brevo2", "mail"),
        note="Brevo domain authentication: CNAMEs brevo1 and brevo2; older accounts `mail`.",
    ),
    MailProvider(
        name="mailgun",
        title="Mailgun",
        mx_suffixes=("mailgun.org",),
        spf_includes=("mailgun.org",),
        selectors=("mx", "smtp", "krs", "pic"),
        note="Mailgun generates the selector per domain; these are the names it has used.",
    ),
)


@dataclass(frozen=True)
class DetectedProvider:
    """A provider recognised for this domain, and what gave it away."""

    name: str  # MailProvider.name
    title: str
    matched: str  # "MX in1-smtp.messagingengine.com" or "SPF include:_spf.google.com"
    selectors: tuple[str, ...]  # the provider's selectors (() when they cannot be guessed)
    note: str


def _under(host: str, suffixes: tuple[str, ...]) -> bool:
    return any(host == s or host.endswith("." + s) for s in suffixes)


# a hostile record can hold thousands of terms; a provider is named in the first few
_MAX_TERMS = 200
_MAX_HOSTS = 100


def spf_targets(texts: Iterable[str]) -> list[str]:
    """The include: and redirect= domains of the SPF record(s) among `texts`, lowercased,
    in order (at most the first 200 terms of each record are read)."""
    out: list[str] = []
    for text in texts:
        terms = text.split()
        if not terms or terms[0].lower() != "v=spf1":
            continue
        for term in terms[1:_MAX_TERMS]:
            low = term.lower().lstrip("+-~?")
            for prefix in ("include:", "redirect="):
                if low.startswith(prefix):
                    out.append(low[len(prefix) :].rstrip("."))
    return out


def detect_providers(
    mx_hosts: Iterable[str], spf_texts: Iterable[str]
) -> tuple[DetectedProvider, ...]:
    """Providers named by the MX hosts or the SPF record, MX matches first, each once."""
    found: dict[str, DetectedProvider] = {}
    hosts = [h.lower().rstrip(".") for h in list(mx_hosts)[:_MAX_HOSTS]]
    candidates = [("MX", h, "mx") for h in hosts]
    candidates += [("SPF include:", t, "spf") for t in spf_targets(spf_texts)]
    for label, value, kind in candidates:
        for p in PROVIDERS:
            if p.name in found:
                continue
            suffixes = p.mx_suffixes if kind == "mx" else p.spf_includes
            if _under(value, suffixes):
                sep = " " if kind == "mx" else ""
                found[p.name] = DetectedProvider(
                    name=p.name,
                    title=p.title,
                    matched=f"{label}{sep}{value}",
                    selectors=p.selectors,
                    note=p.note,
                )
    return tuple(found.values())
