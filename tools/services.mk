# The real OpenStack services' option data (include from the main Makefile:
# `include tools/services.mk`).
#
#   make services-env    create/reuse the services venv (tools/services-env.sh)
#   make optdata         regenerate src/regionctl/openstack/optdata/<release>.json
#   make optdata-check   regenerate to a temp file, diff against the file in the tree;
#                        exits non-zero when they differ
#
# The venv lives outside the tree: $(SERVICES_VENV), default
# ~/.cache/regionctl/services-venv (env REGIONCTL_SERVICES_VENV also works).

REGIONCTL_SERVICES_VENV ?= $(HOME)/.cache/regionctl/services-venv
SERVICES_VENV ?= $(REGIONCTL_SERVICES_VENV)
SERVICES_PY := $(SERVICES_VENV)/bin/python
OPTDATA_DIR := src/regionctl/openstack/optdata

.PHONY: services-env optdata optdata-check

services-env:
	REGIONCTL_SERVICES_VENV='$(SERVICES_VENV)' bash tools/services-env.sh

optdata: services-env
	$(SERVICES_PY) tools/gen_optdata.py -v

optdata-check: services-env
	@set -e; \
	rel=$$($(SERVICES_PY) tools/gen_optdata.py --print-release); \
	committed=$(OPTDATA_DIR)/$$rel.json; \
	tmp=$$(mktemp "$${TMPDIR:-/tmp}/optdata.XXXXXX.json"); \
	trap 'rm -f "$$tmp"' EXIT; \
	$(SERVICES_PY) tools/gen_optdata.py -o "$$tmp"; \
	if diff -u "$$committed" "$$tmp" > "$$tmp.diff"; then \
		rm -f "$$tmp.diff"; echo "optdata-check: $$committed is up to date"; \
	else \
		head -n 200 "$$tmp.diff"; rm -f "$$tmp.diff"; \
		echo "optdata-check: $$committed differs from the services' option data (run make optdata)" >&2; \
		exit 1; \
	fi
