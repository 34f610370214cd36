"""Settings, read from LEADTHE_* environment variables (see ../shared/CONTRACT.md)."""
from __future__ import annotations

import os
import shutil
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet


class ConfigError(RuntimeError):
    """The environment does not allow the app to start safely."""


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path, filename: str, make) -> str:
    """A development secret generated once and kept under instance/ (never in the repo)."""
    path = instance_path / filename
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)  # it also holds the development database
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _new_data_key() -> str:
    return Fernet.generate_key().decode()


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def trusted_hosts(base_url: str) -> list[str]:
    """Flask's TRUSTED_HOSTS from LEADTHE_BASE_URL: a request for any other Host is a 400, so no page or
    link can be built for a host an attacker chose. A loopback base URL (development, tests) accepts both
    loopback names, as people type either."""
    host = urlsplit(base_url).hostname or ""
    return list(LOOPBACK_HOSTS) if host in LOOPBACK_HOSTS else [host]


def _check_production_rate_limits() -> None:
    """In-memory rate limits count per process: with several gunicorn workers or machines every limit
    (the log-in lock-out among them) is multiplied by their number, and a restart forgets it. Production
    therefore needs shared storage, unless the operator states that only one process serves."""
    storage = os.environ.get("LEADTHE_RATELIMIT_STORAGE_URL", "memory://").strip() or "memory://"
    if storage.startswith("memory://") and not _flag("LEADTHE_SINGLE_PROCESS", "0"):
        raise ConfigError("LEADTHE_ENV=production needs LEADTHE_RATELIMIT_STORAGE_URL=redis://… (memory:// counts per "
                          "process); set LEADTHE_SINGLE_PROCESS=1 if only one process serves")


def _keys(inst: Path, production: bool, base_url: str) -> tuple[str, str]:
    """The secret key and the data key(s): from the environment, which production must set (with the
    rest it cannot start without); in development and tests generated once under instance/."""
    secret_key = os.environ.get("LEADTHE_SECRET_KEY", "").strip()
    data_key = os.environ.get("LEADTHE_DATA_KEY", "").strip()
    if production:
        missing = [n for n, v in (("LEADTHE_SECRET_KEY", secret_key), ("LEADTHE_DATA_KEY", data_key)) if not v]
        if missing:
            raise ConfigError(f"LEADTHE_ENV=production needs {', '.join(missing)} to be set")
        if len(secret_key) < 32:
            raise ConfigError("LEADTHE_SECRET_KEY must be at least 32 characters in production")
        if not base_url:
            raise ConfigError("LEADTHE_ENV=production needs LEADTHE_BASE_URL (the site's address, e.g. https://leadthe.example.com)")
        _check_production_rate_limits()
        return secret_key, data_key
    secret_key = secret_key or _instance_secret(inst, "secret_key", lambda: secrets.token_urlsafe(48))
    data_key = data_key or _instance_secret(inst, "data_key", _new_data_key)
    return secret_key, data_key


def _billing() -> dict:
    """Billing (leadthe.billing): Stripe when a secret key is set, otherwise manual invoicing (bank transfer);
    the API base points tests at a local Stripe-compatible server (localstripe); calls to the processor time
    out after BILLING_HTTP_TIMEOUT seconds; a past-due company becomes read-only for admins' changes after
    BILLING_GRACE_DAYS; the trial's length and size; the seller printed on invoices."""
    return {
        "STRIPE_SECRET_KEY": os.environ.get("LEADTHE_STRIPE_SECRET_KEY", "").strip(),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("LEADTHE_STRIPE_WEBHOOK_SECRET", "").strip(),
        "STRIPE_API_BASE": os.environ.get("LEADTHE_STRIPE_API_BASE", "").strip().rstrip("/"),
        "BILLING_HTTP_TIMEOUT": float(os.environ.get("LEADTHE_BILLING_HTTP_TIMEOUT", "10")),
        "BILLING_GRACE_DAYS": int(os.environ.get("LEADTHE_BILLING_GRACE_DAYS", "14")),
        "BILLING_TRIAL_DAYS": int(os.environ.get("LEADTHE_BILLING_TRIAL_DAYS", "30")),
        "BILLING_TRIAL_SEATS": int(os.environ.get("LEADTHE_BILLING_TRIAL_SEATS", "25")),
        "BILLING_PAYMENT_DAYS": int(os.environ.get("LEADTHE_BILLING_PAYMENT_DAYS", "14")),  # manual invoices: due after
        "BILLING_SELLER": {
            "name": os.environ.get("LEADTHE_SELLER_NAME", "LeadThe.AI GmbH"),
            "address": [line.strip() for line in os.environ.get(
                "LEADTHE_SELLER_ADDRESS", "Torstraße 1|10119 Berlin|Germany").split("|") if line.strip()],
            "country": os.environ.get("LEADTHE_SELLER_COUNTRY", "DE"),
            "vat_id": os.environ.get("LEADTHE_SELLER_VAT_ID", "DE000000000"),
            "email": os.environ.get("LEADTHE_BILLING_EMAIL", "billing@leadthe.ai"),
            "iban": os.environ.get("LEADTHE_SELLER_IBAN", "DE00 0000 0000 0000 0000 00"),
            "bic": os.environ.get("LEADTHE_SELLER_BIC", "XXXXDEXXXXX"),
            "vat_rate_bp": int(os.environ.get("LEADTHE_SELLER_VAT_RATE_BP", "1900")),
        },
    }


