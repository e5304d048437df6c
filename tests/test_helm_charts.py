"""The openstack-helm charts themselves render our values (issue 9, deliverable 6).

Two checks:

* always: every key path render --format helm sets exists in that chart's values.yaml (the
  committed key data, openstack/charts/keys.json), or is listed in ``FREE_FORM`` with the reason
  the chart takes it anyway;
* with the real helm (tools/helm-env.sh) and openstack-helm's source (REGIONCTL_OPENSTACK_HELM: a
  checkout or a bare git directory): ``helm template`` of each chart with our two files, and the
  INI files the chart writes carry every option the plain renderer writes for that file, with
  the database, RabbitMQ and memcached the chart builds from our ``endpoints.oslo_*`` blocks.
"""

from __future__ import annotations

import base64
import configparser
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from conftest import EXAMPLES, make_site
from regionctl.openstack.charts import chart_keys
from regionctl.openstack.deployers import HELM_CHARTS
from regionctl.openstack.services import SERVICES
from test_helm import EXAMPLE_NAMES, chart_built, chart_values, render

#: (chart key path pattern, why the chart takes it though its values.yaml does not list it);
#: ``*`` is one key of a free-form map.
FREE_FORM: tuple[tuple[str, str], ...] = (
    ("conf.overrides.nova_compute.labels",
     "helm-toolkit's daemonset_overrides reads conf.overrides.<chart>_<daemonset>.labels (utils/_daemonset_overrides.tpl)"),
    ("endpoints.oslo_cache.statefulset",
     "helm-toolkit's host_and_port_endpoint_uri_lookup reads it; Genestack's base files set one regionctl must delete"),
    ("endpoints.*.host_fqdn_override.*", "helm-toolkit's hostname_fqdn_endpoint_lookup takes the endpoint type "
                                          "(internal, public, admin) beside the chart's default"),
    ("endpoints.*.path.*", "keystone_endpoint_path_lookup: a path per endpoint type, or one string"),
    ("endpoints.*.scheme.*", "keystone_endpoint_scheme_lookup: a scheme per endpoint type, or one string"),
    ("endpoints.*.port.*.*", "endpoint_port_lookup: a port per endpoint type beside default"),
)


_USED: set[str] = set()


def _free(path: str) -> bool:
    parts = path.split(".")
    for pattern, _ in FREE_FORM:
        pat = pattern.split(".")
        if len(parts) >= len(pat) and all(p in ("*", q) for p, q in zip(pat, parts)):
            _USED.add(pattern)
            return True
    return False


def _paths(node: Any, prefix: tuple[str, ...], ini: set[str]) -> Iterator[str]:
    """Key paths down to a leaf, stopping where the chart's data stops (INI conf trees, lists)."""
    if not isinstance(node, dict):
        yield ".".join(prefix)
        return
    for key, value in node.items():
        path = prefix + (str(key),)
        if path[0] == "conf" and len(path) == 2 and path[1] in ini:
            yield ".".join(path)
            continue
        yield from _paths(value, path, ini)


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_key_regionctl_sets_is_the_charts(cli, tmp_path: Path, example: str | Path) -> None:
    render(cli, EXAMPLES / example, tmp_path)
    import json
    from importlib import resources
    ini = {c: set(d["ini"]) for c, d in json.loads(resources.files("regionctl.openstack.charts")
                                                    .joinpath("keys.json").read_text())["charts"].items()}
    checked = 0
    for region in sorted(p.name for p in tmp_path.iterdir()):
        for chart in sorted(p.name for p in (tmp_path / region / "helm-configs").iterdir()):
            keys = chart_keys(chart)
            assert keys is not None, chart
            values = chart_values(tmp_path, region, chart)
            unknown = [p for p in _paths(values, (), ini[chart])
                       if p not in keys.paths and not _free(p)]
            assert not unknown, f"{region} {chart}: {unknown}"
            checked += 1
    assert checked


def test_every_exception_is_needed(cli, tmp_path: Path) -> None:
    """Each FREE_FORM entry is taken by some example (after the key-path tests ran over all of them)."""
    compute_only = make_site(tmp_path / "compute-only", files={
        "regions/Two/nova.yaml": "conf:\n  nova_compute:\n    libvirt:\n      virt_type: kvm\n"})
    sites: list[str | Path] = [*EXAMPLE_NAMES, compute_only]  # EXAMPLES / an absolute path is that path
    for example in sites:
        test_every_key_regionctl_sets_is_the_charts(cli, tmp_path / "out" / Path(example).name, example)
    assert _USED == {p for p, _ in FREE_FORM}


# -- the real charts through the real helm ----------------------------------------------------

HELM = Path(os.environ.get("REGIONCTL_HELM", Path.home() / ".cache/regionctl/helm/helm"))
SOURCE = os.environ.get("REGIONCTL_OPENSTACK_HELM", "")
#: chart -> the keys of its etc Secret that regionctl's files are (conf key -> file name in the Secret)
CHART_FILES = {svc: {f.key: f.filename for f in SERVICES[svc].files if not f.base} for svc in HELM_CHARTS
               if svc in SERVICES and SERVICES[svc].files}


