# backupvol: build the managed plugin from this repository and test it against a real Docker Engine.
#   make install   set up Docker if missing, build, create and enable the plugin, install bin/backupvol
#   make test      unit tests, then end-to-end tests (they create, restart and remove the plugin)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.NOTPARALLEL:
.DEFAULT_GOAL := plugin

PLUGIN ?= backupvol
REGISTRY ?= 127.0.0.1:5000
PREFIX ?= /usr/local
TEST_IMAGE ?= backupvol-test/busybox:latest

.PHONY: docker deps build rootfs plugin enable install cli test test-image test-unit test-e2e push \
	install-from-registry clean

docker:
	scripts/ensure-docker.sh >/dev/null

# npm ci only when the lockfile changed since the last one.
deps: node_modules/.deps-stamp
node_modules/.deps-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

build: deps
	npm run build

rootfs: build
	rootfs-build/build.sh

plugin: rootfs
	if docker plugin inspect $(PLUGIN) >/dev/null 2>&1; then docker plugin rm -f $(PLUGIN); fi
	docker plugin create $(PLUGIN) plugin/

enable:
	if [[ $$(docker plugin inspect -f '{{.Enabled}}' $(PLUGIN)) != true ]]; then docker plugin enable $(PLUGIN); fi

cli:
	install -D -m 0755 bin/backupvol $(DESTDIR)$(PREFIX)/bin/backupvol

install: docker plugin enable cli

test-image: docker
	scripts/make-test-image.sh $(TEST_IMAGE)

test-unit: build
	npm run test:unit

test-e2e: docker rootfs test-image
	npm run test:e2e

# Both suites run even when the first fails; the status is a failure when either failed.
test: docker rootfs test-image
	status=0; npm run test:unit || status=1; npm run test:e2e || status=1; exit $$status

push: rootfs
	scripts/push-plugin.sh $(REGISTRY)/$(PLUGIN):latest

install-from-registry: docker
	if docker plugin inspect $(PLUGIN) >/dev/null 2>&1; then docker plugin disable -f $(PLUGIN) || true; docker plugin rm -f $(PLUGIN); fi
	docker plugin install $(REGISTRY)/$(PLUGIN) --alias $(PLUGIN) --grant-all-permissions
	$(MAKE) cli

clean:
	rm -rf dist plugin .build
