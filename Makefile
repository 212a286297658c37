# xlb build: bpf -> native -> tsc -> abi check -> tests.  `make V=1` for full command lines.
.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/bash

V ?= 0
ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-7s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
CLANG ?= clang
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(MULTIARCH) -Wall -Werror
OUT := bpf/.output

BPF_HDRS := bpf/xlb_abi.h $(wildcard bpf/lib/*.h)
BPF_OBJS := $(OUT)/xlb.bpf.o $(OUT)/floor.bpf.o $(OUT)/lru_insert.bpf.o $(OUT)/pktgen.bpf.o $(OUT)/ceiling.bpf.o $(OUT)/sink.bpf.o $(OUT)/pump.bpf.o $(OUT)/addon_test.bpf.o $(OUT)/addon_bad.bpf.o
NATIVE := native/build/Release/xlb_native.node
# Build the addon against the headers of the node that runs it (no download).
NODEDIR := $(shell dirname $$(dirname $$(readlink -f $$(command -v node))))
TS_SRC := $(shell find src test bench -name '*.ts' 2>/dev/null)
ABI_GEN := src/dataplane/xdp/abi.gen.ts

# Debian 12 packages the build and the tests use; `make deps` installs the missing ones.
SYS_PKGS := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool iproute2 pkg-config make g++ python3 ethtool nftables util-linux openssl dnsmasq-base keepalived iputils-ping tcpdump frr

.PHONY: all build deps bpf native tsc abi abi-check test test-unit test-bpf test-fuzz test-e2e bench demo lint clean

all: build

build: deps node_modules bpf native tsc

deps:
	$(Q)missing=$$(for p in $(SYS_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing packages: $$missing (run make as root, or apt-get install them)" >&2; exit 1; fi; \
		echo "  APT     $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

node_modules: package.json package-lock.json
	$(call msg,NPM,ci)
	$(Q)npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch node_modules

bpf: $(BPF_OBJS)

$(OUT):
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: bpf/bench/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: bpf/test/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

native: $(NATIVE)

$(NATIVE): native/binding.gyp $(wildcard native/src/*.cc native/src/*.h) node_modules
	$(call msg,GYP,$@)
	$(Q)cd native && ../node_modules/.bin/node-gyp rebuild --nodedir=$(NODEDIR) --loglevel=warn >/dev/null

tsc: dist/.stamp

dist/.stamp: $(TS_SRC) tsconfig.json node_modules
	$(call msg,TSC,dist/)
	$(Q)rm -rf dist && npx tsc -p tsconfig.json && touch $@

# The generator is built on its own, so that a stale abi.gen.ts never blocks regenerating it.
GEN_ABI := $(OUT)/tools/src/tools/gen-abi.js
$(GEN_ABI): src/tools/gen-abi.ts src/dataplane/xdp/btf.ts tsconfig.tools.json node_modules | $(OUT)
	$(call msg,TSC,$@)
	$(Q)npx tsc -p tsconfig.tools.json

# Regenerate the TS codecs from the object's BTF.
abi: $(OUT)/xlb.bpf.o $(GEN_ABI)
	$(call msg,ABI,$(ABI_GEN))
	$(Q)node $(GEN_ABI) $(OUT)/xlb.bpf.o bpf/xlb_abi.h $(ABI_GEN)

# Fail when the committed codecs are not what the object's BTF gives.
abi-check: $(OUT)/xlb.bpf.o $(GEN_ABI)
	$(call msg,ABI,check)
	$(Q)node $(GEN_ABI) $(OUT)/xlb.bpf.o bpf/xlb_abi.h $(OUT)/abi.gen.ts && \
	diff -u $(ABI_GEN) $(OUT)/abi.gen.ts || { echo "$(ABI_GEN) is stale: run make abi" >&2; exit 1; }

test: build abi-check test-unit test-bpf test-fuzz test-e2e

test-unit: build
	$(call msg,TEST,unit)
	$(Q)node --test --test-reporter=spec $$(find dist/test/unit -name '*.test.js' | sort)

# Root tier: BPF_PROG_TEST_RUN against the real object, in namespaces the tests build.
# Pinned to one CPU, so that per-CPU state (next-hop cache, counters) is deterministic.
test-bpf: build
	$(call msg,TEST,bpf)
	$(Q)taskset -c 0 node --test --test-concurrency=1 --test-reporter=spec $$(find dist/test/bpf -name '*.test.js' | sort)

# Root tier: the lab (namespaces, real HTTP backends) with the daemon, serially.
test-e2e: build
	$(call msg,TEST,e2e)
	$(Q)node --test --test-concurrency=1 --test-reporter=spec $$(find dist/test/e2e -name '*.test.js' | sort)

test-fuzz: build
	$(call msg,FUZZ,1000000 packets)
	$(Q)node dist/test/fuzz/xdp-fuzz.js --packets $${FUZZ_PACKETS:-1000000}

bench: build
	$(Q)node dist/bench/run.js

demo: build
	$(Q)node dist/src/lab/demo.js

lint: abi-check
	$(Q)clang-format --dry-run -Werror bpf/*.c bpf/lib/*.h native/src/*.cc native/src/*.h 2>/dev/null || echo "clang-format not installed or style drift (advisory)"

clean:
	$(Q)rm -rf $(OUT) native/build dist
