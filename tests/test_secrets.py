"""Encrypted secrets in a site: bad input, partial keys, generate/rotate/check/edit, masking by value."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, SECRETS, TEST_AGE_KEY, make_site, run_process

from regionctl.site import age
from regionctl.site.load import load
from regionctl.site.secrets import forms
from regionctl.check.validate import load_checked


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("one", "two"):
        ident, rec = age.generate()
        (d / f"{name}.txt").write_text(ident + "\n")
        out[name] = (d / f"{name}.txt", rec)
    return out


def per_region_rules(root: Path, keys: dict[str, tuple[Path, str]]) -> None:
    (root / ".sops.yaml").write_text(
        "creation_rules:\n"
        f"  - path_regex: ^regions/One/secrets\\.yaml$\n    age: {keys['one'][1]}\n"
        f"  - path_regex: ^regions/Two/secrets\\.yaml$\n    age: {keys['two'][1]}\n")


@pytest.fixture
def sealed_site(tmp_path: Path, keys, cli) -> Path:
    """One encrypted for key 'one', Two for key 'two'."""
    root = make_site(tmp_path / "s")
    per_region_rules(root, keys)
    r = cli("secrets", "encrypt", "-s", str(root))
    assert r.code == 0, r.err
    return root


def use_key(monkeypatch: pytest.MonkeyPatch, key: Path | None) -> None:
    if key is None:
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", "/nonexistent/keys.txt")
    else:
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))


# ---- bad input -----------------------------------------------------------------------------------


def line_of(path: Path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text().splitlines(), 1) if needle in t)


def test_value_edited_inside_enc(sealed_site: Path, keys, monkeypatch, cli) -> None:
    use_key(monkeypatch, keys["two"][0])
    f = sealed_site / "regions/Two/secrets.yaml"
    text = f.read_text()
    m = re.search(r"(messaging: ENC\[AES256_GCM,data:)(.)", text)
    assert m
    f.write_text(text[: m.end(1)] + ("A" if m.group(2) != "A" else "B") + text[m.end(2):])
    r = cli("validate", "-s", str(sealed_site))
    assert r.code == 1
    line = line_of(f, "messaging: ENC[")
    assert (f"{sealed_site}/regions/Two/secrets.yaml:{line}: error: passwords.messaging: does not decrypt "
            "(a value edited by hand inside ENC[...], moved to another key, or encrypted with another data key): "
            "restore it from git") in r.out.splitlines()
    # nothing half-read: none of the file's values reached the site
    assert load(sealed_site).layers.get("regions/Two/secrets.yaml") is None


def test_mac_mismatch_when_a_value_is_removed(sealed_site: Path, keys, monkeypatch, cli) -> None:
    use_key(monkeypatch, keys["two"][0])
    f = sealed_site / "regions/Two/secrets.yaml"
    f.write_text("\n".join(t for t in f.read_text().splitlines() if "messaging: ENC[" not in t) + "\n")
    r = cli("validate", "-s", str(sealed_site))
    assert r.code == 1
    assert (f"{sealed_site}/regions/Two/secrets.yaml:{line_of(f, '  mac: ENC[')}: error: MAC mismatch: a value was "
            "changed, added or removed outside sops/regionctl: the file cannot be trusted; restore it from git"
            ) in r.out.splitlines()


@pytest.mark.parametrize("mutate,expected", [
    (lambda t: t.split("\nsops:")[0] + "\n", "looks SOPS-encrypted (ENC[...] values) but has no 'sops:' block: "
     "restore the file from git, or replace the values"),
    (lambda t: t.replace("messaging: ENC[AES256_GCM,", "messaging: ENC[CHACHA20,"),
     "passwords.messaging: unknown cipher 'CHACHA20': sops files use AES256_GCM"),
    (lambda t: re.sub(r"\n  mac: .*", "", t), "sops.mac is missing: the file is not valid SOPS (re-encrypt it)"),
    (lambda t: t.replace("messaging: ENC[AES256_GCM,data:", "messaging: ENC[AES256_GCM,dta:"),
     "passwords.messaging: is not a well-formed ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value "
     "(edited by hand?): restore it from git, or set the value with 'regionctl secrets edit'"),
])
def test_broken_sops_files(sealed_site: Path, keys, monkeypatch, cli, mutate, expected: str) -> None:
    use_key(monkeypatch, keys["two"][0])
    f = sealed_site / "regions/Two/secrets.yaml"
    f.write_text(mutate(f.read_text()))
    r = cli("validate", "-s", str(sealed_site))
    assert r.code == 1
    mine = [line for line in r.out.splitlines() if line.startswith(f"{sealed_site}/regions/Two/secrets.yaml:")]
    assert len(mine) == 1 and mine[0].split(": error: ", 1)[1] == expected, r.out
    assert "Traceback" not in r.err


def test_bad_sops_yaml_regex_writes_nothing(tmp_path: Path, cli) -> None:
    root = make_site(tmp_path / "s")
    (root / ".sops.yaml").write_text("creation_rules:\n  - path_regex: '^regions/(One/secrets'\n    age: age1x\n")
    before = (root / "regions/One/secrets.yaml").read_text()
    r = cli("secrets", "encrypt", "-s", str(root))
    assert r.code == 1
    assert r.err.startswith(f"regionctl: error: {root}/.sops.yaml:2: error: path_regex '^regions/(One/secrets' is "
                            "not a valid regular expression (missing ), unterminated subpattern")
    assert (root / "regions/One/secrets.yaml").read_text() == before


def test_encrypt_refuses_a_file_no_rule_matches_and_writes_nothing(tmp_path: Path, keys, cli) -> None:
    root = make_site(tmp_path / "s")
    (root / ".sops.yaml").write_text(f"creation_rules:\n  - path_regex: ^regions/One/\n    age: {keys['one'][1]}\n")
    r = cli("secrets", "encrypt", "-s", str(root))
    assert r.code == 1
    assert r.err == (f"regionctl: error: {root}/regions/Two/secrets.yaml: error: no creation rule in {root}/.sops.yaml "
                     "matches 'regions/Two/secrets.yaml': add a rule whose path_regex matches it, with its age "
                     "recipients\n")
    assert (root / "regions/One/secrets.yaml").read_text() == SECRETS  # nothing half written


# ---- partial keys --------------------------------------------------------------------------------


def test_catalog_needs_no_secrets(sealed_site: Path, monkeypatch) -> None:
    use_key(monkeypatch, None)
    loaded = load_checked(str(sealed_site), full=False)
    assert set(loaded.sealed) == {"regions/One/secrets.yaml", "regions/Two/secrets.yaml"}
    assert loaded.sealed["regions/One/secrets.yaml"].message.endswith("(this command needs no secrets)")


def test_validate_names_regions_it_could_not_open(sealed_site: Path, keys, monkeypatch, cli) -> None:
    use_key(monkeypatch, keys["two"][0])
    r = cli("validate", "-s", str(sealed_site))
    assert r.code == 0, r.out
    assert r.out == (f"{sealed_site}/regions/One/secrets.yaml: warning: not checked: no age identity here opens it "
                     f"(recipients: {keys['one'][1]}); set SOPS_AGE_KEY_FILE to one of their keys to check it\n")
    assert r.err.endswith("0 error(s), 1 warning(s); could not open the secrets of One\n")
    strict = cli("validate", "-s", str(sealed_site), "--strict")
    assert strict.code == 1 and ": error: not checked: no age identity here opens it" in strict.out


def test_render_needs_only_the_regions_key(sealed_site: Path, keys, monkeypatch, cli, tmp_path: Path) -> None:
    use_key(monkeypatch, keys["two"][0])
    r = cli("render", "-s", str(sealed_site), "-r", "Two", "-o", str(tmp_path / "o"))
    assert r.code == 0, r.err
    assert "password = nova-pw" in (tmp_path / "o/Two/etc/nova/nova.conf").read_text()
    r = cli("render", "-s", str(sealed_site), "-r", "One", "-o", str(tmp_path / "p"))
    assert r.code == 1
    assert r.err.startswith(f"regionctl: error: no age identity can open {sealed_site}/regions/One/secrets.yaml: "
                            f"its recipients are {keys['one'][1]}; set SOPS_AGE_KEY_FILE")
    assert not (tmp_path / "p").exists()


def test_identities_from_every_place_sops_looks(tmp_path: Path, keys) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "sops/age").mkdir(parents=True)
    shutil.copy(keys["one"][0], xdg / "sops/age/keys.txt")
    inline = keys["two"][0].read_text().strip()
    found = age.find_identities({"XDG_CONFIG_HOME": str(xdg), "SOPS_AGE_KEY": f"# comment\n{inline} {inline}"})
    assert sorted(str(k.to_public()) for k in found.keys) == sorted([keys["one"][1], keys["two"][1], keys["two"][1]])
    home = age.find_identities({"HOME": str(tmp_path / "h")})
    assert home.looked == [str(tmp_path / "h/.config/sops/age/keys.txt")] and not home.keys


# ---- generate, rotate, check ---------------------------------------------------------------------


def test_generate_fills_what_is_missing_and_shares_users(tmp_path: Path, cli) -> None:
    root = make_site(tmp_path / "s", files={
        "regions/One/secrets.yaml": "passwords:\n  databases:\n    nova: keep-me-as-is\n",
        "regions/Two/secrets.yaml": None})
    r = cli("secrets", "generate", "-s", str(root))
    assert r.code == 0, r.err
    one, two = (load(root).layers[f"regions/{n}/secrets.yaml"] for n in ("One", "Two"))
    pw = one["passwords"]
    assert pw["databases"]["nova"].value == "keep-me-as-is"  # a set value never changes
    for user in ("nova", "placement", "neutron"):
        assert pw["service_users"][user].value == two["passwords"]["service_users"][user].value  # shared
    assert pw["databases"]["keystone"].value != two["passwords"]["databases"].get("keystone")
    values = [v.value for t in (one, two) for v in _leaves(t)]
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", v) for v in values if v != "keep-me-as-is")
    assert cli("validate", "-s", str(root)).code == 0
    assert stat.S_IMODE((root / "regions/Two/secrets.yaml").stat().st_mode) == 0o600
    before = {p: p.read_text() for p in root.rglob("secrets.yaml")}
    again = cli("secrets", "generate", "-s", str(root))
    assert again.code == 0 and again.err == "every secret the site needs is set\n"
    assert before == {p: p.read_text() for p in root.rglob("secrets.yaml")}
    assert not any(v in r.out + r.err for v in values)  # it says what it made, never the values


def _leaves(tree: dict) -> list:
    from regionctl.site.provenance import walk

    return [v for _p, v in walk(tree)]


def test_generate_into_an_encrypted_file_keeps_it_encrypted(sealed_site: Path, keys, monkeypatch, cli) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY", keys["one"][0].read_text() + keys["two"][0].read_text())
    f = sealed_site / "regions/Two/secrets.yaml"
    f.write_text("\n".join(t for t in f.read_text().splitlines() if "messaging:" not in t) + "\n")
    # the file is now broken (MAC): generate refuses it with one line
    r = cli("secrets", "generate", "-s", str(sealed_site))
    assert r.code == 1 and "MAC mismatch" in r.err


def test_rotate_shared_user_everywhere_database_once(tmp_path: Path, cli) -> None:
    root = make_site(tmp_path / "s")
    r = cli("secrets", "rotate", "-s", str(root), "-r", "Two", "passwords.service_users.nova", "passwords.databases.nova")
    assert r.code == 0, r.err
    one, two = (load(root).layers[f"regions/{n}/secrets.yaml"]["passwords"] for n in ("One", "Two"))
    assert one["service_users"]["nova"].value == two["service_users"]["nova"].value != "nova-pw"
    assert two["databases"]["nova"].value != "nova-db" and one["databases"]["nova"].value == "nova-db"
    assert two["messaging"].value == "rabbit-pw"
    bad = cli("secrets", "rotate", "-s", str(root), "-r", "Two", "passwords.nope")
    assert bad.code == 1 and bad.err == (f"regionctl: error: {root}/regions/Two/secrets.yaml: passwords.nope is not set: "
                                         "name a secret the file holds (or fill missing ones with "
                                         "'regionctl secrets generate -r Two')\n")


def test_check_and_validate_warn_about_plain_secrets_in_git(tmp_path: Path, keys, cli) -> None:
    root = make_site(tmp_path / "s")
    per_region_rules(root, keys)
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    r = cli("validate", "-s", str(root))
    assert f"{root}/regions/Two/secrets.yaml: warning: is plain text in git: regionctl secrets encrypt -r Two" in r.out
    c = cli("secrets", "check", "-s", str(root), "-f", "json")
    assert c.code == 1
    rows = {row["region"]: row for row in json.loads(c.out)}
    assert rows["One"]["state"] == "plain" and rows["One"]["in_git"] == "yes" and rows["One"]["missing"] == ""
    assert f"{root}/regions/One/secrets.yaml: error: is plain text in git: regionctl secrets encrypt -r One" in c.err
    assert cli("secrets", "encrypt", "-s", str(root)).code == 0
    c = cli("secrets", "check", "-s", str(root), "-f", "json")
    assert c.code == 0
    rows = {row["region"]: row for row in json.loads(c.out)}
    assert rows["One"]["state"] == "encrypted" and rows["One"]["recipients"] == keys["one"][1]
    assert "is plain text in git" not in cli("validate", "-s", str(root)).out


# ---- edit ----------------------------------------------------------------------------------------


def editor(tmp_path: Path, body: str) -> dict[str, str]:
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    env = {**os.environ, "EDITOR": str(script)}
    env.pop("VISUAL", None)
    return env


def test_edit_private_temp_file_removed_and_one_line_changes(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    shutil.copy(EXAMPLES / "admin-region/.sops.yaml", root / ".sops.yaml")
    (root / ".sops.yaml").write_text((root / ".sops.yaml").read_text().replace("AR/", "One/").replace("OSR1/", "Two/"))
    assert run_process(["secrets", "encrypt", "-s", str(root)]).code == 0
    before = (root / "regions/Two/secrets.yaml").read_text()
    log = tmp_path / "seen"
    env = editor(tmp_path, f'stat -c "%a %n" "$(dirname "$1")" "$1" > {log}\n'
                           "sed -i 's/nova: nova-db/nova: nova-db-2/' \"$1\"\n")
    r = run_process(["secrets", "edit", "-s", str(root), "-r", "Two"], env=env)
    assert r.code == 0, r.err
    dmode, dname = log.read_text().splitlines()[0].split(" ", 1)
    fmode, fname = log.read_text().splitlines()[1].split(" ", 1)
    assert (dmode, fmode) == ("700", "600")
    assert not Path(dname).exists()  # removed
    after = (root / "regions/Two/secrets.yaml").read_text()
    diff = [(a, b) for a, b in zip(before.split("\nsops:")[0].splitlines(), after.split("\nsops:")[0].splitlines()) if a != b]
    assert len(diff) == 1 and diff[0][1].lstrip().startswith("nova: ENC[")
    os.environ["SOPS_AGE_KEY_FILE"] = str(TEST_AGE_KEY)
    assert load(root).layers["regions/Two/secrets.yaml"]["passwords"]["databases"]["nova"].value == "nova-db-2"


def test_edit_interrupted_removes_the_temp_file_and_writes_nothing(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    (root / ".sops.yaml").write_text(f"creation_rules:\n  - age: {age.public_of(TEST_AGE_KEY.read_text().splitlines()[-1])}\n")
    assert run_process(["secrets", "encrypt", "-s", str(root)]).code == 0
    before = (root / "regions/Two/secrets.yaml").read_text()
    log = tmp_path / "seen"
    env = editor(tmp_path, f'echo "$1" > {log}\necho "messaging: changed" >> "$1"\nkill -INT $PPID\nsleep 5\n')
    r = run_process(["secrets", "edit", "-s", str(root), "-r", "Two"], env=env)
    assert r.code == 130 and r.err.endswith("regionctl: interrupted\n")
    assert not Path(log.read_text().strip()).parent.exists()
    assert (root / "regions/Two/secrets.yaml").read_text() == before


def test_edit_invalid_yaml_writes_nothing(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    (root / ".sops.yaml").write_text(f"creation_rules:\n  - age: {age.public_of(TEST_AGE_KEY.read_text().splitlines()[-1])}\n")
    assert run_process(["secrets", "encrypt", "-s", str(root)]).code == 0
    before = (root / "regions/Two/secrets.yaml").read_text()
    env = editor(tmp_path, 'printf "passwords:\\n  a: [unclosed\\n" > "$1"\n')
    r = run_process(["secrets", "edit", "-s", str(root), "-r", "Two"], env=env, stdin=subprocess.DEVNULL)
    assert r.code == 1
    assert r.err.startswith(f"regionctl: error: {root}/regions/Two/secrets.yaml:3: error: YAML syntax error:")
    assert r.err.endswith(f"({root}/regions/Two/secrets.yaml is unchanged)\n")
    assert (root / "regions/Two/secrets.yaml").read_text() == before


# ---- masking by value ----------------------------------------------------------------------------


ODD = "Od$d@pa/ss:w%rd"  # needs $$ in INI, URL-encoding in connection and transport URLs


def test_every_output_of_every_command_masks_every_secret(tmp_path: Path, cli) -> None:
    """Every example, secrets regenerated (plus one with URL/INI specials), every command, every byte."""
    printed: list[str] = []
    secrets_seen: set[str] = set()
    for example in sorted(p for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file()):
        root = tmp_path / example.name
        shutil.copytree(example, root)
        loaded = load(root)
        assert loaded.site is not None
        for r in loaded.site.regions:
            (root / f"regions/{r}/secrets.yaml").unlink(missing_ok=True)
        assert cli("secrets", "generate", "-s", str(root)).code == 0
        first = next(iter(loaded.site.regions))
        f = root / f"regions/{first}/secrets.yaml"
        f.write_text(f.read_text() + f"conf:\n  nova:\n    neutron:\n      metadata_proxy_shared_secret: '{ODD}'\n")
        _set_messaging(f, ODD)
        assert cli("secrets", "encrypt", "-s", str(root)).code == 0
        done = load(root)
        for rel, tree in done.layers.items():
            if rel.endswith("secrets.yaml"):
                secrets_seen |= {str(v.value) for v in _leaves(tree)}
        # a secret where a value of another type belongs: the error message must not carry it
        (root / "values").mkdir(exist_ok=True)
        (root / "values/global.yaml").write_text(f"conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: '{ODD}'\n")
        region = first if done.site and done.site.regions[first].runs("nova") else next(
            r for r, spec in done.site.regions.items() if spec.runs("nova"))
        commands = [
            ["validate", "-s", str(root)], ["validate", "-s", str(root), "-f", "json"],
            ["validate", "-s", str(root), "-f", "yaml"], ["validate", "-s", str(root), "-f", "value"],
            ["render", "-s", str(root), "-o", str(tmp_path / "o" / example.name), "--force"],
            ["render", "-s", str(root), "-o", str(tmp_path / "k" / example.name), "--force", "--format", "kolla"],
            ["render", "-s", str(root), "-o", str(tmp_path / "h" / example.name), "--force", "--format", "helm"],
            ["secrets", "check", "-s", str(root)], ["secrets", "check", "-s", str(root), "-f", "json"],
            ["secrets", "generate", "-s", str(root)],
        ]
        for path in ("nova.conf:DEFAULT.transport_url", "nova.conf:database.connection",
                     "nova.conf:neutron.metadata_proxy_shared_secret", "nova:passwords.service_users.nova",
                     "nova.conf:keystone_authtoken.password"):
            for fmt in ("table", "json", "yaml", "value"):
                commands.append(["explain", "-s", str(root), "-r", region, "-f", fmt, path])
        for args in commands:
            r = cli(*args)
            printed.append(r.out + r.err)
        # a rotated secret, then diff against what was rendered, and the HTML report (a file, but output)
        assert cli("secrets", "rotate", "-s", str(root), "-r", region, "passwords.messaging").code == 0
        done = load(root)
        secrets_seen |= {str(v.value) for rel, t in done.layers.items() if rel.endswith("secrets.yaml") for v in _leaves(t)}
        for args in (["diff", "-s", str(root), "--against", str(tmp_path / "o" / example.name)],
                     ["report", "-s", str(root), "-o", str(tmp_path / f"{example.name}.html")]):
            r = cli(*args)
            printed.append(r.out + r.err)
        printed.append((tmp_path / f"{example.name}.html").read_text())
    text = "".join(printed)
    assert "********" in text  # masked values were printed, masked
    assert ODD in secrets_seen and len(secrets_seen) > 30
    from urllib.parse import quote

    assert quote(ODD, safe="") in "".join(p.read_text() for p in (tmp_path / "o").rglob("nova.conf"))
    assert ODD.replace("$", "$$") in "".join(p.read_text() for p in (tmp_path / "o").rglob("nova.conf"))
    leaks = sorted({form for s in secrets_seen for form in forms(s) if len(form) >= 4 and form in text})
    assert leaks == []


def _set_messaging(f: Path, value: str) -> None:
    text = f.read_text()
    f.write_text(re.sub(r"(?m)^  messaging: .*$", f"  messaging: '{value}'", text))


def test_kolla_needs_the_identity_regions_key_and_explain_names_the_file(sealed_site: Path, keys, monkeypatch, cli,
                                                                          tmp_path: Path) -> None:
    use_key(monkeypatch, keys["two"][0])
    r = cli("render", "-s", str(sealed_site), "-r", "Two", "--format", "kolla", "-o", str(tmp_path / "k"))
    assert r.code == 1
    assert r.err.startswith("regionctl: error: --format kolla needs keystone_admin from the identity region: "
                            f"no age identity can open {sealed_site}/regions/One/secrets.yaml: its recipients are "
                            f"{keys['one'][1]}; ")
    e = cli("explain", "-s", str(sealed_site), "-r", "One", "nova.conf:DEFAULT.transport_url")
    assert e.code == 1 and e.err.startswith(f"regionctl: error: no age identity can open {sealed_site}/regions/One/")


# ---- the format, pure --------------------------------------------------------------------------


@pytest.mark.parametrize("value,plain", [
    (True, b"True"), (False, b"False"), (12, b"12"), (-3, b"-3"), (1.5, b"1.5"), (1.0, b"1"), (100.0, b"100"),
    (1e20, b"100000000000000000000"), (0.1, b"0.1"), (1e-7, b"0.0000001"), ("pa$s", b"pa$s"), ("é", "é".encode()),
])
def test_values_are_the_bytes_sops_encrypts_and_macs(value, plain: bytes) -> None:
    from regionctl.site.sops import decrypt_value, encrypt_value, to_bytes

    assert to_bytes(value) == plain  # Go's strconv for numbers, Python-style True/False for booleans
    key = os.urandom(32)
    enc = encrypt_value(value, key, "passwords:x:")
    assert enc.endswith(f",type:{ {bool: 'bool', int: 'int', float: 'float', str: 'str'}[type(value)] }]")
    assert decrypt_value(enc, key, "passwords:x:") == value
    with pytest.raises(Exception, match="does not decrypt"):
        decrypt_value(enc, key, "passwords:y:")  # the key path is the additional data


def test_fast_read_keeps_every_line_and_value(sealed_site: Path) -> None:
    from regionctl.site.sopsfile import parse_text
    from regionctl.site.sopsread import shrink
    from regionctl.site.yamlio import line_of

    text = (sealed_site / "regions/Two/secrets.yaml").read_text()
    short, restore = shrink(text)
    assert len(short) < len(text) / 2 and short.count("\n") == text.count("\n")
    fast, full = parse_text(short), parse_text(text)
    restore(fast)
    assert fast == full
    for key in full["passwords"]["databases"]:
        assert line_of(fast["passwords"]["databases"], key) == line_of(full["passwords"]["databases"], key)
    assert fast["sops"]["age"][0]["enc"] == full["sops"]["age"][0]["enc"]
