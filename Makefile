# A thin layer over CMake (as neovim does). Two commands do everything
# on a fresh Debian machine:
#   make run    the main job: the quick scenario library (ek3 nightly --level
#               quick) with its JUnit, report and history, and the 84-module
#               rack at 200 kW with its report, plots and bus plan
#   make test   build and pass every test (the soaks labelled nightly aside)
# make nightly runs the nightly level (docs/nightly.md; CI shards it: ci/nightly)
# and the ctest soaks labelled nightly (raft_nightly, fwupd_nightly, ...).
# Both install missing Debian packages first (ci/install-deps).

BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
OUT     ?= out
EK3     := $(BUILD)/release/cli/ek3
FUZZ_SECONDS ?= 20
NIGHTLY_JOBS ?= 2

.PHONY: all deps build run nightly test asan tsan bench fuzz firmware vmtest freshroot clean

all: build

deps:
	@ci/install-deps

build: deps
	@cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)/release -j$(JOBS)

# The last line says how many claims hold and where the report is.
run: build
	@mkdir -p $(OUT)
	$(EK3) rack --modules 84 --load 200kW --duration 3s --report $(OUT)/rack
	@$(EK3) can busload --modules 84 --arb 1M --data 5M > $(OUT)/busplan.txt
	@echo "bus plan: $(OUT)/busplan.txt"
	$(EK3) nightly --level quick --jobs $(NIGHTLY_JOBS) --out $(OUT)/nightly --history $(OUT)/history.jsonl

nightly: build
	ctest --test-dir $(BUILD)/release --output-on-failure -j$(JOBS) -L nightly
	$(EK3) nightly --level nightly --jobs $(NIGHTLY_JOBS) --out $(OUT)/nightly --history $(OUT)/history.jsonl

test: build
	ctest --test-dir $(BUILD)/release --output-on-failure -j$(JOBS) -LE nightly

asan: deps
	@cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Asan >/dev/null
	@cmake --build $(BUILD)/asan -j$(JOBS)
	ctest --test-dir $(BUILD)/asan --output-on-failure -j$(JOBS) -LE nightly

# ThreadSanitizer over the rack's threads: ek3 built with -fsanitize=thread,
# run on two and three threads (ci/tsan-rack; Criterion cannot host TSan).
tsan: deps
	@cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Tsan >/dev/null
	@cmake --build $(BUILD)/tsan -j$(JOBS) --target ek3
	ci/tsan-rack $(BUILD)/tsan/cli/ek3

bench: build
	$(EK3) bench

# libFuzzer over every parser of outside input, FUZZ_SECONDS each.
fuzz: deps
	@cmake -S . -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=Asan -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DEK3_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)/fuzz -j$(JOBS) --target fuzz_targets
	@for f in $(BUILD)/fuzz/tests/fuzz/fuzz_*; do \
	  [ -x "$$f" ] || continue; \
	  n=$$(basename $$f); \
	  echo "fuzzing $$n for $(FUZZ_SECONDS) s"; \
	  mkdir -p $(BUILD)/fuzz/corpus/$$n; \
	  if ! "$$f" -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	      $(BUILD)/fuzz/corpus/$$n tests/fuzz/seeds/$$n > $(BUILD)/fuzz/$$n.log 2>&1; then \
	    tail -40 $(BUILD)/fuzz/$$n.log; echo "$$n FAILED (artifact in $(BUILD)/fuzz/)"; exit 1; \
	  fi; \
	  grep -E 'stat::number_of_executed_units|stat::new_units_added' $(BUILD)/fuzz/$$n.log; \
	done

# The module firmware for the STM32G474 (arm-none-eabi-gcc), and its size
# report against the seed's budget; fails when the kernel is over it.
firmware: deps
	@cmake -S . -B $(BUILD)/stm32g474 -DCMAKE_TOOLCHAIN_FILE=firmware/hal/stm32g474/toolchain.cmake \
	  -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)/stm32g474 -j$(JOBS) >/dev/null
	@cat $(BUILD)/stm32g474/firmware/hal/stm32g474/size-report.txt
	@echo "image: $(BUILD)/stm32g474/firmware/hal/stm32g474/ek3_fw.elf"

# The SocketCAN transport on a real vcan, inside a VM (ci/vcan-test):
# this host's kernel has no SocketCAN.
vmtest: build
	ci/vcan-test $(BUILD)/release/tests/vm/vcan_test $(BUILD)/release/tests/vm/rack2_test $(BUILD)/release/tests/vm/candump_test

# The README's two commands, as written there, on a fresh debootstrap
# minbase root (no make, no compiler): ci/fresh-root.
freshroot:
	ci/fresh-root

clean:
	rm -rf $(BUILD) $(OUT)
