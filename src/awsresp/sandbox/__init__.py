"""The built-in sandbox account: moto's server on 127.0.0.1, seeded with a realistic estate."""

from __future__ import annotations

import logging
import os
import urllib.request
from types import TracebackType
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from awsresp.collect.session import pin_endpoint_host
from awsresp.errors import AwsrespError

SANDBOX_ACCOUNT = "123456789012"
SANDBOX_REGIONS = ("us-east-1", "eu-west-1")
# moto's id generator is seeded so the estate has the same ids run after run.
_SEED = 20261128

# moto's environment switches are read when its backends load, so they are set before
# moto is imported. Without the first, moto registers ~1,300 AMIs with their snapshots
# as the account's own (thousands of calls and false findings).
_MOTO_ENV = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}


# The sandbox is sealed from the user's AWS set-up: no profile, config or credentials file
# is read (AWS_PROFILE naming a missing profile, or a credentials file the user keeps, must
# neither break the sandbox nor be opened), and no proxy is used for its loopback endpoint
# (HTTP_PROXY without NO_PROXY would send it to the proxy).
_SEALED_VARIABLES = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
    "ca_bundle": (None, None, None, None),
}
NO_PROXY = Config(proxies={})
# The user's AWS settings that the sandbox's process must not use while it runs.
_USER_AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _route_moto_prints_to_log() -> None:
    """moto's server prints a note on stdout for every request to a service it has no
    backend for (Firewall Manager); stdout carries the scan's own output (--format json),
    and the scan reports those reads as issues, so the note goes to moto's debug log."""
    from moto.moto_server import werkzeug_app

    log = logging.getLogger("moto")
    werkzeug_app.print = lambda *args, **_kw: log.debug(" ".join(map(str, args)))  # type: ignore[attr-defined]


class Sandbox:
    """A moto server on a free loopback port, seeded; stopped cleanly on exit."""

    def __init__(self, seed: bool = True, extra_env: dict[str, str] | None = None) -> None:
        self._seed = seed
        self._env = {**_MOTO_ENV, **(extra_env or {})}
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self.endpoint_url = ""

    def __enter__(self) -> Sandbox:
        for key, value in self._env.items():
            os.environ.setdefault(key, value)
        # moto runs in this process and builds plain boto3 Sessions of its own (to list
        # partitions when a backend is first used): they would read AWS_PROFILE and the
        # user's config and credential files, and fail on a profile that does not exist.
        # While the sandbox runs, the process environment names none; __exit__ restores it.
        self._saved_env = {key: os.environ.get(key) for key in _USER_AWS_ENV}
        for key in _USER_AWS_ENV:
            os.environ.pop(key, None)
        os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        # The server's request log, and its tracebacks for operations moto lacks (the scan
        # reports those reads as issues), would drown the scan's own progress on stderr.
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise AwsrespError("--sandbox needs moto: pip install 'awsresp[sandbox]'") from None
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        _route_moto_prints_to_log()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto's backends are process-wide: a second sandbox in the same process would see
        # the first one's estate, so every sandbox starts from a reset.
        self._post("/moto-api/reset")
        self._post(f"/moto-api/seed?a={_SEED}")
        if self._seed:
            from awsresp.sandbox.estate import seed_all

            seed_all(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _post(self, path: str, body: bytes = b"") -> None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with _DIRECT.open(request, timeout=10) as answer:
            answer.read()

    def session(self, region: str = SANDBOX_REGIONS[0]) -> Any:
        """A session with the sandbox's dummy credentials, sealed from the user's AWS
        profile, config and credential files (never the user's real credentials)."""
        return boto3.Session(
            botocore_session=botocore.session.Session(session_vars=_SEALED_VARIABLES),
            aws_access_key_id="AKIASANDBOXSCANNER00",
            aws_secret_access_key="sandbox-secret-not-real",
            region_name=region,
        )

    def client(self, service: str, region: str = SANDBOX_REGIONS[0]) -> Any:
        client = self.session(region).client(
            service, endpoint_url=self.endpoint_url, config=NO_PROXY
        )
        pin_endpoint_host(client, self.endpoint_url)
        return client
