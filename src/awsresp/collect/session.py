"""AWS sessions, shared clients, the caller's identity and the regions to scan."""

from __future__ import annotations

import configparser
import functools
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.client
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    RefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp

from awsresp.collect.calls import NoAnswerInTime, bounded, install_answer_check
from awsresp.collect.throttle import InFlight, RateLimiter
from awsresp.errors import AwsrespError, CredentialsError

DEFAULT_REGION = "us-east-1"
_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "AuthFailure",
}


@dataclass
class CallStats:
    """Counts every API call the scan makes, by (service, operation)."""

    calls: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    retries: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, service: str, operation: str, retries: int, seconds: float) -> None:
        with self._lock:
            self.calls[(service, operation)] += 1
            self.retries[(service, operation)] += retries
            self.seconds[(service, operation)] += seconds

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@functools.cache
def _partition_patterns() -> tuple[re.Pattern[str], ...]:
    """Each AWS partition's region-name pattern, from botocore's own partition data, so a
    region botocore can address (eusc-de-east-1, a new one) is accepted without a release."""
    data = botocore.loaders.create_loader().load_data("partitions")
    return tuple(re.compile(p["regionRegex"]) for p in data["partitions"] if p.get("regionRegex"))


def validate_region(name: str) -> str:
    if not any(pattern.fullmatch(name) for pattern in _partition_patterns()):
        raise AwsrespError(f"invalid region name {name!r} (expected e.g. us-east-1)")
    return name


@dataclass
class Target:
    """Where and as whom to scan: one account through one boto3 session."""

    session: Any
    endpoint_url: str | None = None
    max_workers: int = 16
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # Seconds after its first call when a service's further calls fail as issues: a service
    # that stays unavailable ends in bounded time, never a hang.
    service_budget: float = 1800.0
    # Seconds one API call may take in all (connect, read, retries; each page of a listing)
    # before it is abandoned as an issue: botocore's read timeout restarts with every byte,
    # so only a total bounds an endpoint that trickles (calls.Calls._watched). None: no bound.
    call_deadline: float | None = 120.0
    # The built-in sandbox (moto): operations it does not implement are "not available".
    sandbox: bool = False
    stats: CallStats = field(default_factory=CallStats)
    # Rate caps per (service, region): AWS throttles each account on its own, so each
    # account of an organization scan has a limiter of its own.
    limiter: RateLimiter = field(default_factory=RateLimiter)
    # The bound on requests on the wire to share with other targets (an organization scan
    # keeps one for the whole run); None: max_workers for this target alone.
    shared_in_flight: InitVar[InFlight | None] = None
    # At most max_workers requests on the wire at once, across all of this target's clients
    # (or the shared bound's limit, across every target sharing it).
    in_flight: InFlight = field(init=False)
    # (client name, operation) -> the member a listing's answer must have (its items); the
    # collector fills it from the specs, the answer check reads it (calls.malformed).
    expected: dict[tuple[str, str], str] = field(default_factory=dict)
    # (client name, operation) -> the blob members of its answer kept as text (a spec's
    # `text`); the collector fills it from the specs, the scan's calls read it (calls.Calls).
    text: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self, shared_in_flight: InFlight | None) -> None:
        self.in_flight = shared_in_flight or InFlight(self.max_workers)

    def client(self, service: str, region: str) -> Any:
        """One client per (service, region), built once and shared across threads."""
        key = (service, region)
        # A built client is handed out without waiting: building one (loading a service
        # model takes up to ~0.1 s of CPU) must not hold up calls on the others. Building
        # stays serialized, because a boto3 session is not thread-safe.
        existing = self._clients.get(key)
        if existing is not None:
            return existing
        with self._lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            config = Config(
                # total_max_attempts counts the first try; botocore's max_attempts would not.
                # 'legacy': retries throttling and 5xx with jittered exponential back-off,
                # as 'standard' does, but without standard's retry quota (a circuit breaker
                # per client that a retry drains and only a later 2xx refills: a scan's
                # many "not configured" 404s after a throttle drained it, and then throttled
                # reads failed as issues). Not 'adaptive': its own client-side limiter cuts
                # on every throttle and recovers slowly, and with awsresp's caps the two
                # compounded (a fifth of calls throttled at random: 28x the clean wall time).
                # The caps follow throttling themselves (throttle.RateLimiter.observe).
                # Measured: docs/performance.md#throttling.
                retries={"mode": "legacy", "total_max_attempts": self.max_attempts},
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                max_pool_connections=max(10, self.max_workers),
                user_agent_extra="awsresp",
                # Host prefixes (s3control puts the account id in the host name) do not
                # resolve against a custom endpoint such as the sandbox on 127.0.0.1.
                inject_host_prefix=self.endpoint_url is None,
                # The sandbox is on loopback: a proxy from the environment must not take it.
                proxies={} if self.sandbox else None,
            )
            client = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=config
            )
            if self.endpoint_url:
                pin_endpoint_host(client, self.endpoint_url)
            client.meta.events.register("before-call", _start_timer)
            client.meta.events.register("after-call", self._count)
            # After the counter, so a malformed answer is still counted as a call.
            install_answer_check(client, self.expected, self.max_attempts)
            self.limiter.install(client, service, region, self.max_attempts)
            self.in_flight.install(client)  # last: waiting for a rate token holds no slot
            self._clients[key] = client
            return client

    def _count(self, model: Any, parsed: Any, context: Any, **_: Any) -> None:
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        started = context.get("awsresp_started", time.monotonic())
        self.stats.record(
            model.service_model.service_name,
            model.name,
            int(meta.get("RetryAttempts", 0)),
            time.monotonic() - started,
        )


