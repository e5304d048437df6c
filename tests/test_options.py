"""regionctl.openstack.options against the committed option data (no services venv needed)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from regionctl.openstack import options
from regionctl.openstack.options import OptInfo, check_value, load


@pytest.fixture(scope="module")
def data() -> options.OptionData:
    return load("2026.2")


def opt(data: options.OptionData, service: str, section: str, name: str) -> OptInfo:
    info = data.find(service, section, name)
    assert info is not None, f"{service} [{section}] {name} should exist"
    return info


# -- the data file and loading


def test_releases_and_header(data: options.OptionData) -> None:
    assert "2026.2" in options.available_releases()
    assert load() is load(options.available_releases()[-1])  # newest, loaded once
    assert data.release == "2026.2"
    assert data.packages["nova"].startswith("34.")
    assert data.packages["keystone"].startswith("30.")
    assert data.services() == ["cinder", "glance", "heat", "keystone", "neutron", "nova", "placement"]
    assert data.packages["openstack-heat"].startswith("27.")
    assert "nova-compute.conf" in data.files("nova")


def test_unknown_release_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="1999.1"):
        load("1999.1")


def test_data_file_is_normalized() -> None:
    """The committed file is exactly what tools/gen_optdata.py writes (sorted keys, indent 1)."""
    text = resources.files("regionctl.openstack").joinpath("optdata/2026.2.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# -- names


def test_nova_cinder_region_is_os_region_name(data: options.OptionData) -> None:
    assert opt(data, "nova", "cinder", "os_region_name").type == "string"
    assert data.find("nova", "cinder", "region_name") is None
    assert data.nearest("nova", "cinder", "region_name") == "[cinder] os_region_name"


def test_cinder_has_no_default_os_region_name(data: options.OptionData) -> None:
    assert data.find("cinder", "DEFAULT", "os_region_name") is None
    assert data.replacement("cinder", "DEFAULT", "os_region_name") is None
    # cinder's own region options live in the client sections
    assert opt(data, "cinder", "nova", "region_name").origin == "section"


def test_nova_neutron(data: options.OptionData) -> None:
    assert data.find("nova", "neutron", "url") is None
    assert data.replacement("nova", "neutron", "url") is None
    for name in ("region_name", "auth_url", "password", "username", "project_name", "valid_interfaces"):
        opt(data, "nova", "neutron", name)
    assert opt(data, "nova", "neutron", "password").secret


def test_nova_glance(data: options.OptionData) -> None:
    assert opt(data, "nova", "glance", "region_name").type == "string"
    servers = opt(data, "nova", "glance", "api_servers")
    assert servers.type == "list"
    assert servers.deprecated_for_removal
    # nova talks to glance with the user's token: adapter + session options, no auth plugin
    assert data.keystoneauth("nova")["glance"] == {"adapter", "session"}
    assert data.find("nova", "glance", "auth_url") is None


def test_glance_cinder_os_region_name(data: options.OptionData) -> None:
    # single-store configuration: [glance_store]
    info = opt(data, "glance", "glance_store", "cinder_os_region_name")
    assert info.namespace == "glance.store"
    assert ("glance_store", "os_region_name") in info.deprecated_names
    # multi-store: a backend section named in [DEFAULT] enabled_backends = <name>:cinder
    assert "store:cinder" in data.templates("glance")
    dyn = [d for d in data.dynamic_sections("glance") if d.get("named_by") == ["DEFAULT", "enabled_backends"]]
    assert dyn and dyn[0]["templates"]["cinder"] == "store:cinder"
    in_backend = data.find("glance", "cinder-fast", "cinder_os_region_name", template="store:cinder")
    assert in_backend is not None and in_backend.section == "cinder-fast"
    assert data.find("glance", "ceph", "cinder_os_region_name", template="store:rbd") is None
    assert data.find("glance", "DEFAULT", "cinder_os_region_name") is None
    # the generator's type templates are not sections of glance-api.conf
    assert "glance.store.rbd.store" not in data.sections("glance")
    assert "os_glance_staging_store" in data.sections("glance")


def test_deprecated_name_maps_to_its_replacement(data: options.OptionData) -> None:
    assert data.find("nova", "DEFAULT", "quota_cores") is None
    new = data.replacement("nova", "DEFAULT", "quota_cores")
    assert new is not None and (new.section, new.name) == ("quota", "cores")
    assert data.nearest("nova", "DEFAULT", "quota_cores") == "[quota] cores"
    new = data.replacement("glance", "glance_store", "os_region_name")
    assert new is not None and new.name == "cinder_os_region_name"
    # keystoneauth's own deprecated names, in a section that takes its options
    new = data.replacement("neutron", "keystone_authtoken", "tenant_name")
    assert new is not None and new.name == "project_name"


def test_keystoneauth_options(data: options.OptionData) -> None:
    # keystonemiddleware lists only its own options; auth_url etc. come from the plugin
    for service in ("nova", "placement", "glance", "neutron", "cinder"):
        assert "keystone_authtoken" in data.sections(service)
        info = opt(data, service, "keystone_authtoken", "auth_url")
        assert info.origin == "keystoneauth.password"
        assert opt(data, service, "keystone_authtoken", "password").secret
        opt(data, service, "keystone_authtoken", "user_domain_name")
    # cinder lists no plugin options for [nova], but loads its auth plugin from there
    assert opt(data, "cinder", "nova", "auth_url").origin.startswith("keystoneauth.")
    assert opt(data, "neutron", "nova", "region_name")
    # only the named plugin's options when auth_type is known
    assert data.find("nova", "keystone_authtoken", "application_credential_secret",
                     auth_type="v3applicationcredential") is not None
    assert data.find("nova", "keystone_authtoken", "application_credential_secret", auth_type="password") is None
    # session/adapter options only where the service registers them
    assert data.find("nova", "cinder", "valid_interfaces") is None
    assert "keystone_authtoken" not in data.sections("keystone")


def test_nearest_for_unknown_section(data: options.OptionData) -> None:
    assert data.nearest("nova", "glanse", "region_name") == "[glance] region_name"
    assert data.nearest("nova", "neutron", "url") is None


# -- values


def test_check_integer(data: options.OptionData) -> None:
    debug = opt(data, "nova", "database", "connection_debug")  # integer 0..100
    assert (debug.type, debug.min, debug.max) == ("integer", 0, 100)
    for good in (8, "8", " 8 ", 0, 100, None):
        assert check_value(debug, good) is None, good
    assert check_value(debug, "eight") == "expected an integer, got 'eight'"
    assert check_value(debug, 8.0) == "expected an integer, got 8.0"
    assert check_value(debug, True) is not None
    assert check_value(debug, [1]) is not None
    assert "maximum 100" in (check_value(debug, 101) or "")
    assert "minimum 0" in (check_value(debug, "-1") or "")
    port = opt(data, "nova", "spice", "html5proxy_port")
    assert port.type == "port"
    assert check_value(port, 6082) is None
    assert check_value(port, 70000) is not None


def test_check_float(data: options.OptionData) -> None:
    ratio = opt(data, "nova", "DEFAULT", "cpu_allocation_ratio")
    assert ratio.type == "float"
    for good in (8.0, 8, "8", "16.5", 0):
        assert check_value(ratio, good) is None, good
    assert check_value(ratio, "lots") == "expected a number, got 'lots'"
    assert "minimum" in (check_value(ratio, -0.5) or "")


def test_check_boolean(data: options.OptionData) -> None:
    flag = opt(data, "nova", "DEFAULT", "allow_resize_to_same_host")
    assert flag.type == "boolean"
    for good in (True, False, "true", "False", "yes", "off", "1", 0):
        assert check_value(flag, good) is None, good
    assert check_value(flag, "maybe") == "expected true or false, got 'maybe'"
    assert check_value(flag, 2) is not None


def test_check_choices(data: options.OptionData) -> None:
    fmt = opt(data, "nova", "DEFAULT", "config_drive_format")
    assert check_value(fmt, "vfat") is None
    problem = check_value(fmt, "ext4")
    assert problem == "'ext4' is not one of: iso9660, vfat"
    rotate = opt(data, "nova", "DEFAULT", "log_rotate_interval_type")  # choices, ignore_case
    assert check_value(rotate, "days") is None
    assert check_value(rotate, "fortnights") is not None
    queue = opt(data, "nova", "libvirt", "rx_queue_size")  # integer choices
    assert check_value(queue, 512) is None
    assert check_value(queue, "1024") is None
    assert check_value(queue, 300) is not None


def test_check_lists_and_dicts(data: options.OptionData) -> None:
    codes = opt(data, "nova", "glance", "retriable_status_codes")  # list of integers
    assert check_value(codes, [500, 503]) is None
    assert check_value(codes, "500, 503") is None
    assert check_value(codes, "") is None
    assert check_value(codes, "500,x") == "list item: expected an integer, got 'x'"
    servers = opt(data, "nova", "glance", "api_servers")  # list of strings
    assert check_value(servers, "http://a:9292,http://b:9292") is None
    assert check_value(servers, ["http://a:9292"]) is None
    assert check_value(servers, {"a": 1}) == "expected a list, got a mapping"
    pages = opt(data, "nova", "DEFAULT", "reserved_huge_pages")
    assert pages.type == "dict"
    assert check_value(pages, "node:0,size:2048") is None
    assert check_value(pages, {"node": 0, "size": 2048}) is None
    assert check_value(pages, "node") is not None


def test_check_other_types(data: options.OptionData) -> None:
    assert check_value(opt(data, "nova", "DEFAULT", "host"), "compute-1.example.org") is None
    assert check_value(opt(data, "nova", "DEFAULT", "host"), "bad host!") is not None
    uri = opt(data, "nova", "barbican", "auth_endpoint")
    assert uri.type == "uri"
    assert check_value(uri, "https://keystone.example.org:5000/v3") is None
    assert check_value(uri, "keystone.example.org") is not None
    # a $reference to another option is checked where that option is set
    assert check_value(opt(data, "nova", "database", "connection_debug"), "$other") is None
    # strings take YAML scalars as they are rendered
    assert check_value(opt(data, "nova", "cinder", "os_region_name"), "RegionOne") is None
    assert check_value(opt(data, "nova", "cinder", "os_region_name"), ["a"]) == "expected a string, got a list"