@pytest.fixture(scope="session")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (HELM.is_file() and os.access(HELM, os.X_OK)):
        pytest.skip(f"no helm at {HELM}: run tools/helm-env.sh")
    if not SOURCE or not Path(SOURCE).exists():
        pytest.skip("REGIONCTL_OPENSTACK_HELM names no openstack-helm checkout or git directory")
    root = tmp_path_factory.mktemp("charts")
    names = sorted(CHART_FILES) + ["helm-toolkit"]
    if (Path(SOURCE) / "helm-toolkit").is_dir():
        for n in names:
            shutil.copytree(Path(SOURCE) / n, root / n)
    else:
        archive = subprocess.run(["git", f"--git-dir={SOURCE}", "archive", "HEAD", *names], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "x", "-C", str(root)], input=archive, check=True)
    for n in sorted(CHART_FILES):
        subprocess.run([str(HELM), "dependency", "build", str(root / n)], capture_output=True, check=True)
    return root


def _helm_template(charts: Path, chart: str, files: list[Path]) -> dict[str, str]:
    args = [str(HELM), "template", chart, str(charts / chart), "-n", "openstack",
            "--show-only", "templates/configmap-etc.yaml"]
    for f in files:
        args += ["-f", str(f)]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    return {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}


def _ini(text: str) -> dict[str, dict[str, str]]:
    p = configparser.RawConfigParser(interpolation=None, strict=False)
    p.optionxform = str  # type: ignore[assignment,method-assign]
    p.read_string(text)
    own = p._sections  # type: ignore[attr-defined]  # a section's own options, without [DEFAULT]'s
    return {s: dict(own[s]) for s in p.sections()} | {"DEFAULT": dict(p.defaults())}


def _same(a: str, b: str) -> bool:
    """Equal as oslo.config reads them: Go writes the float 16.0 as 16, and booleans in any case."""
    if a == b or a.lower() == b.lower() in ("true", "false"):
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


#: host names with Genestack's in-cluster services, and addresses with nodes placed: ~1.5 s of helm
#: per chart and region, so two (test_helm.py checks every example's conf against the plain files)
REAL_HELM_EXAMPLES = ("admin-region", "genestack-sjc-dfw")


@pytest.mark.helm
@pytest.mark.parametrize("example", REAL_HELM_EXAMPLES)
def test_charts_write_every_option_regionctl_derives(cli, tmp_path: Path, charts: Path, example: str) -> None:
    plain = render(cli, EXAMPLES / example, tmp_path / "plain", "plain")
    render(cli, EXAMPLES / example, tmp_path / "helm")
    jobs = []
    for region in sorted(p.name for p in (tmp_path / "helm").iterdir()):
        for chart in sorted(CHART_FILES):
            d = tmp_path / "helm" / region / "helm-configs" / chart
            if d.is_dir():
                jobs.append((region, chart, [d / f"{region}-{chart}-helm-overrides.yaml",
                                             d / f"{region}-{chart}-helm-secrets.yaml"]))
    with ThreadPoolExecutor(2) as pool:
        written = list(pool.map(lambda j: _helm_template(charts, j[1], j[2]), jobs))
    checked = 0
    for (region, chart, _), files in zip(jobs, written):
        values = chart_values(tmp_path / "helm", region, chart)
        for key, filename in CHART_FILES[chart].items():
            ours = _ini(plain[f"{region}/etc/{SERVICES[chart].etc}/{filename}"])
            theirs = _ini(files[filename])
            moved = chart_built(chart, key)
            for section, options in ours.items():
                for option, value in options.items():
                    got = theirs.get(section, {}).get(option)
                    if (section, option) in moved:
                        assert got == _expected(values, chart, section, option, value), (region, filename, section, option)
                    else:
                        assert got is not None and _same(got, value), (region, filename, section, option, got, value)
                    checked += 1
    assert checked


def _expected(values: dict[str, Any], chart: str, section: str, option: str, plain: str) -> str:
    """What the chart builds from our endpoint blocks (helm-toolkit's lookups, by hand)."""
    ep = values["endpoints"]

    def host(block: dict[str, Any]) -> str:
        return str(block["host_fqdn_override"]["default"])

    if option == "transport_url":
        if "transport_url" in values["conf"][chart].get("DEFAULT", {}):
            return str(values["conf"][chart]["DEFAULT"]["transport_url"])
        mq = ep["oslo_messaging"]
        user = mq["auth"][chart]
        return f"rabbit://{user['username']}:{user['password']}@{host(mq)}:{mq['port']['amqp']['default']}{mq['path']}"
    if option == "connection":
        from regionctl.openstack.deployers import HELM_ENDPOINTS
        block = next(b.endpoint for b in HELM_ENDPOINTS[chart].databases if b.section == section)
        db = ep[block]
        user = db["auth"][chart]
        return (f"mysql+pymysql://{user['username']}:{user['password']}@{host(db)}:{db['port']['mysql']['default']}"
                f"{db['path']}")
    if "oslo_cache" not in ep:
        return plain  # several memcached hosts stay in conf
    mc = ep["oslo_cache"]
    return f"{host(mc)}:{mc['port']['memcache']['default']}"