# Operations whose IAM action is not named after them.
def pin_endpoint_host(client: Any, endpoint_url: str) -> None:
    """Keeps every request of a client on a custom endpoint's host.

    botocore's endpoint rules put the account id in the host name for S3 Control
    (123456789012.127.0.0.1), which does not resolve, and Config(inject_host_prefix=False)
    no longer prevents it. The prefix is stripped before signing, in this one place.
    """
    host = urlsplit(endpoint_url).netloc

    def strip(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != host and parts.netloc.endswith("." + host):
            request.url = urlunsplit(parts._replace(netloc=host))

    client.meta.events.register("before-sign", strip)


def _start_timer(context: Any, **_: Any) -> None:
    context["awsresp_started"] = time.monotonic()


# What a scan calls its sessions in the member accounts' CloudTrail (RoleSessionName).
ROLE_SESSION_NAME = "awsresp-scan"
# One loader for every assumed-role session of the process: it caches the service models
# it has read, so a hundred accounts' clients parse each model file once, not a hundred times.
_LOADER = botocore.loaders.create_loader()


# botocore builds a new client class for every client it creates: a method per operation of
# the service, each with its docstring object, again for every region. The class depends
# only on the service model and the `creating-client-class` hooks (boto3's, the same in
# every session; awsresp registers none), so one class per (service, API version) serves
# every region and account. Clients of 26 services in 17 regions: 266 MB peak RSS without
# this, 211 MB with it (bench/clients_rss.py, before the documentation was dropped too);
# each client still has its own endpoint, credentials, config and event handlers.
_CLIENT_CLASSES: dict[tuple[str, str], type] = {}
_CLIENT_CLASSES_LOCK = threading.Lock()
_build_client_class = botocore.client.ClientCreator._create_client_class


def _client_class(creator: Any, service_name: str, service_model: Any) -> type:
    key = (service_name, str(service_model.api_version))
    with _CLIENT_CLASSES_LOCK:
        cls = _CLIENT_CLASSES.get(key)
        if cls is None:
            cls = _CLIENT_CLASSES[key] = _build_client_class(creator, service_name, service_model)
    return cls


botocore.client.ClientCreator._create_client_class = _client_class

# A service model is more than half documentation (EC2's: 14 MB of objects, 6.5 MB without
# it), held for the whole process by the loader's cache. The scanner never renders a
# docstring, so the documentation of operations and shapes is dropped once, in place, when
# a model is first loaded (botocore reads it with .get(..., '') everywhere but in
# clientContextParams, which is left whole).
_DOCS = ("documentation", "documentationUrl")
_WITHOUT_DOCS = "awsrespWithoutDocumentation"
_DOCS_LOCK = threading.Lock()
_load_service_model = botocore.loaders.Loader.load_service_model


def _drop_docs(node: Any) -> None:
    if isinstance(node, dict):
        for key in _DOCS:
            node.pop(key, None)
        for value in node.values():
            _drop_docs(value)
    elif isinstance(node, list):
        for value in node:
            _drop_docs(value)


def _load_without_docs(
    loader: Any, service_name: str, type_name: str, api_version: str | None = None
) -> Any:
    model = _load_service_model(loader, service_name, type_name, api_version)
    if type_name == "service-2" and isinstance(model, dict) and _WITHOUT_DOCS not in model:
        with _DOCS_LOCK:
            if _WITHOUT_DOCS not in model:
                _drop_docs(model.get("operations"))
                _drop_docs(model.get("shapes"))
                model.pop("documentation", None)
                model[_WITHOUT_DOCS] = True
    return model


botocore.loaders.Loader.load_service_model = _load_without_docs


class _Credentials(CredentialProvider):  # type: ignore[misc]  # botocore is untyped
    """Hands a session the credentials it was given, through botocore's provider chain."""

    METHOD = "assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


class _NoCache:
    """The assume-role fetcher's cache, holding nothing: the refreshable credentials keep
    the current set and decide when to fetch the next one."""

    def __contains__(self, _key: object) -> bool:
        return False

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __setitem__(self, _key: str, _value: Any) -> None:
        pass


def assume_role_session(
    source: Any,
    sts_client: Any,
    role_arn: str,
    external_id: str | None = None,
    region: str | None = None,
    clock: Callable[[], Any] | None = None,
) -> Any:
    """A boto3 session acting as `role_arn`, whose credentials refresh themselves.

    The role is assumed here, through `sts_client` (the caller's, so the call is counted
    and rate-capped): a missing or denied role raises its ClientError now, not inside the
    scan's first read. It is assumed again before the credentials expire (botocore
    refreshes them 15 minutes ahead, in the thread that needs them), so a scan longer
    than the role's session never fails on expired credentials. Every such session shares
    one loader, so the service models are read from disk once per process.
    """
    extra: dict[str, str] = {"RoleSessionName": ROLE_SESSION_NAME}
    if external_id:
        extra["ExternalId"] = external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda *_args, **_kwargs: sts_client,
        source_credentials=source.get_credentials(),
        role_arn=role_arn,
        extra_args=extra,
        cache=_NoCache(),
    )
    first = fetcher.fetch_credentials()
    credentials = RefreshableCredentials(
        access_key=first["access_key"],
        secret_key=first["secret_key"],
        token=first["token"],
        expiry_time=parse_timestamp(first["expiry_time"]),
        refresh_using=fetcher.fetch_credentials,
        method="assume-role",
        **({"time_fetcher": clock} if clock else {}),
    )
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    core.register_component("credential_provider", CredentialResolver([_Credentials(credentials)]))
    return boto3.Session(botocore_session=core, region_name=region or source.region_name)


