"""oslo.config INI text from a resolved ``conf.<file>`` tree (pure, deterministic).

Sections: DEFAULT first, then sorted; keys sorted; so the same site renders byte-identical files
and diffs stay small. Values follow oslo.config's syntax (REFERENCE section 5): booleans as
true/false, lists comma-joined, ``{type: multistring, values: [...]}`` (openstack-helm's form) as
a repeated key, multi-line values as indented continuation lines. ``$`` interpolates in oslo.config,
so values from secrets are written with ``$$``; plain values keep ``$state_path``-style references.
"""

from __future__ import annotations

from typing import Any

from regionctl.site.provenance import Tree, Value, multistring

def ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(ini_value(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    text = str(value)
    if "\n" in text:
        first, *rest = text.split("\n")
        return first + "".join("\n    " + line for line in rest)
    return text


def section_order(sections: Tree) -> list[str]:
    return (["DEFAULT"] if "DEFAULT" in sections else []) + sorted(k for k in sections if k != "DEFAULT")


def render_ini(sections: Tree, header: str = "") -> str:
    lines: list[str] = [header.rstrip("\n")] if header else []
    for name in section_order(sections):
        options = sections[name]
        if not isinstance(options, dict):
            continue
        if lines:
            lines.append("")
        lines.append(f"[{name}]")
        for key in sorted(options):
            node = options[key]
            if isinstance(node, dict):
                for item in multistring(node) or []:
                    lines.append(f"{key} = {ini_value(item)}")
            elif node.value is not None:
                text = ini_value(node.value)
                if node.origin.is_secret:
                    text = text.replace("$", "$$")  # a secret is literal; oslo would interpolate $
                lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
