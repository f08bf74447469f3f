# The dev loop. `make run` and `make test` are all a newcomer needs (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
MINISTACK_VENV := .venv-ministack
LOAD_VENV := .venv-load
SAM := $(SAM_VENV)/bin/sam
PY := $(VENV)/bin/python
# Every virtualenv installs from a file exported from uv.lock, each package pinned with
# its hashes (`make lock` writes them): pip refuses anything else.
PIP_FLAGS := --quiet --disable-pip-version-check --require-hashes
UV := $(VENV)/bin/uv

MINISTACK_PORT ?= 4566
STACK_NAME ?= order-choreography
SENDER_EMAIL ?= orders@shop.local
# How the emails' From and Reply-To read: "Shop <orders@shop.local>", replies to help@.
SENDER_NAME ?= Shop
REPLY_TO_EMAIL ?= help@shop.local
# Locally the simulated carrier delivers a few seconds after shipping (AWS default: 60).
DELIVERY_DELAY_SECONDS ?= 5

# The local deploy builds for this machine: MiniStack runs the functions with its
# own interpreter, so the layer's wheels must match it (AWS builds keep the
# template's defaults, arm64 and python3.13).
LOCAL_ARCH = $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
LOCAL_PY = $(shell $(MINISTACK_VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCAL_PARAMS = PythonRuntime=python$(LOCAL_PY) Architecture=$(LOCAL_ARCH) TracingEnabled=false SaveTraceQuery=false \
	SenderEmail=$(SENDER_EMAIL) SenderName=$(SENDER_NAME) ReplyToEmail=$(REPLY_TO_EMAIL) \
	DeliveryDelaySeconds=$(DELIVERY_DELAY_SECONDS)
# The web console's local server (console/serve.py); the API's CORS allows its origin only.
CONSOLE_PORT ?= 8400
LOCAL_PARAMS += HostConsole=false ConsoleOrigin=http://127.0.0.1:$(CONSOLE_PORT)
# Sample credentials for the local emulator only.
LOCAL_AWS = AWS_ENDPOINT_URL=http://127.0.0.1:$(MINISTACK_PORT) AWS_ACCESS_KEY_ID=test \
	AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
	SAM_CLI_TELEMETRY=0 STACK_NAME=$(STACK_NAME)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# ------------------------------------------------------------------ install
# A virtualenv ($(1)) from a hashed requirements file ($(2)): the pinned pip first (a new
# virtualenv's own may be too old for hashed requirements with extras), then the file.
define make_venv
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install $(PIP_FLAGS) -r requirements/pip.txt
	$(1)/bin/pip install $(PIP_FLAGS) -r $(2)
	touch $(1)/.installed
endef

$(VENV)/.installed: requirements/dev.txt requirements/pip.txt
	$(call make_venv,$(VENV),requirements/dev.txt)

$(SAM_VENV)/.installed: requirements/sam.txt requirements/pip.txt
	$(call make_venv,$(SAM_VENV),requirements/sam.txt)

$(MINISTACK_VENV)/.installed: requirements/ministack.txt requirements/pip.txt
	$(call make_venv,$(MINISTACK_VENV),requirements/ministack.txt)

$(LOAD_VENV)/.installed: requirements/load.txt requirements/pip.txt
	$(call make_venv,$(LOAD_VENV),requirements/load.txt)

.PHONY: install
install: $(VENV)/.installed $(SAM_VENV)/.installed $(MINISTACK_VENV)/.installed ## create the three virtualenvs

# pyproject.toml's dependency groups -> uv.lock -> the hashed files above and the
# layer's lambda_build/*requirements.txt (scripts/locks.py). UPGRADE=1 also moves every
# unpinned (transitive) package to its newest version.
.PHONY: lock
lock: $(VENV)/.installed ## re-resolve uv.lock from pyproject.toml's groups and export the hashed requirements files
	$(UV) lock $(if $(UPGRADE),--upgrade)
	$(PY) -m scripts.locks --write

# ------------------------------------------------------------------ local stack
.PHONY: run
run: install ## start the local mail server and MiniStack, build and deploy the stack to it, print how to use it
	scripts/ministack.sh start $(MINISTACK_PORT)
	$(MAKE) --no-print-directory deploy-local
	$(LOCAL_AWS) $(PY) -m scripts.local setup
	@$(LOCAL_AWS) console/console.sh start $(CONSOLE_PORT) $(MINISTACK_PORT)

.PHONY: deploy-local
deploy-local: install ## build and deploy the stack to the running MiniStack
	$(LOCAL_AWS) LAMBDA_ARCHITECTURE=$(LOCAL_ARCH) LAMBDA_PYTHON_VERSION=$(LOCAL_PY) \
		$(SAM) build --config-env local --parameter-overrides $(LOCAL_PARAMS)
	$(LOCAL_AWS) $(PY) -c "import boto3; boto3.client('s3').create_bucket(Bucket='sam-artifacts-local')"
	$(LOCAL_AWS) $(SAM) deploy --config-env local --stack-name $(STACK_NAME) \
		--parameter-overrides $(LOCAL_PARAMS) --no-progressbar

.PHONY: stop
stop: ## stop MiniStack (and with it the local stack), the local mail server and the console
	@console/console.sh stop $(CONSOLE_PORT)
	scripts/ministack.sh stop $(MINISTACK_PORT)

.PHONY: console
console: install ## (re)start the web console on 127.0.0.1:$(CONSOLE_PORT) against the running local stack
	@$(LOCAL_AWS) console/console.sh start $(CONSOLE_PORT) $(MINISTACK_PORT)

.PHONY: info
info: install ## print the API URL, a curl example and where the emails are
	$(LOCAL_AWS) $(PY) -m scripts.local info

.PHONY: token
token: install ## print a fresh ID token of the demo customer (EMAIL=... for another)
	@$(LOCAL_AWS) $(PY) -m scripts.local token $(EMAIL)

.PHONY: inbox
inbox: install ## print a customer's emails from the local Maildir (EMAIL=... or all; OPEN=1: newest in a browser)
	@$(PY) -m scripts.local inbox $(EMAIL) $(if $(OPEN),--open)

.PHONY: dlq
dlq: install ## how many messages wait in each dead-letter queue
	@$(LOCAL_AWS) $(PY) -m scripts.local dlq

.PHONY: redrive
redrive: install ## move DLQ messages back to their queues after a fix (QUEUE=invoice|billing|...; default all)
	@$(LOCAL_AWS) $(PY) -m scripts.local redrive $(QUEUE)

.PHONY: sweep
sweep: install ## publish every outbox entry now (the sweeper, without waiting for its schedule)
	@$(LOCAL_AWS) $(PY) -m scripts.local sweep

.PHONY: trace
trace: install ## an order's journey (events, services, hop latencies) as a waterfall from the logs (ORDER=<order id>)
	@test -n "$(ORDER)" || { echo "usage: make trace ORDER=<order id>"; exit 2; }
	@$(LOCAL_AWS) $(PY) -m scripts.trace $(ORDER) $(if $(ALL),--all)

# ------------------------------------------------------------------ generated files
# Written by the project's generators (`--write`), committed, and each checked by a contract
# test: template.yaml's consumer and operations blocks and lambda_build's recipes (from
# choreography/catalogue.py); docs/ (events catalogue, AsyncAPI, OpenAPI, JSON Schemas);
# the sample events; the requirements files exported from uv.lock.
GENERATED_FILES := template.yaml lambda_build/Makefile docs choreography/samples uv.lock requirements \
	lambda_build/requirements.txt lambda_build/invoice-requirements.txt
fingerprint = find $(GENERATED_FILES) -type f -exec sha256sum {} + | sort | sha256sum

.PHONY: generate
generate: install ## rewrite every generated file from its sources (consumer and operations blocks, docs/, sample events, lock exports)
	$(PY) -m choreography.wiring --write
	$(PY) -m scripts.operations --write
	$(PY) -m choreography.docs --write
	$(PY) -m choreography.samples --write
	$(PY) -m scripts.contracts --write
	$(PY) -m scripts.locks --write

.PHONY: generated operations
generated operations: generate ## (former names of `make generate`)

# The pre-commit hook's freshness check: regenerates, and fails when that changed a file
# (left rewritten, to review and commit) or when uv.lock no longer matches pyproject.toml.
.PHONY: check-generated
check-generated: install ## fail when a generated file was stale (it is rewritten: review and commit it)
	@$(UV) lock --check --offline --quiet || { echo "uv.lock does not match pyproject.toml: run make lock"; exit 1; }
	@before="$$($(fingerprint))"; \
	out="$$($(MAKE) --no-print-directory -s generate 2>&1)" || { echo "$$out"; exit 1; }; \
	if [ "$$before" != "$$($(fingerprint))" ]; then \
		echo "generated files were stale and are rewritten now: review and commit them"; \
		git status --short -- $(GENERATED_FILES); exit 1; \
	fi

# ------------------------------------------------------------------ quality
# Headless Chromium for the browser tests (tests/e2e/browser): Debian's package, since
# Playwright's own browser downloads are not used. Needs root (or sudo).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
.PHONY: browser
browser: ## install Debian's chromium for the browser tests (apt-get)
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
		|| { [ -z "$$CI" ] || exit 1; echo "chromium is not installed: the browser tests will be skipped"; }
	@chromium --version 2>/dev/null | head -n1 || true

.PHONY: test
test: install browser lint ## lint, then every test tier: unit, integration (moto), contract, simulation, end-to-end (MiniStack)
	$(PY) -m pytest tests --ignore=tests/e2e --ignore=tests/simulation -n 2
	$(PY) -m pytest tests/simulation -n 2
	SAM_CLI=$(abspath $(SAM)) MINISTACK_BIN=$(abspath $(MINISTACK_VENV)/bin/ministack) \
	LOCAL_ARCH=$(LOCAL_ARCH) LOCAL_PY=$(LOCAL_PY) SAM_CLI_TELEMETRY=0 \
		$(PY) -m pytest tests/e2e

.PHONY: test-fast
test-fast: install ## unit, integration, contract tests and the simulation (no emulator)
	$(PY) -m pytest tests --ignore=tests/e2e --ignore=tests/simulation -n 2
	$(PY) -m pytest tests/simulation -n 2

.PHONY: simulate
simulate: install ## the model-based simulation alone (SIMULATION_EXAMPLES=20000, SIMULATION_SEED=..., SIMULATION_REPLAY=...)
	$(PY) -m pytest tests/simulation -n 2 -p no:cacheprovider

.PHONY: bench
bench: install ## cold-start import cost and POST->SHIPPED latency, as ratios to baselines (uses/starts the local stack)
	scripts/ministack.sh start $(MINISTACK_PORT)
	@$(LOCAL_AWS) $(PY) -c "from scripts.stack import Stack; Stack.load()" 2>/dev/null \
		|| $(MAKE) --no-print-directory deploy-local
	$(LOCAL_AWS) $(PY) -m scripts.bench

# Load: CUSTOMERS concurrent customers for DURATION seconds after WARMUP unmeasured seconds,
# RATE orders/s in all (0: as fast as each customer gets an answer).
CUSTOMERS ?= 5
DURATION ?= 30
WARMUP ?= 10
RATE ?= 0

.PHONY: load
load: install $(LOAD_VENV)/.installed ## Locust load vs the null choreography on the local stack; HTML+JSON in .local/load/
	scripts/ministack.sh start $(MINISTACK_PORT)
	@$(LOCAL_AWS) $(PY) -c "from scripts.stack import Stack; Stack.load()" 2>/dev/null \
		|| $(MAKE) --no-print-directory deploy-local
	$(LOCAL_AWS) LOCAL_PY=$(LOCAL_PY) $(PY) -m bench.load.run --customers $(CUSTOMERS) --duration $(DURATION) \
		--warmup $(WARMUP) --rate $(RATE)

.PHONY: capacity
capacity: install ## docs/capacity.md's figures from the measured durations and memory, AWS quotas and prices
	@test -f .local/bench/profile.json || $(PY) -m bench.profile
	$(PY) -m bench.capacity

.PHONY: lint
lint: install ## ruff, mypy, sam validate --lint, cfn-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --region us-east-1
	$(SAM_VENV)/bin/cfn-lint template.yaml

# ------------------------------------------------------------------ AWS
.PHONY: deploy
deploy: install ## build and deploy to AWS with your credentials (samconfig.toml default env)
	$(SAM) build
	$(SAM) deploy

.PHONY: deploy-console
deploy-console: install ## upload the web console to the stack's S3 + CloudFront (deploy with HostConsole=true first)
	$(PY) -m console.publish

.PHONY: clean
clean: ## remove build output
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache
