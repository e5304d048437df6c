"""Checking a region's files against the services' real option definitions.

oslo-config-validator checks names only and skips [keystone_authtoken]; this checks names,
deprecated names, types, ranges and choices, every section including keystone_authtoken and the
dynamically named ones (cinder backends, glance stores), and the region-selecting options.
Problems carry the FILE:LINE of the value that set the option.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator

from regionctl.errors import UserError
from regionctl.openstack import options
from regionctl.openstack.services import SERVICES
from regionctl.openstack.wiring import NAMED_SECTION_REGION, REGION_OPTIONS, ineffective
from regionctl.resolve.derive import serving_region
from regionctl.resolve.values import ConfFile, RegionValues, named_sections
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error, warning
from regionctl.site.provenance import Layer, Origin, Tree, Value, branch, multistring
from regionctl.site.secrets import MASK, is_secret


def option_data(loaded: LoadedSite) -> options.OptionData:
    release = loaded.site.release if loaded.site else None
    try:
        return options.load(release)
    except KeyError:
        have = ", ".join(options.available_releases())
        raise UserError(f"{loaded.site_file}:{loaded.line('release')}: error: no option data for release "
                        f"'{release}': this regionctl knows {have} (see README: regenerating option data)") from None


def _leaves(tree: Tree) -> Iterator[tuple[str, str, Value]]:
    for section, opts in tree.items():
        if not isinstance(opts, dict):
            continue
        for name, node in opts.items():
            if isinstance(node, dict):
                values = multistring(node)
                kind = node.get("type")
                if values is not None and isinstance(kind, Value):
                    yield section, name, Value(values, kind.origin)
            else:
                yield section, name, node


def _value(tree: Tree, section: str, name: str) -> Any:
    node = branch(tree.get(section)).get(name)
    return node.value if isinstance(node, Value) else None


def dynamic_sections(conf: ConfFile, data: options.OptionData | None = None) -> dict[str, tuple[str, ...]]:
    """Sections named by the operator, mapped to the templates (or sections) whose options they take."""
    found = data or options.known(None)
    return named_sections(conf, found) if found is not None else {}


def check_file(data: options.OptionData, conf: ConfFile, base: ConfFile | None = None) -> list[Problem]:
    """Every option of ``conf``; one it took unchanged from the file it is built on (``base``:
    nova-compute.conf from nova.conf) was checked there, and is not reported twice."""
    out: list[Problem] = []
    fname = conf.filename
    dynamic = dynamic_sections(conf, data)
    known_sections = data.sections(conf.service) | set(data.keystoneauth(conf.service))
    records = [r for r in data.dynamic_sections(conf.service) if isinstance(r.get("named_by"), list)]
    inherited = {(sec, n, v.origin, repr(v.value)) for sec, n, v in _leaves(base.merged.tree)} if base else set()
    section_hints: dict[str, str | None] = {}
    for section, name, value in _leaves(conf.merged.tree):
        o: Origin = value.origin
        if (section, name, o, repr(value.value)) in inherited:
            continue
        where = f"{fname} [{section}] {name}"
        why = ineffective(conf.service, conf.conf_key, section, name)
        if why:
            out.append(error(o.file, o.line, f"{where}: {why}: remove it"))
            continue
        templates = dynamic.get(section, ())
        lookup_section = section
        if section not in known_sections and not templates:
            if section not in section_hints:  # once per section: a hint costs a difflib pass over them all
                close = difflib.get_close_matches(section, sorted(known_sections), n=1, cutoff=0.7)
                section_hints[section] = close[0] if close else None
            hint = section_hints[section]
            extra = f" (did you mean [{hint}]?)" if hint else ""
            named_by = sorted({f"[{r['named_by'][0]}] {r['named_by'][1]}" for r in records
                               if section.startswith(str(r.get("section", "")).partition("<")[0])})
            backend = f" or name it in {' or '.join(named_by)}" if named_by else ""
            out.append(error(o.file, o.line, f"{where}: {conf.service} has no section [{section}]{extra}: "
                                             f"fix the section name{backend}"))
            continue
        info = None
        for template in templates or (None,):
            info = data.find(conf.service, lookup_section, name, template=template)
            if info is not None:
                break
        if info is None:
            new = data.replacement(conf.service, lookup_section, name)
            if new is not None:
                out.append(warning(o.file, o.line, f"{where} is a deprecated name: use [{new.section}] {new.name}"))
                info = new
            elif (last := options.removed_after(conf.service, name)) is not None:
                out.append(error(o.file, o.line, f"{where}: {conf.service} removed this option ("
                                                 f"{last} had it, {data.release} has none): remove it"))
                continue
            else:
                hint = data.nearest(conf.service, lookup_section, name)
                extra = f" (did you mean {hint}?)" if hint else ""
                out.append(error(o.file, o.line,
                                 f"{where}: {conf.service} {data.release} has no such option{extra}: remove it or fix its name"))
                continue
        elif getattr(info, "deprecated_for_removal", False):
            reason = f" ({info.deprecated_reason.strip().splitlines()[0]})" if info.deprecated_reason else ""
            out.append(warning(o.file, o.line, f"{where} is deprecated for removal{reason}: plan to drop it"))
        problem = options.check_value(info, value.value, secret=is_secret(("conf", conf.conf_key, section, name), value))
        if problem:
            out.append(error(o.file, o.line, f"{where}: {problem}"))
    return out


#: characters that end or break an INI line; a tab is fine
_BREAKS = {"\r": "a carriage return", "\n": "a line break", "\x00": "a NUL byte"}


def _control_char(value: object) -> str | None:
    """What in a value would break the INI file it lands in (oslo.config reads one line per option)."""
    items = value if isinstance(value, (list, tuple)) else list(value.values()) if isinstance(value, dict) else [value]
    for item in items:
        if isinstance(item, (list, tuple, dict)):
            found = _control_char(item)
            if found:
                return found
        elif isinstance(item, str):
            for ch, name in _BREAKS.items():
                if ch in item:
                    return name
            if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in item):
                return "a control character"
    return None


def check_control_chars(conf: ConfFile, base: ConfFile | None = None) -> list[Problem]:
    """CR, LF, NUL and other control characters in any value of an INI file (the value is not quoted);
    one taken unchanged from ``base`` is reported there."""
    out: list[Problem] = []
    inherited = {(sec, n, v.origin, repr(v.value)) for sec, n, v in _leaves(base.merged.tree)} if base else set()
    for section, name, value in _leaves(conf.merged.tree):
        if (section, name, value.origin, repr(value.value)) in inherited:
            continue
        named = _control_char([section, name])
        if named:
            o = value.origin
            out.append(error(o.file, o.line, f"{conf.filename} [{section}] {name}: the name holds {named}, "
                                             "which breaks the INI file: fix the name"))
            continue
        found = _control_char(value.value)
        if found:
            o = value.origin
            out.append(error(o.file, o.line, f"{conf.filename} [{section}] {name}: the value holds {found}, "
                                             "which breaks the INI file: remove it (a YAML '|' or '>' block "
                                             "adds a line break; write the value on one line)"))
    return out


def check_region_options(loaded: LoadedSite, values: RegionValues) -> list[Problem]:
    """Every region-selecting option is set, and names a region the site declares."""
    assert loaded.site is not None
    declared = loaded.site.regions
    out: list[Problem] = []
    by_key = {(c.service, c.conf_key): c for c in values.files.values()}
    data = options.known(loaded.site.release)
    required = [(o.service, o.conf, o.section, o.key, o.selects) for o in REGION_OPTIONS]
    for conf in values.files.values():
        for sec, templates in (dynamic_sections(conf, data) if data else {}).items():
            for t in templates:
                if (found := NAMED_SECTION_REGION.get((conf.service, t))):
                    required.append((conf.service, conf.conf_key, sec, found[0], found[1]))
    for service, key, section, name, selects in required:
        target = by_key.get((service, key))
        if target is None or serving_region(loaded.site, values.region, selects) is None:
            continue
        conf = target
        base = _base_of(conf, values)
        if base is not None and _state(base, section, name) == _state(conf, section, name):
            continue  # the file it is built on says it already (nova-compute.conf on nova.conf)
        where = f"{conf.filename} [{section}] {name}"
        node = branch(conf.merged.tree.get(section)).get(name)
        if not isinstance(node, Value) or node.value in (None, ""):
            gone = conf.merged.deleted.get((section, name))
            o = gone.origin if gone else Origin(loaded.site_file, loaded.line("regions", values.region), Layer.DERIVED)
            out.append(error(o.file, o.line, f"{where} is not set in region '{values.region}': {service} would use "
                                             "any region's endpoint; don't remove it"))
        elif str(node.value) not in declared:
            out.append(error(node.origin.file, node.origin.line,
                             f"{where} = {shown(node)}: no such region in the site: use one of {', '.join(declared)}"))
        elif str(node.value) != serving_region(loaded.site, values.region, selects):
            out.append(warning(node.origin.file, node.origin.line,
                               f"{where} = {shown(node)} in region '{values.region}': this region's {service} "
                               "will use another region's endpoint; is that intended?"))
    return out


def _base_of(conf: ConfFile, values: RegionValues) -> ConfFile | None:
    """The file ``conf`` is built on (nova.conf for nova-compute.conf), or None."""
    spec = next((f for f in SERVICES[conf.service].files if f.key == conf.conf_key), None)
    if spec is None or spec.base is None:
        return None
    return next((c for c in values.files.values() if c.service == conf.service and c.conf_key == spec.base), None)


def _state(conf: ConfFile, section: str, name: str) -> tuple[object, ...]:
    node = branch(conf.merged.tree.get(section)).get(name)
    gone = conf.merged.deleted.get((section, name))
    return (node.origin, repr(node.value)) if isinstance(node, Value) else ("unset", gone.origin if gone else None)


def shown(node: Value) -> object:
    """A value as a message may quote it: one from a secrets file is masked."""
    return MASK if node.origin.is_secret else node.value


def check_region(loaded: LoadedSite, values: RegionValues) -> list[Problem]:
    data = option_data(loaded)
    out: list[Problem] = []
    for conf in values.files.values():
        base = _base_of(conf, values)
        out += check_file(data, conf, base)
        out += check_control_chars(conf, base)
    out += check_region_options(loaded, values)
    return out
