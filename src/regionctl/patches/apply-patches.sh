#!/bin/sh
# regionctl's start-up step for hot-fix patches (shipped by regionctl render; do not edit).
#
#   sh apply-patches.sh [DIR]
#
# Applies the patches DIR/series lists (default DIR: this script's directory), in that order, to
# the site-packages of the service's own interpreter ($PYTHON, default python3), found with that
# interpreter (importlib.metadata of the service's package, DIR/packages), so no path is assumed.
# A patch that is already applied (its reverse applies) is skipped. A patch whose Versions: line
# does not list the running version, or that does not apply exactly (no fuzz), stops everything:
# the patches applied by this run are rolled back, the patch and hunk are named on stderr, and the
# exit status is 1, so the service does not start half-patched. Run it before the service, as
# the same user that owns site-packages. Needs GNU patch.
set -u
me=regionctl-patches
dir=${1:-$(dirname "$0")}
py=${PYTHON:-python3}
gpatch=${REGIONCTL_GNU_PATCH:-patch}
opts="-p1 --fuzz=0 --force --batch --no-backup-if-mismatch --reject-file=- --quoting-style=literal"
LC_ALL=C
export LC_ALL

say() { printf '%s: %s\n' "$me" "$*"; }
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 1; }

[ -f "$dir/series" ] || die "$dir/series: no such file: render the patch set with regionctl render"
[ -f "$dir/packages" ] || die "$dir/packages: no such file: render the patch set with regionctl render"
"$gpatch" --version 2>/dev/null | grep -q 'GNU patch' || die "GNU patch ('$gpatch') is not installed: add it to the image"

# "site DIR" and "version DIST VERSION" lines, from the interpreter that runs the service.
probe='import importlib.metadata as md, sys
names = [n.strip() for n in open(sys.argv[1]) if n.strip()]
site = None
for n in names:
    try:
        d = md.distribution(n)
    except md.PackageNotFoundError:
        continue
    if site is None:
        site = d.locate_file("")
        print("site", site)
    print("version", n, d.version)'
info=$("$py" -c "$probe" "$dir/packages") || die "$py cannot list its installed packages: set PYTHON to the service's interpreter"
site=$(printf '%s\n' "$info" | sed -n 's/^site //p')
main=$(sed -n '1p' "$dir/packages")
[ -n "$site" ] || die "$main is not installed for $py: set PYTHON to the service's interpreter"
version=$(printf '%s\n' "$info" | awk -v n="$main" '$1 == "version" && $2 == n { print $3 }')
say "$(printf '%s\n' "$info" | awk '$1 == "version" { printf "%s%s %s", s, $2, $3; s = ", " }') in $site"

# Prints the pins that do not hold the running versions, and fails, when the Versions: line
# of the patch's header (before its first '--- ') does not list them.
pins_hold() {
    INFO=$info awk '
        function norm(s) { s = tolower(s); gsub(/[-_.]+/, "-", s); return s }
        BEGIN { n = split(ENVIRON["INFO"], L, "\n")
                for (i = 1; i <= n; i++) { split(L[i], f, " "); if (f[1] == "version") have[norm(f[2])] = f[3] } }
        /^--- / { done = 1 }
        !done && !seen {
            line = $0; sub(/^#?[ \t]*/, "", line)
            if (tolower(line) ~ /^versions[ \t]*:/) {
                seen = 1; sub(/^[^:]*:/, "", line); m = split(line, items, ",")
                for (j = 1; j <= m; j++) {
                    it = items[j]; gsub(/[ \t]/, "", it); split(it, dv, "=="); d = norm(dv[1])
                    pinned[d] = pinned[d] (pinned[d] == "" ? "" : ", ") dv[1] "==" dv[2]
                    if (dv[2] == have[d]) ok[d] = 1
                }
            }
        }
        END { bad = 0
              for (d in pinned) if ((d in have) && !(d in ok)) { printf "%s %s is running, the patch pins %s\n", d, have[d], pinned[d]; bad = 1 }
              exit bad }' "$1"
}

# "Hunk #N FAILED at L" of patch's output, with the file and that hunk's line in the patch.
hunk_of() { # $1 patch output, $2 patch file
    printf '%s\n' "$1" | awk -v pf="$2" '
        /^(checking|patching) file / { f = $0; sub(/^(checking|patching) file /, "", f) }
        /^Hunk #[0-9]+ FAILED/ { n = substr($2, 2) + 0
            where = ""; k = 0; p = ""
            while ((getline ln < pf) > 0) {
                no++
                if (ln ~ /^\+\+\+ /) { split(ln, a, /[ \t]+/); p = a[2]; sub(/^[^\/]*\//, "", p); k = 0 }
                else if (ln ~ /^@@ / && p == f && ++k == n) { where = " (" pf ":" no ": " ln ")"; break }
            }
            printf "hunk #%d of %s%s does not apply", n, f, where; found = 1; exit }
        /can.t find file to patch|No file to patch/ { printf "a file it changes does not exist"; found = 1; exit }
        END { if (!found) printf "patch failed" }'
}

applied=""
rollback() {
    for q in $applied; do
        "$gpatch" $opts -R -s -d "$site" -i "$dir/$q" </dev/null >/dev/null 2>&1 || say "could not roll back $q: restore the image"
    done
    [ -z "$applied" ] || say "rolled back: ${applied% }"
}

count=0
for name in $(cat "$dir/series"); do
    p="$dir/$name"
    [ -f "$p" ] || { rollback; die "$p: listed in series but missing"; }
    if ! why=$(pins_hold "$p"); then
        rollback
        die "$name is not for this version: $why: re-check it (regionctl patches check) and add the version to its Versions: line; nothing was changed"
    fi
    if out=$("$gpatch" $opts --dry-run -d "$site" -i "$p" </dev/null 2>&1); then
        if ! out=$("$gpatch" $opts -d "$site" -i "$p" </dev/null 2>&1); then
            rollback
            die "$name: $out"
        fi
        applied="$name $applied"
        count=$((count + 1))
        say "applied $name to $main $version"
    elif "$gpatch" $opts -R --dry-run -d "$site" -i "$p" </dev/null >/dev/null 2>&1; then
        say "already applied $name to $main $version; skipped"
    else
        rollback
        die "$name does not apply to $main $version: $(hunk_of "$out" "$p"): nothing was changed; the service must not start"
    fi
done
say "$count patch(es) applied"