def make_session(profile: str | None = None, region: str | None = None) -> Any:
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise CredentialsError(_missing_profile(profile)) from None
    except ConfigParseError as exc:
        raise CredentialsError(config_problem(exc)) from None


def _missing_profile(explicit: str | None) -> str:
    """The profile botocore looked for, and where it came from."""
    name, where = explicit or "default", ""
    if not explicit:
        for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            if os.environ.get(variable):
                name, where = os.environ[variable], f" (from {variable})"
                break
    return f"AWS profile {name!r}{where} not found in your AWS config"


def config_problem(exc: ConfigParseError) -> str:
    """A malformed AWS config or credentials file, named with the line at fault."""
    path = str(exc.kwargs.get("path", ""))
    detail = ""
    try:
        configparser.RawConfigParser().read(os.path.expanduser(path))
    except configparser.MissingSectionHeaderError as err:
        detail = f" line {err.lineno}: expected a [section] header, got {err.line.strip()!r}"
    except configparser.ParsingError as err:
        lineno, line = err.errors[0] if err.errors else (0, "''")
        detail = f" line {lineno}: cannot parse {str(line).replace(chr(92) + 'n', '')}"
    except configparser.Error as err:
        at = getattr(err, "lineno", None)
        detail = f" line {at}: {err.message}" if at else f" {err.message}"
    except OSError as err:
        detail = f" {err.strerror}"
    return f"cannot parse the AWS config file {path}:{detail}".rstrip(":")


