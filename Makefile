# The two commands of README.md: `make demo` and `make test`. Both run the
# idempotent setup first, then build with CMake.
JOBS ?= 2
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
SHARED ?= $(abspath ../shared)

.PHONY: all setup build fuzz-build test demo bench fuzz house-models clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTANDEM_FUZZ_BIN=$(abspath $(FUZZ_BUILD))/fuzz_gguf >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# libFuzzer needs clang; this build holds only the fuzz target.
fuzz-build: setup
	@cmake -S fuzz -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS)

test: build fuzz-build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/tandem

bench: build
	@bash bench/run.sh $(BUILD)

# A long fuzz run (default 10 minutes): make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 600
fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/corpus
	@$(FUZZ_BUILD)/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_BUILD)/corpus tests/fuzz/corpus

# Reproduces corpus, tokenizer, house-large and house-small from scratch (about an hour and a half on 2 cores).
house-models: build
	@bash scripts/house_models.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
