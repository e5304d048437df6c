"""The site's ``.sops.yaml``: which age recipients each secrets file is encrypted for.

As in sops (config/config.go): ``creation_rules`` are tried in order and the first whose
``path_regex`` matches the file's path relative to the directory of ``.sops.yaml`` wins (a rule
without ``path_regex`` matches everything); ``age`` is a comma-separated string or a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from regionctl.errors import UserError
from regionctl.site.yamlio import line_of, read_yaml

CONFIG_FILE = ".sops.yaml"
_OPTIONS = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex", "mac_only_encrypted")


@dataclass(frozen=True)
class Rule:
    path_regex: str
    recipients: tuple[str, ...]
    line: int
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, rel: str) -> bool:
        return not self.path_regex or re.search(self.path_regex, rel) is not None


@dataclass(frozen=True)
class SopsConfig:
    shown: str
    rules: tuple[Rule, ...]

    def rule_for(self, rel: str) -> Rule | None:
        return next((r for r in self.rules if r.matches(rel)), None)

    def recipients_for(self, rel: str, shown_file: str) -> Rule:
        rule = self.rule_for(rel)
        if rule is None:
            raise UserError(f"{shown_file}: error: no creation rule in {self.shown} matches '{rel}': add a rule "
                            "whose path_regex matches it, with its age recipients")
        if not rule.recipients:
            raise UserError(f"{self.shown}:{rule.line}: error: the rule matching '{rel}' names no age recipients: "
                            "add 'age: age1...'")
        return rule


def load_config(root: Path, shown: str) -> SopsConfig:
    """The rules of ``root/.sops.yaml``; a missing or broken file is a UserError (one line)."""
    path = root / CONFIG_FILE
    doc, problems = read_yaml(path, shown)
    if doc is None:
        p = problems[0]
        if p.message == "file not found":
            raise UserError(f"{shown}: file not found: it names each secrets file's age recipients "
                            "(regionctl init writes one; see the README)")
        raise UserError(str(p))
    data = doc.data
    if not isinstance(data, CommentedMap) or not isinstance(data.get("creation_rules"), list):
        raise UserError(f"{shown}:{line_of(data) if data is not None else 1}: error: expected 'creation_rules:' "
                        "with a list of rules")
    rules = []
    for i, raw in enumerate(data["creation_rules"]):
        line = line_of(data["creation_rules"], i)
        if not isinstance(raw, dict):
            raise UserError(f"{shown}:{line}: error: a creation rule is a map (path_regex, age)")
        regex = str(raw.get("path_regex") or "")
        try:
            re.compile(regex)
        except re.error as exc:
            raise UserError(f"{shown}:{line_of(raw, 'path_regex') or line}: error: path_regex {regex!r} is not a "
                            f"valid regular expression ({exc}): fix it") from None
        if raw.get("key_groups") or raw.get("shamir_threshold"):
            raise UserError(f"{shown}:{line}: error: key_groups/shamir_threshold are not supported by regionctl: "
                            "list the rule's recipients under 'age'")
        age = raw.get("age")
        if age is None:
            recipients: list[str] = []
        elif isinstance(age, str):
            recipients = [r.strip() for r in age.replace("\n", ",").split(",") if r.strip()]
        elif isinstance(age, list):
            recipients = [str(r).strip() for r in age if str(r).strip()]
        else:
            raise UserError(f"{shown}:{line_of(raw, 'age') or line}: error: age takes a comma-separated string "
                            "or a list of age1... recipients")
        for r in recipients:
            if not r.startswith("age1"):
                raise UserError(f"{shown}:{line_of(raw, 'age') or line}: error: '{r}' is not an age recipient "
                                "(age1...)")
        rules.append(Rule(regex, tuple(recipients), line, {k: raw[k] for k in _OPTIONS if k in raw}))
    return SopsConfig(shown, tuple(rules))


def starter_config(regions: list[str], recipients: dict[str, list[str]], site_wide: list[str]) -> str:
    """A ``.sops.yaml`` with one rule per region and one for site-wide secrets (``init``)."""
    lines = [
        "# Who can open which secrets file: sops and regionctl use the first rule whose path_regex",
        "# matches the file's path (relative to this directory). Give each region's operators the",
        "# region's rule; add or remove a recipient, then run 'regionctl secrets updatekeys'.",
        "creation_rules:",
    ]
    if not site_wide:
        lines.insert(3, "# No recipients yet: put your age public key (age-keygen -y KEYFILE) after each 'age:'.")

    def age(who: list[str]) -> str:
        return f"    age: {','.join(who)}" if who else "    age: ''"

    for r in regions:
        lines += [f"  - path_regex: ^regions/{re.escape(r)}/secrets\\.yaml$", age(recipients.get(r) or site_wide)]
    lines += ["  # site-wide secrets (any other secrets file)", "  - path_regex: secrets\\.yaml$", age(site_wide)]
    return "\n".join(lines) + "\n"
