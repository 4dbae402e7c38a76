# The two commands of the README. Both install missing Debian packages first.
# `make bench-transfer` times StakeCast against libtorrent (docs/benchmarks.md).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build demo test bench-transfer clean

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/stakecast sim scenarios/quickstart.yaml --out runs/demo-quickstart
	$(BUILD_DIR)/stakecast report runs/demo-quickstart
	@echo "demo: open runs/demo-quickstart/report/index.html"

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench-transfer: build
	/usr/bin/python3 scripts/bench-transfer --stakecast $(BUILD_DIR)/stakecast

clean:
	rm -rf $(BUILD_DIR)
