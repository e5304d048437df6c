"""render --format helm puts the database, RabbitMQ and memcached where the charts take them (issue 9 item 10).

The charts build ``connection``/``transport_url``/memcached lists from ``endpoints.oslo_*`` only
when ``conf`` leaves them empty: regionctl's derived ones must not be in ``conf``.
"""

from __future__ import annotations

from pathlib import Path

from conftest import COMPUTE, EXAMPLES, SECRETS, make_site, region_yaml, site_text
from test_helm import chart_values, render


def test_genestack_example_fills_the_endpoint_blocks_not_conf(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "genestack-sjc-dfw", tmp_path)
    nova = chart_values(tmp_path, "dfw", "nova")
    conf, ep = nova["conf"]["nova"], nova["endpoints"]
    assert "transport_url" not in conf["DEFAULT"]
    assert "database" not in conf and "api_database" not in conf
    assert "memcached_servers" not in conf["keystone_authtoken"] and "memcache_servers" not in conf["cache"]
    db = "mariadb-cluster-primary.openstack.svc.cluster.local"
    assert ep["oslo_db"] == {"auth": {"nova": {"username": "nova", "password": "dfw-nova-db-example"}},
                             "host_fqdn_override": {"default": db}, "path": "/nova_api",
                             "port": {"mysql": {"default": 3306}}}
    assert ep["oslo_db_cell1"]["path"] == "/nova" and ep["oslo_db_cell1"]["auth"] == ep["oslo_db"]["auth"]
    assert "path" not in ep["oslo_db_cell0"] and ep["oslo_db_cell0"]["host_fqdn_override"] == {"default": db}
    assert ep["oslo_messaging"] == {
        "auth": {"nova": {"username": "nova", "password": "dfw-rabbit-example"}},
        "host_fqdn_override": {"default": "rabbitmq.openstack.svc.cluster.local"}, "path": "/nova",
        "port": {"amqp": {"default": 5672}}, "statefulset": None}
    assert ep["oslo_cache"] == {"host_fqdn_override": {"default": "memcached.openstack.svc.cluster.local"},
                                "port": {"memcache": {"default": 11211}}, "statefulset": None}
    placement = chart_values(tmp_path, "dfw", "placement")
    assert placement["endpoints"]["oslo_db"]["path"] == "/placement"
    assert "placement_database" not in placement["conf"]["placement"]
    assert "oslo_messaging" not in placement["endpoints"]  # placement has no RabbitMQ
    neutron = chart_values(tmp_path, "sjc", "neutron")
    assert neutron["endpoints"]["oslo_messaging"]["auth"] == {"neutron": {"username": "neutron",
                                                                          "password": "sjc-rabbit-example"}}
    assert neutron["endpoints"]["oslo_messaging"]["path"] == "/neutron"


def test_an_address_goes_to_host_fqdn_override_too(cli, tmp_path: Path) -> None:
    # in hosts.default, helm-toolkit's dependency lookup fails on the block's missing service.name
    # (found by test_helm_charts.py rendering keystone with the real helm)
    render(cli, EXAMPLES / "admin-region", tmp_path)
    glance = chart_values(tmp_path, "OSR1", "glance")["endpoints"]
    assert "hosts" not in glance["oslo_db"]
    assert glance["oslo_db"]["host_fqdn_override"]["default"].count(".") == 3


def _site(tmp_path: Path, infra: str, files: dict[str, str] | None = None) -> Path:
    site = site_text(region_yaml("One", ("keystone",) + COMPUTE, public="http://192.0.2.1", extra=infra),
                     region_yaml("Two", COMPUTE, public="http://192.0.2.2", parent="One"))
    return make_site(tmp_path / "s", site, files)


def test_several_rabbitmq_hosts_keep_transport_url_with_the_charts_user_and_vhost(cli, tmp_path: Path) -> None:
    root = _site(tmp_path, "infra:\n  messaging: [mq-a.example:5672, mq-b.example:5673]\n"
                           "  memcached: [mc-a:11211, mc-b:11211]\n")
    render(cli, root, tmp_path / "o")
    nova = chart_values(tmp_path / "o", "One", "nova")
    assert nova["conf"]["nova"]["DEFAULT"]["transport_url"] == (
        "rabbit://nova:rabbit-pw@mq-a.example:5672,nova:rabbit-pw@mq-b.example:5673/nova")
    mq = nova["endpoints"]["oslo_messaging"]
    assert mq["host_fqdn_override"] == {"default": "mq-a.example"} and mq["path"] == "/nova"
    assert mq["auth"]["nova"] == {"username": "nova", "password": "rabbit-pw"}
    # helm-toolkit cannot list several memcached hosts: conf keeps them, the chart takes them as they are
    assert nova["conf"]["nova"]["keystone_authtoken"]["memcached_servers"] == "mc-a:11211,mc-b:11211"
    assert "oslo_cache" not in nova["endpoints"]
    secrets = (tmp_path / "o/One/helm-configs/nova/One-nova-helm-secrets.yaml").read_text()
    overrides = (tmp_path / "o/One/helm-configs/nova/One-nova-helm-overrides.yaml").read_text()
    assert "rabbit-pw" in secrets and "rabbit-pw" not in overrides


def test_what_the_site_sets_itself_stays_in_conf(cli, tmp_path: Path) -> None:
    root = _site(tmp_path, "", {
        "regions/One/secrets.yaml": SECRETS + "conf:\n  nova:\n    database:\n"
                                              "      connection: mysql+pymysql://nova:x@external-db/nova\n",
        "regions/One/nova.yaml": "endpoints:\n  oslo_messaging:\n    statefulset:\n      name: rabbitmq-server\n"
                                 "      replicas: 3\n"})
    render(cli, root, tmp_path / "o")
    nova = chart_values(tmp_path / "o", "One", "nova")
    assert nova["conf"]["nova"]["database"]["connection"] == "mysql+pymysql://nova:x@external-db/nova"
    assert "oslo_db_cell1" not in nova["endpoints"]  # [database] stayed the site's
    assert nova["endpoints"]["oslo_db"]["path"] == "/nova_api"  # [api_database] is still derived
    assert nova["endpoints"]["oslo_messaging"]["statefulset"] == {"name": "rabbitmq-server", "replicas": 3}
