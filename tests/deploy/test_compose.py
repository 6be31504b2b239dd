"""compose.yaml: every service its own scalable compose service, wired to NATS, PostgreSQL, registry."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from pathlib import Path

import yaml

from imagewatch.cli.embedded import free_port, nats_server_binary, port_open
from imagewatch.cli.up import SERVICES
from imagewatch.config import load_config
from imagewatch.runtime.bus import Bus

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"IMAGEWATCH_NATS_PASSWORD": "nats-pass-0123456789abcdef", "IMAGEWATCH_POSTGRES_PASSWORD": "pg-pass-0123456789",
           "IMAGEWATCH_WEBHOOK_TOKEN": "hook-0123456789abcdef", "IMAGEWATCH_READ_TOKEN": "read-0123456789abcdef"}


def _interpolate(value, env: dict[str, str]):
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` on every string of ``value``."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def _compose(env: dict[str, str]) -> dict:
    """compose.yaml as ``docker compose config`` would see it: interpolated, with the active profiles only."""
    doc = _interpolate(yaml.safe_load((ROOT / "compose.yaml").read_text()), env)
    profiles = set(filter(None, env.get("COMPOSE_PROFILES", "").split(",")))
    doc["services"] = {name: svc for name, svc in doc["services"].items()
                       if not svc.get("profiles") or profiles & set(svc["profiles"])}
    return doc


def test_compose_structure():
    doc = _compose(SECRETS)
    services = doc["services"]
    for infra in ("nats", "postgres", "registry"):
        assert infra in services
    assert "-js" in services["nats"]["command"]
    for name in SERVICES:
        svc = services[name]
        assert svc["command"] == ["service", name]
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        env = svc["environment"]
        assert env["IMAGEWATCH_NATS_URL"].startswith("nats://nats:")
        assert env["IMAGEWATCH_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["IMAGEWATCH_DATABASE_URL"]
        # scalable: no fixed container name, and only the api publishes a host port
        assert "container_name" not in svc
        assert ("ports" in svc) == (name == "api")
    assert (ROOT / "deploy" / "Dockerfile").exists()


def test_registry_notifies_the_api():
    cfg = yaml.safe_load((ROOT / "deploy" / "registry" / "config.yml").read_text())
    [endpoint] = cfg["notifications"]["endpoints"]
    assert endpoint["url"] == "http://api:8080/v1/events/distribution"
    assert endpoint["headers"]["Authorization"][0].startswith("Bearer ")
    assert "pull" in endpoint["ignore"]["actions"]


def _nats_user(conf: str) -> str:
    return re.search(r"authorization \{\s*user: (\S+)", (ROOT / "deploy" / "nats" / conf).read_text()).group(1)


def _servers_of(service: dict) -> tuple[str, dict[str, str]]:
    """(config file inside the container, environment) of a nats service."""
    return service["command"][service["command"].index("-c") + 1], service["environment"]


def test_single_nats_and_the_services_share_one_user_and_password():
    doc = _compose(SECRETS)
    services = doc["services"]
    assert {"nats-2", "nats-3"}.isdisjoint(services)  # the cluster nodes only with the profile
    conf, nats_env = _servers_of(services["nats"])
    assert conf == "/etc/nats/nats.conf"
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["IMAGEWATCH_NATS_URL"] == "nats://nats:4222" and env["IMAGEWATCH_NATS_REPLICAS"] == "1"
        assert env["IMAGEWATCH_NATS_USER"] == _nats_user("nats.conf") == _nats_user("nats-cluster.conf")
        assert env["IMAGEWATCH_NATS_PASSWORD"] == nats_env["IMAGEWATCH_NATS_PASSWORD"] == SECRETS["IMAGEWATCH_NATS_PASSWORD"]
        assert load_config(env=env).bus.replicas == 1


def test_the_cluster_option_routes_three_nodes_and_replicates_three_times():
    env = {**SECRETS, **_env_file(ROOT / "deploy" / "nats" / "cluster.env")}
    doc = _compose(env)
    services = doc["services"]
    nodes = ["nats", "nats-2", "nats-3"]
    names, volumes = set(), set()
    for node in nodes:
        conf, nats_env = _servers_of(services[node])
        assert conf == "/etc/nats/nats-cluster.conf" and "-js" in services[node]["command"]
        assert "ports" not in services[node]  # only the project's containers reach NATS
        names.add(nats_env["NATS_SERVER_NAME"])
        volumes.add(next(v.split(":")[0] for v in services[node]["volumes"] if v.endswith(":/data")))
        routes = {nats_env[f"NATS_ROUTE_{i}"] for i in (1, 2, 3)}
        assert routes == {f"nats-route://route:{SECRETS['IMAGEWATCH_NATS_PASSWORD']}@{n}:6222" for n in nodes}
        assert nats_env["IMAGEWATCH_NATS_PASSWORD"] == SECRETS["IMAGEWATCH_NATS_PASSWORD"]
    assert len(names) == 3 and len(volumes) == 3 and volumes <= set(doc["volumes"])
    for name in SERVICES:
        config = load_config(env=services[name]["environment"])
        assert config.bus.replicas == 3
        assert [s.removeprefix("nats://").split(":")[0] for s in config.bus.url.split(",")] == nodes
        assert config.bus.user == _nats_user("nats-cluster.conf")


def _node_env(password: str, route_ports: list[int], name: str) -> dict[str, str]:
    env = dict(os.environ, IMAGEWATCH_NATS_PASSWORD=password, NATS_SERVER_NAME=name)
    for i, port in enumerate(route_ports, 1):
        env[f"NATS_ROUTE_{i}"] = f"nats-route://route:{password}@127.0.0.1:{port}"
    return env


def test_the_nats_config_files_are_valid_for_nats_server():
    for conf in ("nats.conf", "nats-cluster.conf"):
        out = subprocess.run([nats_server_binary(), "-c", str(ROOT / "deploy" / "nats" / conf), "-t"],
                             env=_node_env("pw-0123456789abcdef", [6222, 6223, 6224], "n1"),
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr + out.stdout


def test_three_nodes_from_the_cluster_config_form_a_jetstream_cluster(tmp_path):
    """deploy/nats/nats-cluster.conf as compose runs it, on loopback ports: routes with the password, R3 works."""
    password = "pw-" + uuid.uuid4().hex
    ports = [free_port() for _ in range(3)]
    routes = [free_port() for _ in range(3)]
    text = (ROOT / "deploy" / "nats" / "nats-cluster.conf").read_text()
    assert 'store_dir: "/data"' in text
    procs = []
    try:
        for i in range(3):
            store = tmp_path / f"n{i}"
            store.mkdir()
            conf = tmp_path / f"n{i}.conf"  # the file as it is, but for where it stores (a volume in compose)
            conf.write_text(text.replace('store_dir: "/data"', f'store_dir: "{store}"'))
            procs.append(subprocess.Popen(
                [nats_server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", str(ports[i]),
                 "--cluster", f"nats://127.0.0.1:{routes[i]}"],
                env=_node_env(password, routes, f"n{i}"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            for _ in range(200):
                if port_open(port):
                    break
                asyncio.run(asyncio.sleep(0.05))
        url = ",".join(f"nats://127.0.0.1:{p}" for p in ports)
        config = load_config(env={"IMAGEWATCH_NATS_URL": url, "IMAGEWATCH_NATS_USER": "imagewatch",
                                  "IMAGEWATCH_NATS_PASSWORD": password, "IMAGEWATCH_NATS_REPLICAS": "3"})

        async def replicated() -> int:
            for attempt in range(30):
                try:
                    bus = await asyncio.wait_for(Bus.connect(config.bus, name="compose-test"), 10)
                    break
                except Exception:  # noqa: BLE001 - no JetStream meta leader yet
                    if attempt == 29:
                        raise
                    await asyncio.sleep(0.3)
            try:
                info = await bus.js.stream_info(config.bus.stream)
                return len(info.cluster.replicas or []) + 1
            finally:
                await bus.close()

        assert asyncio.run(replicated()) == 3
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