def validate_endpoint(url: str, source: str = "--endpoint-url") -> str:
    """An AWS-compatible endpoint is an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AwsrespError(f"{source} {url!r} is not an http(s) URL (e.g. http://127.0.0.1:4566)")
    return url


def default_endpoint(explicit: str | None) -> str | None:
    if explicit:
        return validate_endpoint(explicit)
    from_env = os.environ.get("AWS_ENDPOINT_URL")
    return validate_endpoint(from_env, "AWS_ENDPOINT_URL") if from_env else None


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    partition: str


# The reads before collection (the identity every output names, the region list) are made
# even when the scan's deadline has just passed (a Lambda started with little time left
# still writes its incomplete outputs), for at most this long past it.
_STARTUP_GRACE_S = 10.0


def _until(target: Target, deadline: float | None) -> float | None:
    """When a read before collection is abandoned: its call deadline, or the scan's (with
    the grace above)."""
    ends = [] if deadline is None else [max(deadline, time.monotonic() + _STARTUP_GRACE_S)]
    if target.call_deadline is not None:
        ends.append(time.monotonic() + target.call_deadline)
    return min(ends) if ends else None


def whoami(target: Target, deadline: float | None = None) -> Identity:
    """The scanned account, and a clear error when the credentials do not work."""
    region = target.session.region_name or DEFAULT_REGION
    try:
        sts = target.client("sts", region)
        ident = bounded(sts.get_caller_identity, _until(target, deadline))
    except NoAnswerInTime:
        raise AwsrespError(
            f"cannot identify the account: no answer from sts:GetCallerIdentity ({region}) in time"
        ) from None
    except ProfileNotFound:
        raise CredentialsError(_missing_profile(None)) from None
    except ConfigParseError as exc:
        raise CredentialsError(config_problem(exc)) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise CredentialsError(
            "no AWS credentials found: use --profile, environment variables, SSO or a role"
        ) from None
    except (UnauthorizedSSOTokenError, TokenRetrievalError, SSOError):
        raise CredentialsError(
            "the AWS SSO session has expired or is invalid: run 'aws sso login'"
        ) from None
    except EndpointConnectionError as exc:
        raise AwsrespError(f"cannot reach the AWS endpoint: {exc}") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code.startswith("ExpiredToken"):
            raise CredentialsError(
                f"the AWS credentials have expired ({code}): refresh them and try again"
            ) from None
        if code in _CREDENTIAL_CODES:
            raise CredentialsError(f"AWS rejected the credentials ({code})") from None
        raise AwsrespError(f"cannot identify the account: {code}") from None
    except NoRegionError:
        raise AwsrespError("no region configured: pass --region") from None
    except ResponseParserError as exc:
        # Not an AWS answer at all (an empty 403, a proxy's HTML page): say so, in one line.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AwsrespError(f"cannot identify the account: unreadable answer ({first})") from None
    except BotoCoreError as exc:
        raise AwsrespError(f"cannot identify the account: {exc}") from None
    arn = ident["Arn"]
    return Identity(account=ident["Account"], arn=arn, partition=arn.split(":")[1])


def resolve_regions(
    target: Target, requested: list[str], all_regions: bool, deadline: float | None = None
) -> list[str]:
    """The regions to scan: the requested ones, or every enabled region of the account."""
    for name in requested:
        validate_region(name)
    if all_regions:
        home = target.session.region_name or DEFAULT_REGION
        ec2 = target.client("ec2", home)
        try:
            answer = bounded(
                lambda: ec2.describe_regions(AllRegions=False), _until(target, deadline)
            )
        except NoAnswerInTime:
            raise AwsrespError(
                f"cannot list the account's regions: no answer from ec2:DescribeRegions ({home})"
                " in time"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = f"cannot list the account's regions (ec2:DescribeRegions: {code})"
            raise AwsrespError(message) from None
        return sorted(r["RegionName"] for r in answer["Regions"])
    if requested:
        return list(dict.fromkeys(requested))
    return [validate_region(target.session.region_name or DEFAULT_REGION)]
