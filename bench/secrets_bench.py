"""Secrets benchmark (issue 10): a synthetic 100-region site, plain vs SOPS-encrypted secrets.

Measures, in one process and one run, (1) loading the site (every secrets file parsed; the
encrypted ones also have their data key unwrapped with age and every value decrypted and
MAC-checked) and (2) the whole `validate` (load, site checks, wiring, option checks), each with
plain and with encrypted secrets files, side by side. Target: encryption adds under 20 % to
validate. Compare the ratios: the machine is shared and noisy.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_site  # noqa: E402

from regionctl.openstack import options  # noqa: E402
from regionctl.site import age  # noqa: E402
from regionctl.site import yamlio  # noqa: E402
from regionctl.site.load import load  # noqa: E402
from regionctl.site.sopsfile import encrypt_text, open_document, parse_text  # noqa: E402
from regionctl.check.validate import validate  # noqa: E402

REGIONS = 100
REPEAT = 5


def side_by_side(a: Callable[[], object], b: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Runs a and b alternately, so a noisy neighbour slows both alike."""
    ta, tb = [], []
    for _ in range(REPEAT):
        for fn, times in ((a, ta), (b, tb)):
            yamlio._PARSED.clear()  # each CLI run parses its files once: no warm parse cache for either side
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return ta, tb


def decrypt_only(files: list[Path]) -> float:
    """Best time to open every file once the YAML is parsed: age unwrap, AES-GCM per value, MAC."""
    ids = age.find_identities()
    best = float("inf")
    for _ in range(REPEAT):
        copies = [parse_text(f.read_text()) for f in files]
        start = time.perf_counter()
        for data, f in zip(copies, files):
            open_document(data, str(f), ids)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    options.load()  # read once per process; charge it to neither side
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    with tempfile.TemporaryDirectory() as tmp:
        plain = write_site(Path(tmp) / "plain", REGIONS)
        sealed = Path(tmp) / "encrypted"
        shutil.copytree(plain, sealed)
        ident, recipient = age.generate()
        keyfile = Path(tmp) / "key.txt"
        keyfile.write_text(ident + "\n")
        os.environ["SOPS_AGE_KEY_FILE"] = str(keyfile)
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "xdg")
        files = sorted(sealed.glob("regions/*/secrets.yaml"))
        for f in files:
            f.write_text(encrypt_text(f.read_text(), [recipient]))
        values = sum(f.read_text().count("ENC[AES256_GCM") for f in files)
        check = load(sealed)
        assert not check.sealed and not check.problems and len(check.encrypted) == REGIONS, "bench site broken"
        print(f"site: {REGIONS} regions, {len(files)} encrypted secrets files, {values} encrypted values (one age "
              f"recipient each)")
        print(f"{'what':<10} {'plain best s':>13} {'encrypted best s':>17} {'plain med s':>12} {'enc med s':>10} "
              f"{'overhead':>9}")
        ratios = {}
        for name, fn in (("load", load), ("validate", lambda s: validate(load(s)))):
            tp, te = side_by_side(lambda: fn(plain), lambda: fn(sealed))
            pb, eb = min(tp), min(te)
            ratios[name] = eb / pb - 1
            print(f"{name:<10} {pb:>13.3f} {eb:>17.3f} {statistics.median(tp):>12.3f} {statistics.median(te):>10.3f} "
                  f"{100 * ratios[name]:>8.1f}%")
        d = decrypt_only(files)
        print(f"decryption alone (age unwrap, AES-GCM per value, MAC; YAML already parsed): {d:.3f} s, "
              f"{1000 * d / len(files):.2f} ms per file")
        print(f"encryption adds {100 * ratios['validate']:.1f} % to validate (target: under 20 %)")


if __name__ == "__main__":
    main()
