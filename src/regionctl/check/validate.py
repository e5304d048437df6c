"""Everything ``validate`` checks, in one place, so validate, render and explain agree.

Site checks (site/) first; then, per region, the derived wiring (missing secrets) and the
rendered files against the services' real option definitions (openstack/confcheck).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regionctl.errors import UserError
from regionctl.resolve.values import RegionValues, resolve_region
from regionctl.check.site import check_all
from regionctl.fileio import name_problem
from regionctl.site.load import LoadedSite, load
from regionctl.site.problems import Problem, error, sort_problems, warning


@dataclass
class Report:
    """Problems for the whole site, and each region's resolved values (reused by render)."""

    problems: list[Problem]
    regions: dict[str, RegionValues] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def validate(loaded: LoadedSite, regions: list[str] | None = None, strict: bool = False) -> Report:
    """``strict``: a secrets file this operator cannot open is an error, not a warning."""
    from regionctl.site.gittracked import check_tracked_plain_secrets

    problems = check_all(loaded, render=True) + check_tracked_plain_secrets(loaded)
    report = Report(problems)
    if loaded.site is None:
        return report
    from regionctl.check.options import check_region

    for name in regions or list(loaded.site.regions):
        if name_problem(name):
            continue  # reported by the site checks; its files could not be named
        values = resolve_region(loaded, name)
        report.regions[name] = values
        problems += values.problems
        problems += check_region(loaded, values)
    report.problems = sort_problems(sealed_problems(loaded, problems, strict))
    return report


def sealed_problems(loaded: LoadedSite, problems: list[Problem], strict: bool) -> list[Problem]:
    """Secrets nobody here can open are not missing: one problem per sealed file instead."""
    sealed = {s.shown: s for s in loaded.sealed.values()}
    unusable = set(sealed) | {p.file for p in loaded.problems if p.is_error}  # broken: already reported
    out = [p for p in problems if p.file not in unusable or p.line != 0 or "is missing" not in p.message]
    for s in sealed.values():
        make = error if strict else warning
        who = ", ".join(s.recipients) or "none"
        out.append(make(s.shown, 0, f"not checked: no age identity here opens it (recipients: {who}); "
                                    "set SOPS_AGE_KEY_FILE to one of their keys to check it"))
    return out


def load_checked(site: str, full: bool = True) -> LoadedSite:
    """A site with no errors, or a UserError naming the first one (and how many more).

    ``full=False`` runs the site checks only: the catalog needs neither secrets nor options.
    """
    loaded = load(site, secrets=full)
    errors = validate(loaded).errors if full else [p for p in check_all(loaded) if p.is_error]
    if errors:
        more = f" (and {len(errors) - 1} more: run 'regionctl validate -s {site}')" if len(errors) > 1 else ""
        raise UserError(f"{errors[0]}{more}")
    return loaded
