"""render --format haproxy: every example's routers pass `haproxy -c`; what they route where;
bad router settings refused with their line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, SITE, make_site

ROUTER = "    router:\n      servers: [192.0.2.11]\n"


def haproxy_check(cfg: Path, replace: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (make sysdeps)")
    text = cfg.read_text()
    for a, b in (replace or {}).items():
        text = text.replace(a, b)
    checked = cfg.with_name("checked.cfg")
    checked.write_text(text)
    return subprocess.run(["haproxy", "-c", "-f", str(checked)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def test_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away certificate standing in for the operator's (genestack's endpoints are https)."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=router", "-days", "1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "crt.pem")], check=True, capture_output=True)
    pem = d / "router.pem"
    pem.write_text((d / "crt.pem").read_text() + (d / "key.pem").read_text())
    return pem


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file()))
def test_every_example_passes_haproxy_check(example: str, cli, tmp_path: Path, test_cert: Path) -> None:
    out = tmp_path / "out"
    r = cli("render", "-s", str(EXAMPLES / example), "--format", "haproxy", "-o", str(out))
    assert r.code == 0, r.err
    configs = sorted(out.glob("*/haproxy/haproxy.cfg"))
    assert [c.parent.parent.name for c in configs] == sorted(p.name for p in out.iterdir())
    for cfg in configs:
        certs = {f"/etc/haproxy/certs/{cfg.parent.parent.name}.pem": str(test_cert)}
        p = haproxy_check(cfg, certs)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "Configuration file is valid" in p.stdout


def test_two_regions_backends_and_choices(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("render", "-s", str(EXAMPLES / "two-regions"), "--format", "haproxy", "-o", str(out)).code == 0
    cfg = (out / "RegionOne/haproxy/haproxy.cfg").read_text()
    choices = (out / "RegionOne/haproxy/backends.map").read_text().splitlines()
    assert "public/compute/RegionTwo RegionTwo_compute_public" in choices
    assert "public/identity/RegionTwo RegionTwo_identity_public" in choices
    # RegionOne's own servers, health-checked, for its region; RegionTwo's router, Host set, for RegionTwo
    assert ("backend RegionOne_compute_public\n"
            "  # compute (public) of RegionOne: this region's own servers\n"
            "  http-request del-header OpenStack-Scope-Hops\n"
            "  option httpchk\n"
            "  http-check send meth GET uri / ver HTTP/1.1 hdr Host 192.168.41.15\n"
            "  http-check expect status 200-399\n"
            "  server s1 192.168.41.15:8774 check inter 5s fall 3 rise 2\n") in cfg
    assert ("backend RegionTwo_compute_public\n"
            "  # compute (public) of RegionTwo: its router, at its endpoint\n"
            "  http-request set-header Host 192.168.40.23:8774\n"
            "  http-request set-header OpenStack-Scope-Hops %[var(txn.hops),add(1)]\n") in cfg
    # RegionTwo's identity is the one Keystone: RegionOne's own servers (shared health check)
    assert "backend RegionTwo_identity_public\n  # identity (public) of RegionTwo: this region's own servers\n" in cfg
    assert "  server s1 192.168.41.15:5000 track RegionOne_identity_public/s1\n" in cfg
    # RegionTwo's router has no identity frontend: its identity endpoints are RegionOne's
    two = (out / "RegionTwo/haproxy/haproxy.cfg").read_text()
    assert "frontend fe_identity" not in two and "backend RegionOne_identity_public" not in two
    assert "lua" not in cfg.lower()


def test_two_apis_on_one_port_told_apart_by_path(cli, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE.replace("      public: http://192.0.2.1\n",
                                                     "      public: http://192.0.2.1\n" + ROUTER).replace(
        "      glance:\n  Two:", "      glance:\n      cinder:\n        catalog: [volumev2, volumev3]\n  Two:"))
    out = tmp_path / "out"
    r = cli("render", "-s", str(site), "--format", "haproxy", "-r", "One", "-o", str(out))
    assert r.code == 0, r.err
    cfg = (out / "One/haproxy/haproxy.cfg").read_text()
    assert "frontend fe_8776\n  bind 192.0.2.1:8776\n" in cfg
    assert (out / "One/haproxy/routes-fe_8776.map").read_text() == "/v2/ r0\n/v3/ r1\n"
    assert "  use_backend One_volumev2_public if { var(txn.route) -m str r0 }\n" in cfg
    assert "  default_backend One_volumev2_public\n" in cfg  # a path neither owns ("/"): local


def test_https_endpoints_remote_backends_use_tls(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("render", "-s", str(EXAMPLES / "genestack-sjc-dfw"), "--format", "haproxy", "-o", str(out)).code == 0
    cfg = (out / "sjc/haproxy/haproxy.cfg").read_text()
    assert "  bind :443 ssl crt /etc/haproxy/certs/sjc.pem\n" in cfg
    assert ("  server dfw nova.api.dfw.example.com:443 ssl verify required ca-file @system-ca "
            "sni str(nova.api.dfw.example.com) check-sni nova.api.dfw.example.com resolvers sys "
            "init-addr none check inter 5s fall 3 rise 2\n") in cfg
    routes = (out / "sjc/haproxy/routes-fe_443.map").read_text().splitlines()
    assert "nova.api.sjc.example.com/ r1" in routes and "nova.api.sjc.example.com:443/ r1" in routes


def test_same_site_same_bytes(cli, tmp_path: Path) -> None:
    for d in ("a", "b"):
        assert cli("render", "-s", str(EXAMPLES / "admin-region"), "--format", "haproxy", "-o", str(tmp_path / d)).code == 0
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert a == b and len(a) == 18


def test_region_without_router_is_refused_and_nothing_written(cli, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE.replace("      public: http://192.0.2.1\n",
                                                     "      public: http://192.0.2.1\n" + ROUTER))
    r = cli("render", "-s", str(site), "--format", "haproxy", "-o", str(tmp_path / "out"))
    assert r.code == 1
    assert r.err.strip().endswith(f"{site}/site.yaml:14: error: region 'Two' has no router: add "
                                  "regions.Two.router.servers (its API servers) to render the haproxy format")
    assert not (tmp_path / "out").exists()


def test_https_without_certificate_is_refused(cli, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE.replace("http://", "https://").replace(
        "      public: https://192.0.2.1\n", "      public: https://192.0.2.1\n" + ROUTER))
    r = cli("render", "-s", str(site), "--format", "haproxy", "-r", "One", "-o", str(tmp_path / "out"))
    assert r.code == 1
    assert r.err.strip().endswith(f"{site}/site.yaml:4: error: region 'One' has https endpoints: give the router "
                                  "a certificate (regions.One.router.tls_crt)")


def test_bad_router_settings_have_their_line(cli, tmp_path: Path) -> None:
    bad = ("    router:\n      servers: ['192.0.2.11:8774', ok.example]\n      listen: vip.example\n"
           "      scope_from:\n        public: [10.0.0.0/33]\n      max_hops: 0\n")
    site = make_site(tmp_path / "site", SITE.replace("      public: http://192.0.2.1\n",
                                                     "      public: http://192.0.2.1\n" + bad))
    r = cli("validate", "-s", str(site))
    assert r.code == 1
    f = f"{site}/site.yaml"
    assert r.out.splitlines() == [f"{f}:11: error: regions.One.router.max_hops: input should be greater than "
                                  "or equal to 1, got 0"]
    site2 = make_site(tmp_path / "site2", SITE.replace("      public: http://192.0.2.1\n", "      public: http://192.0.2.1\n"
                                                      + bad.replace("      max_hops: 0\n", "")))
    r = cli("validate", "-s", str(site2))
    f = f"{site2}/site.yaml"
    assert r.out.splitlines() == [
        f"{f}:7: error: router server '192.0.2.11:8774' is not an IP address or host name: give the API server's "
        "address without port or scheme",
        f"{f}:8: error: router listen 'vip.example' is not an IP address: give the address to bind",
        f"{f}:10: error: '10.0.0.0/33' is not a network: write it as CIDR, e.g. 10.0.0.0/8",
    ]


def test_two_catalog_types_at_one_url_are_one_api(cli, tmp_path: Path) -> None:
    """cinder's volumev3 and block-storage at the same URL: a scope may use either name."""
    site = make_site(tmp_path / "site", SITE.replace("      public: http://192.0.2.1\n",
                                                     "      public: http://192.0.2.1\n" + ROUTER).replace(
        "      glance:\n  Two:", "      glance:\n      cinder:\n        catalog: [volumev3, block-storage]\n  Two:"))
    out = tmp_path / "out"
    r = cli("render", "-s", str(site), "--format", "haproxy", "-r", "One", "-o", str(out))
    assert r.code == 0, r.err
    cfg = (out / "One/haproxy/haproxy.cfg").read_text()
    choices = (out / "One/haproxy/backends.map").read_text().splitlines()
    assert {"public/volumev3/One One_volumev3_public", "public/block-storage/One One_volumev3_public"} <= set(choices)
    assert "frontend fe_volumev3_public\n" in cfg
    fe = cfg.split("frontend fe_volumev3_public\n", 1)[1].split("\n\n", 1)[0]
    rules = [line for line in fe.splitlines() if "set-var(txn.name)" in line]
    assert [("volumev3" in rule, "block" in rule, rule.endswith("!{ var(txn.name) -m len gt 0 }")) for rule in rules] \
        == [(True, False, False), (False, True, True)]
