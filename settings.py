"""Every setting an operator may change, from environment variables and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hotspot_sandbox import SANDBOX_PARTNER_KEY

PROJECT_DIR = Path(__file__).resolve().parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# The longest a form link may live: one that leaks opens the company's form until it expires.
MAX_FORM_LINK_DAYS = 90


class Settings(BaseSettings):
    """Settings for the pipeline and its HotSpot client (the sandbox reads its own:
    `hotspot_sandbox.config`).

    Names are the environment variables (case-insensitive); `.env` in the working directory
    is read too. Secrets are `SecretStr`, so they never print.
    """

    # A refused value is never echoed: it may be a secret.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production"] = Field(
        default="development",
        validation_alias="OFFSTREET_ENV",
        description="production refuses to start on any unsafe setting (plain http, no TLS to "
        "a mail server, generated keys, the sandbox's key...), naming the variable and the fix.",
    )
    data_dir: Path = Field(
        # The working directory's, resolved now: never inside the installed package.
        default_factory=lambda: Path.cwd() / ".data",
        validation_alias="OFFSTREET_DATA_DIR",
        description="Where the embedded defaults keep their files (SQLite database, keys, "
        "logs); created 0700, its files 0600.",
    )
    database_url: str = Field(
        default="",
        validation_alias="OFFSTREET_DATABASE_URL",
        description="SQLAlchemy URL of the store; empty means a SQLite file in the data dir.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias="OFFSTREET_SECRET_KEY",
        description="Fernet key that encrypts company tokens at rest; empty means a key file "
        "generated once in the data dir.",
    )

    hotspot_api_url: str = Field(
        default="http://127.0.0.1:8765", validation_alias="HOTSPOT_API_URL"
    )
    hotspot_partner_key: SecretStr = Field(
        default=SecretStr(SANDBOX_PARTNER_KEY), validation_alias="HOTSPOT_PARTNER_KEY"
    )
    hotspot_timeout_seconds: float = Field(default=10.0, validation_alias="HOTSPOT_TIMEOUT_SECONDS")
    hotspot_max_attempts: int = Field(
        default=6,
        ge=1,
        validation_alias="HOTSPOT_MAX_ATTEMPTS",
        description="Attempts per HotSpot call before a transient fault is surfaced.",
    )
    hotspot_backoff_seconds: float = Field(
        default=0.5,
        ge=0,
        validation_alias="HOTSPOT_BACKOFF_SECONDS",
        description="First retry delay; doubles each attempt, with full jitter.",
    )
    hotspot_backoff_max_seconds: float = Field(
        default=15.0, ge=0, validation_alias="HOTSPOT_BACKOFF_MAX_SECONDS"
    )
    hotspot_max_concurrency: int = Field(
        default=8,
        ge=1,
        validation_alias="HOTSPOT_MAX_CONCURRENCY",
        description="HotSpot calls in flight at once from one run.",
    )
    hotspot_rate_limit: float = Field(
        default=0,
        ge=0,
        validation_alias="HOTSPOT_RATE_LIMIT",
        description="HotSpot's limit for the partner key, in requests per second: every process "
        "and worker sharing the store paces a little under it, together (one slot at a time, "
        "taken in the store); 0 means each process learns the limit from its 429s and "
        "RateLimit headers. Retry-After is honoured either way, by every process sharing the "
        "data dir.",
    )

    hotspot_task_retry_delays: list[float] = Field(
        default=[5, 15, 45],
        validation_alias="HOTSPOT_TASK_RETRY_DELAYS",
        description="Waits before each retry of a step whose HotSpot calls all failed "
        "(JSON list of seconds, jittered); the client's own retries come first.",
    )

    verify_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        validation_alias="VERIFY_TIMEOUT_SECONDS",
        description="How long to wait for TEST123 to show in the enforcement lookup.",
    )
    verify_first_poll_seconds: float = Field(
        default=1.0,
        ge=0,
        validation_alias="VERIFY_FIRST_POLL_SECONDS",
        description="The first enforcement lookup, this long after polling starts; also the "
        "first wait between lookups once HotSpot says a permit is active.",
    )
    verify_poll_factor: float = Field(
        default=1.5,
        ge=1,
        validation_alias="VERIFY_POLL_FACTOR",
        description="Growth of the wait between lookups of a permit HotSpot says is active "
        "but enforcement does not show.",
    )
    verify_max_poll_interval_seconds: float = Field(
        default=10.0, gt=0, validation_alias="VERIFY_MAX_POLL_INTERVAL_SECONDS"
    )
    verify_lag_seconds: float = Field(
        default=0.5,
        gt=0,
        validation_alias="VERIFY_LAG_SECONDS",
        description="While HotSpot says a permit has not propagated, its status is polled every "
        "VERIFY_LAG_SECONDS + VERIFY_LAG_FRACTION × the time waited so far.",
    )
    verify_lag_fraction: float = Field(default=0.1, ge=0, validation_alias="VERIFY_LAG_FRACTION")

    test_plate: str = Field(default="TEST123", validation_alias="TEST_PERMIT_PLATE")
    test_permit_province: str = Field(default="ON", validation_alias="TEST_PERMIT_PROVINCE")
    test_permit_country: str = Field(default="CA", validation_alias="TEST_PERMIT_COUNTRY")
    test_permit_validity_minutes: int = Field(
        default=60, gt=0, validation_alias="TEST_PERMIT_VALIDITY_MINUTES"
    )
    health_plate: str = Field(
        default="TEST123",
        validation_alias="HEALTH_PLATE",
        description="The plate of the health check's canary permit at each live SpotID.",
    )
    health_canary_minutes: int = Field(
        default=10,
        gt=0,
        validation_alias="HEALTH_CANARY_MINUTES",
        description="How long a canary permit is valid (it is revoked once seen, or at the "
        "check's timeout; the sweep withdraws one a killed check left out).",
    )

    imap_host: str = Field(
        default="",
        validation_alias="IMAP_HOST",
        description="The mailbox customers write to; empty means no mailbox is watched.",
    )
    imap_port: int = Field(default=993, validation_alias="IMAP_PORT")
    imap_security: Literal["tls", "starttls", "none"] = Field(
        default="tls",
        validation_alias="IMAP_SECURITY",
        description="tls: implicit TLS (993); starttls: upgrade a plain connection (143); "
        "none: tests only. Certificates are verified against the system trust store "
        "(SSL_CERT_FILE honoured).",
    )
    imap_user: str = Field(default="", validation_alias="IMAP_USER")
    imap_password: SecretStr | None = Field(
        default=None,
        validation_alias="IMAP_PASSWORD",
        description="The mailbox password or app password.",
    )
    imap_oauth2_token_command: str = Field(
        default="",
        validation_alias="IMAP_OAUTH2_TOKEN_COMMAND",
        description="A command printing a fresh OAuth2 access token (XOAUTH2, for Microsoft "
        "365 and Gmail); run at every connect instead of using IMAP_PASSWORD.",
    )
    imap_folder: str = Field(default="INBOX", validation_alias="IMAP_FOLDER")
    imap_processed_folder: str = Field(
        default="Processed", validation_alias="IMAP_PROCESSED_FOLDER"
    )
    imap_review_folder: str = Field(default="Needs review", validation_alias="IMAP_REVIEW_FOLDER")
    imap_rejected_folder: str = Field(default="Rejected", validation_alias="IMAP_REJECTED_FOLDER")
    imap_idle_seconds: float = Field(
        default=20 * 60,
        gt=0,
        le=29 * 60,
        validation_alias="IMAP_IDLE_SECONDS",
        description="IDLE is renewed this often (servers drop it after 29 minutes).",
    )
    imap_reconnect_max_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias="IMAP_RECONNECT_MAX_SECONDS",
        description="Longest wait between reconnect attempts (backoff from 1 s).",
    )
    max_message_bytes: int = Field(
        default=10_000_000,
        gt=0,
        validation_alias="MAX_MESSAGE_BYTES",
        description="A larger email is not downloaded (only its header: IMAP RFC822.SIZE is "
        "read first) nor parsed; it is kept and filed to Needs review with the reason.",
    )
    parse_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias="PARSE_TIMEOUT_SECONDS",
        description="How long the watcher's parser process may take over one email; past "
        "it the process is restarted and the email filed to Needs review.",
    )

    onboarding_deployment: str = Field(
        default="",
        validation_alias="ONBOARDING_DEPLOYMENT",
        description="`flow/deployment` that runs onboardings on workers (e.g. "
        "onboard-request/onboard-request); empty runs them in the process that took the "
        "request in.",
    )

    run_heartbeat_seconds: int = Field(
        default=30,
        ge=30,
        validation_alias="RUN_HEARTBEAT_SECONDS",
        description="How often a deployed run tells the Prefect server it is alive (set as "
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY on workers); silent for three, it is marked Crashed.",
    )
    run_lease_seconds: float = Field(
        default=60.0,
        ge=5,
        validation_alias="RUN_LEASE_SECONDS",
        description="How long a run's hold on its request lasts without renewal (renewed every "
        "third of it while the run is alive): a run gone for longer was interrupted, and another "
        "may take the request over.",
    )
    ops_answer_timeout_seconds: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        validation_alias="OPS_ANSWER_TIMEOUT_SECONDS",
        description="How long a run suspended on a question to ops (a token, an approval, a "
        "location) waits for the answer before it fails.",
    )

    smtp_host: str = Field(
        default="",
        validation_alias="SMTP_HOST",
        description="Where replies to customers are sent; empty means no replies.",
    )
    smtp_port: int = Field(default=587, validation_alias="SMTP_PORT")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", validation_alias="SMTP_SECURITY"
    )
    smtp_user: str = Field(default="", validation_alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="SMTP_PASSWORD")
    ops_notify_email: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="OPS_NOTIFY_EMAIL",
        description="Comma-separated addresses told (through SMTP_*) when an onboarding run "
        "waits for ops, fails or crashes; empty sends no such mail.",
    )
    ops_webhook_url: SecretStr | None = Field(
        default=None,
        validation_alias="OPS_WEBHOOK_URL",
        description="A URL that gets the same notices as a JSON POST {text, subject, body} "
        "(a Slack or Mattermost incoming webhook, or your own); empty sends none.",
    )
    mail_trusted_authserv_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="MAIL_TRUSTED_AUTHSERV_IDS",
        description="Comma-separated authserv-ids of Offstreet's own border MTA (e.g. "
        "mx.offstreet.example): only Authentication-Results headers it wrote are believed. "
        "Empty turns sender authentication off (embedded defaults and the demo only).",
    )
    hotspot_rep_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["htsp.ca"],
        validation_alias="HOTSPOT_REP_DOMAINS",
        description="Comma-separated mail domains of HotSpot's representatives: their "
        "authenticated requests for a company wait for the company's (or ops') confirmation.",
    )
    reply_from: str = Field(
        default="hotspot@offstreet.example",
        validation_alias="REPLY_FROM",
        description="The From address of replies; mail from it is never answered.",
    )

    web_host: str = Field(default="127.0.0.1", validation_alias="WEB_HOST")
    web_port: int = Field(default=8000, validation_alias="WEB_PORT")
    web_base_url: str = Field(
        default="",
        validation_alias="WEB_BASE_URL",
        description="Where customers reach the request form (https://onboard.offstreet.example); "
        "empty means http://WEB_HOST:WEB_PORT.",
    )
    form_link_secret: SecretStr | None = Field(
        default=None,
        validation_alias="FORM_LINK_SECRET",
        description="Key that signs customers' form links (HMAC-SHA256); empty means a key "
        "generated once into form-link.key in the data dir. Changing it voids every link.",
    )
    form_link_days: float = Field(
        default=7,
        gt=0,
        validation_alias="FORM_LINK_DAYS",
        description=f"How long a signed form link stays valid (at most {MAX_FORM_LINK_DAYS}).",
    )
    token_link_hours: float = Field(
        default=72,
        gt=0,
        le=MAX_FORM_LINK_DAYS * 24,
        validation_alias="TOKEN_LINK_HOURS",
        description="How long the single-use link asking a customer for their company's "
        "HotSpot token stays valid; ops are told when one expires unanswered.",
    )
    web_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        validation_alias="WEB_MAX_BODY_BYTES",
        description="The largest request body the web app reads (the form, the JSON API); a "
        "larger one is refused with 413 before it is read.",
    )
    staff_api_keys: SecretStr | None = Field(
        default=None,
        validation_alias="OFFSTREET_API_KEYS",
        description="Comma-separated keys Offstreet's own tools send as `X-API-Key` to the "
        "JSON API; empty means the API refuses every call.",
    )

    embedded_server_idle_seconds: float = Field(
        default=900,
        gt=0,
        validation_alias="EMBEDDED_SERVER_IDLE_SECONDS",
        description="Without PREFECT_API_URL, commands share one local Prefect server per data "
        "dir; it stops after this long with no command using it.",
    )
    test_postgres_admin_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        validation_alias="TEST_POSTGRES_ADMIN_URL",
        description="Tests and benchmarks only: the PostgreSQL where they create and drop "
        "throwaway databases.",
    )

    @field_validator(
        "mail_trusted_authserv_ids", "ops_notify_email", "hotspot_rep_domains", mode="before"
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("form_link_days")
    @classmethod
    def _capped_link_lifetime(cls, days: float) -> float:
        if days > MAX_FORM_LINK_DAYS:
            raise ValueError(
                f"FORM_LINK_DAYS={days:g} is over {MAX_FORM_LINK_DAYS} days: set it to "
                f"{MAX_FORM_LINK_DAYS} or less (a leaked link opens the form until it expires)"
            )
        return days

    @property
    def sender_authentication(self) -> bool:
        """Whether email senders are authenticated (MAIL_TRUSTED_AUTHSERV_IDS is set)."""
        return bool(self.mail_trusted_authserv_ids)

    @model_validator(mode="after")
    def _refuse_sandbox_key_against_real_hotspot(self) -> Settings:
        host = urlsplit(self.hotspot_api_url).hostname or ""
        if host not in LOCAL_HOSTS and (
            self.hotspot_partner_key.get_secret_value() == SANDBOX_PARTNER_KEY
        ):
            raise ValueError(
                "HOTSPOT_PARTNER_KEY is the sandbox's key but HOTSPOT_API_URL is not local: "
                "set HOTSPOT_PARTNER_KEY to Offstreet's partner key for that API."
            )
        return self

    @model_validator(mode="after")
    def _refuse_guessable_api_keys(self) -> Settings:
        if any(len(key) < 16 for key in self.staff_keys):
            raise ValueError(
                "every key in OFFSTREET_API_KEYS must be at least 16 characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and (problems := self._production_problems()):
            raise ValueError("\n".join(f"OFFSTREET_ENV=production: {p}" for p in problems))
        return self

    def _production_problems(self) -> list[str]:
        """What production refuses, one line each: the variable, why, and the fix."""
        problems = []
        if urlsplit(self.hotspot_api_url).scheme != "https":
            problems.append(
                f"HOTSPOT_API_URL is not https ({self.hotspot_api_url}): the partner key and "
                "company tokens would travel in clear; set it to HotSpot's https URL"
            )
        if self.hotspot_partner_key.get_secret_value() == SANDBOX_PARTNER_KEY:
            problems.append(
                "HOTSPOT_PARTNER_KEY is the sandbox's key: set it to Offstreet's partner key"
            )
        for name, host, security, fix in (
            ("IMAP", self.imap_host, self.imap_security, "tls (or starttls)"),
            ("SMTP", self.smtp_host, self.smtp_security, "starttls (or tls)"),
        ):
            if host and host not in LOCAL_HOSTS and security == "none":
                problems.append(
                    f"{name}_SECURITY is none for {name}_HOST={host}: the password and "
                    f"customers' mail would travel in clear; set {name}_SECURITY={fix}"
                )
        if self.secret_key is None:
            problems.append(
                "OFFSTREET_SECRET_KEY is not set: company tokens would be encrypted with a key "
                "file in the data dir; set it from your secret store (a Fernet key: "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            )
        if self.form_link_secret is None:
            problems.append(
                "FORM_LINK_SECRET is not set: form links would be signed with a key file in "
                "the data dir; set it from your secret store "
                "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if urlsplit(self.form_base_url).scheme != "https":
            problems.append(
                f"WEB_BASE_URL is not https ({self.form_base_url}): form links and their "
                "session cookies would travel in clear; set it to the form's public https address"
            )
        if not self.mail_trusted_authserv_ids:
            problems.append(
                "MAIL_TRUSTED_AUTHSERV_IDS is not set: no sender's DMARC/SPF/DKIM verdict would "
                "be believed; set it to the authserv-id of Offstreet's border MTA "
                "(e.g. mx.offstreet.example)"
            )
        return problems

    @property
    def staff_keys(self) -> list[str]:
        """The staff API keys in clear, for the web app's constant-time check only."""
        if self.staff_api_keys is None:
            return []
        keys = self.staff_api_keys.get_secret_value().split(",")
        return [key.strip() for key in keys if key.strip()]

    @property
    def form_base_url(self) -> str:
        """The address customers' form links start with."""
        return (self.web_base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The store's URL, defaulting to a SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'offstreet.db'}"


settings = Settings()
