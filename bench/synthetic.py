"""Synthetic sites for benchmarks: N regions, every service, secrets and a few overrides."""

from __future__ import annotations

from pathlib import Path

SERVICES = ["nova", "placement", "neutron", "glance", "cinder"]


def write_site(root: Path, regions: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["format: 1", 'release: "2026.2"', "regions:"]
    for i in range(regions):
        name = f"R{i:03d}"
        third, fourth = divmod(i + 1, 250)
        host = f"10.{third}.{fourth}.10"
        lines += [f"  {name}:", f"    description: synthetic region {i}"]
        if i:
            lines.append("    parent: R000")
        lines += ["    addresses:", f"      public: http://{host}", f"      internal: http://{host}", "    services:"]
        lines += ["      keystone:", "      horizon:"] if i == 0 else []
        lines += [f"      {s}:" for s in SERVICES]
        rdir = root / "regions" / name
        rdir.mkdir(parents=True, exist_ok=True)
        secrets = ["passwords:"]
        if i == 0:
            secrets.append("  keystone_admin: admin-secret")
        secrets += ["  service_users:"] + [f"    {s}: {s}-shared-secret" for s in SERVICES]
        secrets += ["  databases:"] + [f"    {d}: {d}-{name}-db" for d in (["keystone"] if i == 0 else []) + SERVICES]
        secrets.append(f"  messaging: rabbit-{name}")
        (rdir / "secrets.yaml").write_text("\n".join(secrets) + "\n")
        (rdir / "nova.yaml").write_text(f"conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: {1 + i % 8}.0\n")
    (root / "site.yaml").write_text("\n".join(lines) + "\n")
    (root / "values").mkdir(exist_ok=True)
    (root / "values" / "nova.yaml").write_text(
        "conf:\n  nova:\n    DEFAULT:\n      ram_allocation_ratio: 1.0\n    scheduler:\n      discover_hosts_in_cells_interval: 300\n")
    (root / "values" / "neutron.yaml").write_text("conf:\n  neutron:\n    DEFAULT:\n      core_plugin: ml2\n")
    return root