def _storage() -> dict:
    """Generated files (leadthe.storage): unset = the local folders under instance/; s3://bucket/prefix = object
    storage through boto3 (an endpoint for MinIO/Ceph/R2; credentials and region from boto3's AWS_* variables);
    server-side encryption asked for on every object ("" turns it off for stores that refuse it); the part size of
    multipart uploads (S3's minimum 5 MiB); downloads as presigned URLs (0: streamed by the app)."""
    return {
        "STORAGE_URL": os.environ.get("LEADTHE_STORAGE_URL", "").strip(),
        "S3_ENDPOINT_URL": os.environ.get("LEADTHE_S3_ENDPOINT_URL", "").strip() or None,
        "S3_SSE": os.environ.get("LEADTHE_S3_SSE", "AES256").strip(),
        "S3_PART_SIZE": max(5 * 1024 * 1024, int(os.environ.get("LEADTHE_S3_PART_SIZE", str(8 * 1024 * 1024)))),
        "S3_CONNECT_TIMEOUT": float(os.environ.get("LEADTHE_S3_CONNECT_TIMEOUT", "5")),
        "S3_READ_TIMEOUT": float(os.environ.get("LEADTHE_S3_READ_TIMEOUT", "60")),
        "S3_PRESIGNED": _flag("LEADTHE_S3_PRESIGNED", "1"),
    }


def _security_alerts() -> dict:
    """Signs of attack (leadthe/alerts, issue 23): the staff mailbox each new security alert is mailed to (default: the
    support address), and the detectors' thresholds: distinct accounts failing to log in from one network, 404s on
    other companies' ids from one account, both within the window (minutes)."""
    return {
        "SECURITY_ALERT_EMAIL": os.environ.get("LEADTHE_SECURITY_ALERT_EMAIL", "").strip()
        or os.environ.get("LEADTHE_SUPPORT_EMAIL", "support@leadthe.ai"),
        "SECURITY_LOGIN_BURST_ACCOUNTS": int(os.environ.get("LEADTHE_SECURITY_LOGIN_BURST_ACCOUNTS", "20")),
        "SECURITY_MISS_BURST": int(os.environ.get("LEADTHE_SECURITY_MISS_BURST", "10")),
        "SECURITY_ALERT_WINDOW_MINUTES": int(os.environ.get("LEADTHE_SECURITY_ALERT_WINDOW_MINUTES", "10")),
    }


