# nemo.c build. GNU Make on purpose: one file, no generator step, wildcard sources, so a new
# module is a new folder under src/ and nothing else. See README.md for the targets.
#
#   make            release build: build/release/nemo and build/release/libnemo.a
#   make test       ASan/UBSan build, then every test (tests/run.sh prints "N passed, N failed")
#   make run        install missing Debian packages, build, run the demo
#   make MODE=asan  sanitizer build of everything

MODE ?= release
BUILD := build/$(MODE)
CC ?= cc

BASE_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude -Isrc -pthread \
               -Wall -Wextra -Werror -MMD -MP
ifeq ($(MODE),asan)
  OPT_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
  OPT_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(MODE),debug)
  OPT_CFLAGS := -O0 -g
else
  OPT_CFLAGS := -O2 -g
endif
CFLAGS_ALL = $(BASE_CFLAGS) $(OPT_CFLAGS) $(CFLAGS)
LDLIBS_ALL := -ljansson -ledit -lmicrohttpd -lm -pthread

LIB_SRCS := $(sort $(shell find src -name '*.c' -not -path 'src/backend/cuda/*'))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
# `nemo serve` (server/) links into the same binary; its chat page is embedded as a C array.
SERVER_SRCS := $(sort $(wildcard server/*.c))
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/server/web_index.o
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/unit/*.c))
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all test run deps format format-check clean tests bench-kernels
all: $(BUILD)/nemo

$(BUILD)/libnemo.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/nemo: $(CLI_OBJS) $(SERVER_OBJS) $(BUILD)/libnemo.a
	$(CC) $(OPT_LDFLAGS) -o $@ $(CLI_OBJS) $(SERVER_OBJS) $(BUILD)/libnemo.a $(LDLIBS_ALL)

$(BUILD)/server/web_index.c: server/web/index.html
	@mkdir -p $(@D)
	{ echo '/* generated from server/web/index.html by the Makefile; do not edit */'; \
	  echo 'const unsigned char nemo_web_index_html[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const unsigned int nemo_web_index_html_len = sizeof nemo_web_index_html;'; } > $@

$(BUILD)/server/web_index.o: $(BUILD)/server/web_index.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_SUPPORT_OBJS) $(BUILD)/libnemo.a
	@mkdir -p $(@D)
	$(CC) $(OPT_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJS) $(BUILD)/libnemo.a $(LDLIBS_ALL)

tests: $(TEST_BINS) $(BUILD)/nemo

# CPU matmul benchmark (bench/kernel_bench.c), not part of `make test`.
bench-kernels: $(BUILD)/bench/kernel_bench
$(BUILD)/bench/kernel_bench: $(BUILD)/bench/kernel_bench.o $(BUILD)/libnemo.a
	$(CC) $(OPT_LDFLAGS) -o $@ $< $(BUILD)/libnemo.a $(LDLIBS_ALL)

# The test suite runs under ASan/UBSan. Release-only suites (speed-sensitive) are called by
# tests/run.sh with the release binary.
test:
	bash scripts/install-deps.sh --check
	$(MAKE) format-check
	$(MAKE) MODE=asan tests
	$(MAKE) MODE=release all
	bash tests/run.sh

run:
	bash scripts/install-deps.sh
	$(MAKE) MODE=release all
	bash scripts/demo.sh

deps:
	bash scripts/install-deps.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' '*.cu' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(SERVER_OBJS:.o=.d) $(TEST_BINS:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d) $(BUILD)/bench/kernel_bench.d