def load_config(instance_path: str) -> dict:
    """Build the Flask config dict from the environment."""
    inst = Path(instance_path)
    # Safe by default: anything but an explicit development or test setting is production (`make run` says development).
    env = os.environ.get("LEADTHE_ENV", "").strip().lower()
    if env not in ("development", "test"):
        env = "production"
    production = env == "production"
    base_url = os.environ.get("LEADTHE_BASE_URL", "").strip().rstrip("/")

    secret_key, data_key = _keys(inst, production, base_url)

    database_url = os.environ.get("LEADTHE_DATABASE_URL", "").strip() or f"sqlite:///{inst / 'leadthe.db'}"

    return {
        "LEADTHE_ENV": env,
        "SECRET_KEY": secret_key,
        "LEADTHE_DATA_KEYS": [k.strip() for k in data_key.split(",") if k.strip()],
        "SQLALCHEMY_DATABASE_URI": database_url,
        # no pool_pre_ping: leadthe.database pings only connections that sat idle (IDLE_PING_SECONDS)
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SMTP_URL": os.environ.get("LEADTHE_SMTP_URL", "").strip() or None,
        "MAIL_FROM": os.environ.get("LEADTHE_MAIL_FROM", "LeadThe.AI <no-reply@leadthe.ai>"),
        "RATELIMIT_STORAGE_URI": os.environ.get("LEADTHE_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "INLINE_WORKER": _flag("LEADTHE_INLINE_WORKER", "0"),
        "SESSION_IDLE": timedelta(minutes=int(os.environ.get("LEADTHE_SESSION_IDLE_MINUTES", "30"))),
        "SESSION_MAX": timedelta(hours=int(os.environ.get("LEADTHE_SESSION_MAX_HOURS", "12"))),
        "ERASURE_GRACE_DAYS": int(os.environ.get("LEADTHE_ERASURE_GRACE_DAYS", "7")),
        "RETENTION_CLOSED_DAYS": int(os.environ.get("LEADTHE_RETENTION_CLOSED_DAYS", "90")),
        # invitation mails (new, imported, resent) per company and day: a sign-up cannot mail the world
        "INVITATIONS_PER_DAY": int(os.environ.get("LEADTHE_INVITATIONS_PER_DAY", "1000")),
        "BCRYPT_ROUNDS": int(os.environ.get("LEADTHE_BCRYPT_ROUNDS", "12")),
        # Cookies: the __Host- prefix needs Secure, so it is only used where TLS is guaranteed.
        "SESSION_COOKIE_NAME": "__Host-leadthe" if production else "leadthe_session",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # the only source of absolute links in mail, and of the trusted host names (see trusted_hosts)
        "SERVER_BASE_URL": base_url or "http://127.0.0.1:5000",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which has its own lifetime
        "WTF_CSRF_SSL_STRICT": production,
        "HSTS": production,
        "BABEL_DEFAULT_LOCALE": "en",
        "EXPORT_DIR": os.environ.get("LEADTHE_EXPORT_DIR", "").strip() or str(inst / "exports"),
        "EXPORT_DAYS": int(os.environ.get("LEADTHE_EXPORT_DAYS", "7")),
        "DPO_EMAIL": os.environ.get("LEADTHE_DPO_EMAIL", "dpo@leadthe.ai"),
        "SUPPORT_EMAIL": os.environ.get("LEADTHE_SUPPORT_EMAIL", "support@leadthe.ai"),
        # operations (leadthe.ops): /metrics answers only with this bearer token (unset: 404); "json" logs one JSON
        # object per line
        "METRICS_TOKEN": os.environ.get("LEADTHE_METRICS_TOKEN", "").strip(),
        "LOG_FORMAT": os.environ.get("LEADTHE_LOG_FORMAT", "text").strip().lower() or "text",
        # the practice lab's calls to a company's model (leadthe.lab): timeouts in seconds, the longest answer
        # kept (characters), how many generations one worker runs at once, and whether a base URL may point
        # at this machine or a private network (development and tests only; never in production)
        "LAB_CONNECT_TIMEOUT": float(os.environ.get("LEADTHE_LAB_CONNECT_TIMEOUT", "5")),
        "LAB_READ_TIMEOUT": float(os.environ.get("LEADTHE_LAB_READ_TIMEOUT", "20")),
        "LAB_TOTAL_TIMEOUT": float(os.environ.get("LEADTHE_LAB_TOTAL_TIMEOUT", "120")),
        "LAB_MAX_ANSWER_CHARS": int(os.environ.get("LEADTHE_LAB_MAX_ANSWER_CHARS", "12000")),
        "LAB_CONCURRENCY": int(os.environ.get("LEADTHE_LAB_CONCURRENCY", "24")),
        "LAB_ALLOW_PRIVATE_URLS": (not production) and _flag("LEADTHE_LAB_ALLOW_PRIVATE_URLS", "1"),
        # single sign-on (leadthe.sso): calls to identity providers (discovery, keys, token, metadata) time out
        # after SSO_HTTP_TIMEOUT seconds; identity-provider URLs may point at this machine or a private network
        # in development and tests only; the clock skew allowed when checking tokens and assertions; the
        # xmlsec1 binary pysaml2 signs and verifies with (Debian's package ``xmlsec1``)
        "SSO_HTTP_TIMEOUT": float(os.environ.get("LEADTHE_SSO_HTTP_TIMEOUT", "5")),
        "SSO_ALLOW_PRIVATE_URLS": (not production) and _flag("LEADTHE_SSO_ALLOW_PRIVATE_URLS", "1"),
        "SSO_CLOCK_SKEW_SECONDS": int(os.environ.get("LEADTHE_SSO_CLOCK_SKEW_SECONDS", "120")),
        "SAML_XMLSEC_BINARY": os.environ.get("LEADTHE_XMLSEC_BINARY", "").strip() or shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        # domain verification by DNS: None is dnspython's resolver; tests put a resolver of their own here
        "SSO_DNS_RESOLVER": None,
        # the data processing agreement (leadthe.trust.dpa): a company's admins accept the current version before
        # they reach the admin pages, and sign-up asks for it; tests turn it off unless they test it
        "DPA_REQUIRED": _flag("LEADTHE_DPA_REQUIRED", "1"),
        **_billing(),
        **_storage(),
        **_security_alerts(),
    }
